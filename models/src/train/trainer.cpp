#include "ganengine/models/train/trainer.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>

#include "ganengine/autograd.h"
#include "ganengine/error.h"
#include "ganengine/models/train/checkpoint.h"
#include "ganengine/models/train/plots.h"
#include "ganengine/models/train/progress.h"
#include "../file_io.h"
#include "data_parallel.h"
#include "ganengine/distributed.h"
#include "ganengine/nn/batch_norm.h"
#include "metrics_log.h"
#include "trainer_state.h"

namespace ge::models::train {
namespace {

namespace fs = std::filesystem;
using detail::Clock;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// Images per second over a log interval, leaving out the time spent writing samples and
// checkpoints. Counts real images shown to D, as StyleGAN measures training progress.
class Throughput {
 public:
  void restart() {
    start_ = Clock::now();
    paused_ = 0;
    steps_ = 0;
  }
  void step() { ++steps_; }
  void pause(double seconds) { paused_ += seconds; }
  double images_per_s(int64_t images_per_step) const {
    const double dt = seconds_since(start_) - paused_;
    return dt > 0 ? static_cast<double>(steps_ * images_per_step) / dt : 0;
  }

 private:
  Clock::time_point start_ = Clock::now();
  double paused_ = 0;
  int64_t steps_ = 0;
};

ProgressState progress_state(int64_t step, int64_t total, double img_per_s, double eta,
                             const std::vector<std::pair<std::string, double>>& means) {
  ProgressState p{step, total, img_per_s, eta, {}};
  for (const auto& v : means)
    if (v.first == "d_loss" || v.first == "g_loss") p.values.push_back(v);
  return p;
}

}  // namespace

struct Trainer::State : detail::TrainerState {
  // Held while this trainer writes its output directory.
  models::detail::DirectoryLock out_lock;
};

namespace {

// The lock file of an output directory: one trainer at a time writes there, or two would
// interleave their checkpoints and metrics.
constexpr const char* kLockFile = "train.lock";

// Holds the output directory's lock for a scope, unless the trainer holds it already.
class OutDirLock {
 public:
  OutDirLock(models::detail::DirectoryLock& lock, const std::string& dir) : lock_(lock) {
    if (lock_.held()) return;
    std::error_code ec;
    fs::create_directories(dir, ec);
    GE_CHECK(!ec, "Trainer: cannot create the output directory ", dir, " (", ec.message(), ")");
    lock_ = models::detail::lock_directory("Trainer", dir, kLockFile);
    taken_ = true;
  }
  OutDirLock(const OutDirLock&) = delete;
  OutDirLock& operator=(const OutDirLock&) = delete;
  ~OutDirLock() {
    if (taken_) lock_.release();
  }

 private:
  models::detail::DirectoryLock& lock_;
  bool taken_ = false;
};

TrainSettings resolve_settings(const TrainOptions& o, const TrainDefaults& d) {
  auto pick = [](auto value, auto fallback) { return value >= 0 ? value : fallback; };
  TrainSettings s;
  s.steps = o.steps;
  s.g_lr = pick(o.g_lr, d.g_lr);
  s.d_lr = pick(o.d_lr, d.d_lr);
  s.beta1 = pick(o.beta1, d.beta1);
  s.beta2 = pick(o.beta2, d.beta2);
  s.ema_beta = pick(o.ema_beta, d.ema_beta);
  s.n_critic = o.n_critic > 0 ? o.n_critic : d.n_critic;
  s.lr_decay_steps = pick(o.lr_decay_steps, d.lr_decay_steps < 0 ? o.steps / 2 : d.lr_decay_steps);
  GE_CHECK(s.ema_beta <= 1.f, "Trainer: expected ema_beta in [0, 1], got ", s.ema_beta);
  GE_CHECK(s.n_critic >= 1, "Trainer: expected n_critic >= 1, got ", s.n_critic);
  GE_CHECK(s.lr_decay_steps <= s.steps, "Trainer: lr_decay_steps ", s.lr_decay_steps,
           " exceeds the run's ", s.steps, " steps");
  return s;
}

// Every loader matches a data slot of the model and holds what the slot needs, on this process's
// shard of a data-parallel run.
void check_data(const Model& model, const DataLoaders& loaders, int64_t batch,
                const data::Shard& shard) {
  const GanOptions& go = model.options();
  const std::vector<DataSlot> slots = model.data_slots();
  std::string names;
  for (const DataSlot& slot : slots)
    names += (names.empty() ? "'" : ", '") + slot.name + "'";
  GE_CHECK(loaders.size() == slots.size(), "Trainer: model '", go.arch, "' reads data slots ",
           names, " but ", loaders.size(), " loader(s) were given");
  for (const DataSlot& slot : slots) {
    auto it = loaders.find(slot.name);
    GE_CHECK(it != loaders.end() && it->second != nullptr, "Trainer: model '", go.arch,
             "' reads data slots ", names, "; no loader for '", slot.name, "' (", slot.role, ")");
    const data::DataLoader& loader = *it->second;
    GE_CHECK(batch == loader.batch_size(), "Trainer: options.batch is ", batch, " but the ",
             slot.role, " loader's batch size is ", loader.batch_size());
    GE_CHECK(loader.shard().index == shard.index && loader.shard().count == shard.count,
             "Trainer: this is process ", shard.index, " of ", shard.count, " but the ", slot.role,
             " loader reads shard ", loader.shard().index, " of ", loader.shard().count,
             " (make it with data::Shard{rank, world size})");
    const data::Dataset& ds = loader.dataset();
    GE_CHECK(ds.sample_shape() == slot.sample_shape, "Trainer: data set '", ds.name(),
             "' has samples ", to_string(ds.sample_shape()), " but model '", go.arch, "' expects ",
             to_string(slot.sample_shape), " for its ", slot.role);
    if (slot.needs_labels) {
      GE_CHECK(ds.num_classes() > 0, "Trainer: model '", go.arch, "' is conditional (",
               go.num_classes, " classes) but data set '", ds.name(), "' has no labels");
      GE_CHECK(ds.num_classes() <= go.num_classes, "Trainer: data set '", ds.name(), "' has ",
               ds.num_classes(), " classes but model '", go.arch, "' only ", go.num_classes);
    }
  }
}

}  // namespace

Trainer::Trainer(Model& model, data::DataLoader& loader, TrainOptions options)
    : Trainer(
          model,
          DataLoaders{{model.data_slots().empty() ? std::string() : model.data_slots().front().name,
                       &loader}},
          std::move(options)) {}

Trainer::Trainer(Model& model, DataLoaders loaders, TrainOptions options)
    : model_(model),
      loaders_(std::move(loaders)),
      options_(std::move(options)),
      state_(std::make_shared<State>()) {
  const TrainOptions& o = options_;
  GE_CHECK(o.steps >= 0, "Trainer: expected steps >= 0, got ", o.steps);
  GE_CHECK(o.log_every >= 1, "Trainer: expected log_every >= 1, got ", o.log_every);
  GE_CHECK(o.grid_size >= 1, "Trainer: expected grid_size >= 1, got ", o.grid_size);
  GE_CHECK(o.label_smoothing >= 0.f && o.label_smoothing < 1.f,
           "Trainer: expected label_smoothing in [0, 1), got ", o.label_smoothing);
  GE_CHECK(o.clip_grad_norm >= 0.f, "Trainer: expected clip_grad_norm >= 0 (0: off), got ",
           o.clip_grad_norm);
  GE_CHECK(o.instance_noise >= 0.f && o.instance_noise_steps >= 0,
           "Trainer: expected instance_noise >= 0 and instance_noise_steps >= 0, got ",
           o.instance_noise, " and ", o.instance_noise_steps);
  GE_CHECK(o.instance_noise == 0.f || model_.supports_instance_noise(), "Trainer: model '",
           model_.options().arch,
           "' takes no instance noise (the GANs built on one adversarial loss do: dcgan, cgan, "
           "wgan, wgan-gp, sngan and the MLP GANs); expected instance_noise 0, got ",
           o.instance_noise);
  GE_CHECK(o.n_critic != 0, "Trainer: expected n_critic >= 1 (negative: the default), got 0");
  GE_CHECK(!o.device.is_cuda() || cuda_is_available(), "Trainer: device ", o.device.str(),
           " requested but CUDA is not available in this build or on this machine");
  State& s = *state_;
  s.shard = detail::process_shard();
  check_data(model_, loaders_, o.batch, s.shard);

  s.settings = resolve_settings(o, model_.train_defaults());
  model_.to(o.device);
  if (o.sync_bn)
    for (auto& [name, net] : model_.networks())
      nn::convert_sync_batchnorm(*net);
  detail::broadcast_model(model_);
  s.rng.manual_seed(o.seed);
  detail::build_schedule(model_, s);
  SamplerInputs in;
  for (const auto& [slot, loader] : loaders_)
    in.datasets[slot] = &loader->dataset();
  in.grid_size = o.grid_size;
  in.seed = o.seed;
  in.device = o.device;
  s.samples = model_.make_sampler(in);
}

void Trainer::run() {
  State& s = *state_;
  const TrainOptions& o = options_;
  // Rank 0 writes out_dir; the other processes of a data-parallel run only read it on resume.
  const bool writer = s.shard.index == 0;
  std::error_code ec;
  // Nothing to resume: the error comes before anything is created.
  if (o.resume && !s.resumed && !fs::is_directory(o.out_dir, ec)) load_checkpoint();
  std::optional<OutDirLock> lock;
  if (writer) {
    lock.emplace(s.out_lock, o.out_dir);
    recover_checkpoint(o.out_dir);
  }
  if (s.shard.count > 1) distributed::barrier();  // the others read what recovery left
  if (o.resume && !s.resumed) load_checkpoint();
  const fs::path out(o.out_dir);
  const std::string metrics_path = (out / "metrics.jsonl").string();
  std::optional<MetricsLog> metrics, evals;
  if (writer) {
    fs::create_directories(out / "samples", ec);
    GE_CHECK(!ec, "Trainer: cannot create ", (out / "samples").string(), " (", ec.message(), ")");
    // A resumed (or repeated) run keeps the lines of the steps it already has.
    metrics.emplace(metrics_path, step_ > 0 ? std::optional<int64_t>(step_) : std::nullopt);
    if (o.eval_every > 0 && evaluator_)
      evals.emplace((out / "eval.jsonl").string(),
                    step_ > 0 ? std::optional<int64_t>(step_) : std::nullopt);
  }
  ProgressBar bar(o.progress && writer);

  s.run_start = Clock::now();
  const int64_t first_step = step_;
  int64_t images_per_step = 0;  // real samples drawn per step and data slot, by all processes
  for (const detail::PhaseState& phase : s.phases)
    if (phase.spec.draws_batch) images_per_step += phase.spec.repeats * o.batch * s.shard.count;
  Throughput throughput;
  Clock::time_point last_draw{};
  while (step_ < o.steps) {
    detail::train_step(model_, loaders_, s, o, step_ + 1);
    ++step_;
    throughput.step();
    if (!writer) {
      s.logs.clear();  // rank 0 logs; the others keep nothing
      continue;
    }

    const double run_seconds = seconds_since(*s.run_start);
    const double eta = run_seconds / static_cast<double>(step_ - first_step) *
                       static_cast<double>(o.steps - step_);
    if (step_ % o.log_every == 0 || step_ == o.steps) {
      const double img_per_s = throughput.images_per_s(images_per_step);
      const auto means = s.logs.means();
      metrics->write(step_, s.elapsed_before + run_seconds, img_per_s, means);
      bar.update(progress_state(step_, o.steps, img_per_s, eta, means), true);
      s.logs.clear();
      throughput.restart();
      last_draw = Clock::now();
    } else if (bar.interactive() && seconds_since(last_draw) > 0.1) {
      bar.update(progress_state(step_, o.steps, throughput.images_per_s(images_per_step), eta,
                                s.logs.means()),
                 false);
      last_draw = Clock::now();
    }

    const auto io_start = Clock::now();
    if (o.sample_every > 0 && step_ % o.sample_every == 0) {
      char name[32];
      std::snprintf(name, sizeof name, "step_%06lld.png", static_cast<long long>(step_));
      s.samples->write((out / "samples" / name).string());
    }
    if (evals && step_ % o.eval_every == 0) {
      ModelEvalGuard eval_mode(model_);
      evals->write_report(step_, evaluator_(model_));
    }
    if (o.checkpoint_every > 0 && step_ % o.checkpoint_every == 0 && step_ < o.steps)
      save_checkpoint();
    throughput.pause(seconds_since(io_start));
  }
  bar.finish();
  if (!writer) return;
  save_checkpoint();
  s.samples->write((out / "samples" / "final.png").string());
  save_loss_curve((out / "loss_curve.png").string(), read_loss_history(metrics_path));
}

void Trainer::save_checkpoint() {
  State& s = *state_;
  if (s.shard.index != 0) return;
  OutDirLock lock(s.out_lock, options_.out_dir);
  std::map<std::string, Tensor> tensors;
  for (auto& [name, m] : model_.networks())
    for (auto& [key, t] : m->state_dict())
      tensors.emplace(name + "." + key, t);
  for (auto& [key, t] : model_.extra_state())
    tensors.emplace("state." + key, t);

  CheckpointRecord r;
  for (const detail::GroupState& g : s.groups) {
    const std::string prefix = "opt." + g.spec.name + ".";
    for (const auto& [buffer, values] : g.opt->state_buffers())
      for (size_t i = 0; i < values.size(); ++i)
        tensors.emplace(prefix + buffer + "." + std::to_string(i), values[i]);
    r.optimizers[g.spec.name] = {g.opt->steps(), g.opt->param_steps(), g.spec.lr(),
                                 g.spec.schedule};
  }
  r.step = step_;
  r.rng_seed = s.rng.seed();
  r.rng_offset = s.rng.offset();
  for (const auto& [slot, loader] : loaders_)
    r.loaders[slot] = loader->state();
  r.batch = options_.batch;
  r.world_size = s.shard.count;
  r.elapsed_s = s.elapsed_before;
  if (s.run_start)
    r.elapsed_s += std::chrono::duration<double>(Clock::now() - *s.run_start).count();
  r.gan_options = model_.options();
  r.train_options = options_;
  write_checkpoint(options_.out_dir, tensors, r);
}

namespace {

// The schedules agree when they give every step the same rate.
bool same_rates(const LrSchedule& a, const LrSchedule& b) {
  return (a.decay_steps == 0 && b.decay_steps == 0) || a == b;
}

void check_networks(Model& model, const std::map<std::string, Tensor>& tensors,
                    const std::string& file) {
  for (auto& [name, m] : model.networks())
    check_module_state(*m, tensors, name + ".", file);
}

// The networks' state, every network checked before any is copied.
void load_networks(Model& model, const std::map<std::string, Tensor>& tensors,
                   const std::string& file) {
  check_networks(model, tensors, file);
  for (auto& [name, m] : model.networks())
    load_module_state(*m, tensors, name + ".", file);
}

}  // namespace

void Trainer::load_checkpoint() {
  State& s = *state_;
  const std::string dir = options_.out_dir;
  const std::string json_path = (fs::path(dir) / kCheckpointJson).string();
  const std::string file = (fs::path(dir) / kCheckpointTensors).string();
  const CheckpointRecord r = read_checkpoint(dir);
  const std::string ours = model_.options().to_json(), theirs = r.gan_options.to_json();
  GE_CHECK(ours == theirs, json_path, ": the checkpoint's model options ", theirs,
           " differ from this run's ", ours);
  GE_CHECK(r.batch == options_.batch, json_path, ": the checkpoint was trained with batch ",
           r.batch, ", this run has batch ", options_.batch,
           " (the data order would not continue)");
  GE_CHECK(r.world_size == s.shard.count, json_path, ": the checkpoint was trained on ",
           r.world_size, " process(es), this run has ", s.shard.count,
           " (the data order would not continue)");
  for (const auto& [slot, loader] : loaders_)
    GE_CHECK(r.loaders.count(slot), json_path, ": no loader state for data slot '", slot, "'");

  const std::map<std::string, Tensor> tensors = read_checkpoint_tensors(dir);
  // Check everything before copying anything, so a bad checkpoint leaves the model as it was.
  check_networks(model_, tensors, file);
  std::vector<std::pair<Tensor, Tensor>> copies;  // (destination, source)
  for (const detail::GroupState& g : s.groups) {
    const std::string prefix = "opt." + g.spec.name + ".";
    auto rec = r.optimizers.find(g.spec.name);
    GE_CHECK(rec != r.optimizers.end(), json_path, ": no state for optimizer group '", g.spec.name,
             "'");
    const std::vector<Tensor>& params = g.opt->params();
    GE_CHECK(rec->second.param_steps.size() == params.size(), json_path, ": '", prefix,
             "' has step counts for ", rec->second.param_steps.size(),
             " parameters, the model has ", params.size());
    if (rec->second.schedule)
      GE_CHECK(same_rates(*rec->second.schedule, g.spec.schedule), json_path, ": optimizer group '",
               g.spec.name, "' was scheduled to decay over the last ",
               rec->second.schedule->decay_steps, " of ", rec->second.schedule->total_steps,
               " steps; this run decays over the last ", g.spec.schedule.decay_steps, " of ",
               g.spec.schedule.total_steps, " (keep --steps and --lr-decay-steps on resume)");
    for (const auto& [buffer, values] : g.opt->state_buffers())
      for (size_t i = 0; i < values.size(); ++i) {
        const std::string key = prefix + buffer + "." + std::to_string(i);
        auto it = tensors.find(key);
        GE_CHECK(it != tensors.end(), file, ": missing tensor '", key, "'");
        const Tensor& dst = values[i];
        GE_CHECK(it->second.shape() == dst.shape(), file, ": tensor '", key, "' has shape ",
                 to_string(it->second.shape()), ", the parameter has ", to_string(dst.shape()));
        copies.emplace_back(dst, it->second);
      }
  }
  // The model checks its extra state before it changes anything; it goes last among the checks
  // and first among the changes.
  model_.load_extra_state(entries_with_prefix(tensors, "state."), file);
  load_networks(model_, tensors, file);
  {
    NoGradGuard no_grad;
    for (auto& [dst, src] : copies)
      dst.copy_(src);
  }
  for (detail::GroupState& g : s.groups) {
    const OptimizerRecord& rec = r.optimizers.at(g.spec.name);
    g.opt->set_counters(rec.steps, rec.param_steps);
  }
  s.rng.manual_seed(r.rng_seed);
  s.rng.set_offset(r.rng_offset);
  for (const auto& [slot, loader] : loaders_)
    loader->set_state(r.loaders.at(slot));
  step_ = r.step;
  s.elapsed_before = r.elapsed_s;
  s.resumed = true;
}

std::unique_ptr<Model> load_model(const std::string& out_dir, Device device) {
  const CheckpointRecord r = read_checkpoint(out_dir);
  const std::string file = (fs::path(out_dir) / kCheckpointTensors).string();
  Generator init(r.train_options.seed);
  std::unique_ptr<Model> model = make_model(r.gan_options, init);
  model->to(device);
  const std::map<std::string, Tensor> tensors = read_checkpoint_tensors(out_dir);
  // The model's state beside its networks too: a progan samples at the stage it reached.
  model->load_extra_state(entries_with_prefix(tensors, "state."), file);
  load_networks(*model, tensors, file);
  return model;
}

std::unique_ptr<Gan> load_gan(const std::string& out_dir, Device device) {
  return as_gan(load_model(out_dir, device), out_dir);
}

}  // namespace ge::models::train
