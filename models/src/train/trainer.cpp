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

struct Trainer::State : detail::TrainerState {};

Trainer::Trainer(Gan& gan, data::DataLoader& loader, TrainOptions options)
    : gan_(gan), loader_(loader), options_(std::move(options)), state_(std::make_shared<State>()) {
  const TrainOptions& o = options_;
  GE_CHECK(o.steps >= 0, "Trainer: expected steps >= 0, got ", o.steps);
  GE_CHECK(o.batch == loader_.batch_size(), "Trainer: options.batch is ", o.batch,
           " but the data loader's batch size is ", loader_.batch_size());
  GE_CHECK(o.log_every >= 1, "Trainer: expected log_every >= 1, got ", o.log_every);
  GE_CHECK(o.grid_size >= 1, "Trainer: expected grid_size >= 1, got ", o.grid_size);
  GE_CHECK(o.label_smoothing >= 0.f && o.label_smoothing < 1.f,
           "Trainer: expected label_smoothing in [0, 1), got ", o.label_smoothing);
  GE_CHECK(o.clip_grad_norm >= 0.f, "Trainer: expected clip_grad_norm >= 0 (0: off), got ",
           o.clip_grad_norm);
  GE_CHECK(o.n_critic != 0, "Trainer: expected n_critic >= 1 (negative: the default), got 0");
  GE_CHECK(!o.device.is_cuda() || cuda_is_available(), "Trainer: device ", o.device.str(),
           " requested but CUDA is not available in this build or on this machine");

  const GanOptions& go = gan_.options();
  const data::Dataset& ds = loader_.dataset();
  const Shape expected =
      go.channels == 0 ? Shape{2} : Shape{go.channels, go.resolution, go.resolution};
  GE_CHECK(ds.sample_shape() == expected, "Trainer: data set '", ds.name(), "' has samples ",
           to_string(ds.sample_shape()), " but model '", go.arch, "' expects ",
           to_string(expected));
  if (go.num_classes > 0) {
    GE_CHECK(ds.num_classes() > 0, "Trainer: model '", go.arch, "' is conditional (",
             go.num_classes, " classes) but data set '", ds.name(), "' has no labels");
    GE_CHECK(ds.num_classes() <= go.num_classes, "Trainer: data set '", ds.name(), "' has ",
             ds.num_classes(), " classes but model '", go.arch, "' only ", go.num_classes);
  }

  const TrainDefaults d = gan_.train_defaults();
  auto pick = [](float value, float fallback) { return value >= 0.f ? value : fallback; };
  optim::AdamOptions g_adam, d_adam;
  g_adam.lr = pick(o.g_lr, d.g_lr);
  d_adam.lr = pick(o.d_lr, d.d_lr);
  g_adam.beta1 = d_adam.beta1 = pick(o.beta1, d.beta1);
  g_adam.beta2 = d_adam.beta2 = pick(o.beta2, d.beta2);
  State& s = *state_;
  s.ema_beta = pick(o.ema_beta, d.ema_beta);
  s.n_critic = o.n_critic > 0 ? o.n_critic : d.n_critic;
  GE_CHECK(s.ema_beta <= 1.f, "Trainer: expected ema_beta in [0, 1], got ", s.ema_beta);
  GE_CHECK(s.n_critic >= 1, "Trainer: expected n_critic >= 1, got ", s.n_critic);

  gan_.to(o.device);
  s.rng.manual_seed(o.seed);
  s.opt_g = std::make_unique<optim::Adam>(gan_.generator().parameters(), g_adam);
  s.opt_d = std::make_unique<optim::Adam>(gan_.discriminator().parameters(), d_adam);
  s.samples = std::make_unique<SampleWriter>(gan_, ds, o.grid_size, o.seed, o.device);
}

void Trainer::run() {
  State& s = *state_;
  const TrainOptions& o = options_;
  if (o.resume && !s.resumed) load_checkpoint();
  const fs::path out(o.out_dir);
  std::error_code ec;
  fs::create_directories(out / "samples", ec);
  GE_CHECK(!ec, "Trainer: cannot create ", (out / "samples").string(), " (", ec.message(), ")");
  const std::string metrics_path = (out / "metrics.jsonl").string();
  // A resumed (or repeated) run keeps the lines of the steps it already has.
  MetricsLog metrics(metrics_path, step_ > 0 ? std::optional<int64_t>(step_) : std::nullopt);
  std::optional<MetricsLog> evals;
  if (o.eval_every > 0 && evaluator_)
    evals.emplace((out / "eval.jsonl").string(),
                  step_ > 0 ? std::optional<int64_t>(step_) : std::nullopt);
  ProgressBar bar(o.progress);

  s.run_start = Clock::now();
  const int64_t first_step = step_;
  const int64_t images_per_step = s.n_critic * o.batch;
  Throughput throughput;
  Clock::time_point last_draw{};
  while (step_ < o.steps) {
    detail::train_step(gan_, loader_, s, o, step_ + 1);
    ++step_;
    throughput.step();

    const double run_seconds = seconds_since(*s.run_start);
    const double eta = run_seconds / static_cast<double>(step_ - first_step) *
                       static_cast<double>(o.steps - step_);
    if (step_ % o.log_every == 0 || step_ == o.steps) {
      const double img_per_s = throughput.images_per_s(images_per_step);
      const auto means = s.logs.means();
      metrics.write(step_, s.elapsed_before + run_seconds, img_per_s, means);
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
      nn::EvalModeGuard g(&gan_.generator()), g_ema(gan_.generator_ema());
      evals->write_report(step_, evaluator_(gan_));
    }
    if (o.checkpoint_every > 0 && step_ % o.checkpoint_every == 0 && step_ < o.steps)
      save_checkpoint();
    throughput.pause(seconds_since(io_start));
  }
  bar.finish();
  save_checkpoint();
  s.samples->write((out / "samples" / "final.png").string());
  save_loss_curve((out / "loss_curve.png").string(), read_loss_history(metrics_path));
}

void Trainer::save_checkpoint() {
  State& s = *state_;
  std::map<std::string, Tensor> tensors;
  auto add_module = [&](const nn::Module& m, const std::string& prefix) {
    for (auto& [key, t] : m.state_dict())
      tensors.emplace(prefix + key, t);
  };
  auto add_optimizer = [&](const optim::Adam& opt, const std::string& prefix) {
    for (size_t i = 0; i < opt.params().size(); ++i) {
      tensors.emplace(prefix + "exp_avg." + std::to_string(i), opt.exp_avg()[i]);
      tensors.emplace(prefix + "exp_avg_sq." + std::to_string(i), opt.exp_avg_sq()[i]);
    }
  };
  add_module(gan_.generator(), "G.");
  add_module(gan_.discriminator(), "D.");
  if (nn::Module* ema = gan_.generator_ema()) add_module(*ema, "G_ema.");
  add_optimizer(*s.opt_g, "opt.G.");
  add_optimizer(*s.opt_d, "opt.D.");

  CheckpointRecord r;
  r.step = step_;
  r.rng_seed = s.rng.seed();
  r.rng_offset = s.rng.offset();
  r.loader = loader_.state();
  r.batch = loader_.batch_size();
  r.opt_g = {s.opt_g->steps(), s.opt_g->param_steps()};
  r.opt_d = {s.opt_d->steps(), s.opt_d->param_steps()};
  r.elapsed_s = s.elapsed_before;
  if (s.run_start)
    r.elapsed_s += std::chrono::duration<double>(Clock::now() - *s.run_start).count();
  r.gan_options = gan_.options();
  r.train_options = options_;
  write_checkpoint(options_.out_dir, tensors, r);
}

void Trainer::load_checkpoint() {
  State& s = *state_;
  const std::string dir = options_.out_dir;
  const std::string json_path = (fs::path(dir) / kCheckpointJson).string();
  const std::string file = (fs::path(dir) / kCheckpointTensors).string();
  const CheckpointRecord r = read_checkpoint(dir);
  const std::string ours = gan_.options().to_json(), theirs = r.gan_options.to_json();
  GE_CHECK(ours == theirs, json_path, ": the checkpoint's model options ", theirs,
           " differ from this run's ", ours);
  GE_CHECK(r.batch == loader_.batch_size(), json_path, ": the checkpoint was trained with batch ",
           r.batch, ", this run has batch ", loader_.batch_size(),
           " (the data order would not continue)");

  const std::map<std::string, Tensor> tensors = read_checkpoint_tensors(dir);
  // Check everything before copying anything, so a bad checkpoint leaves the model as it was.
  std::vector<std::pair<nn::Module*, std::string>> modules = {{&gan_.generator(), "G."},
                                                              {&gan_.discriminator(), "D."}};
  if (nn::Module* ema = gan_.generator_ema()) modules.emplace_back(ema, "G_ema.");
  for (auto& [m, prefix] : modules)
    check_module_state(*m, tensors, prefix, file);
  auto optimizer_tensors = [&](const optim::Adam& opt, const OptimizerRecord& rec,
                               const std::string& prefix) {
    GE_CHECK(rec.param_steps.size() == opt.params().size(), json_path, ": '", prefix,
             "' has step counts for ", rec.param_steps.size(), " parameters, the model has ",
             opt.params().size());
    std::vector<std::pair<Tensor, Tensor>> copies;  // (destination, source)
    for (size_t i = 0; i < opt.params().size(); ++i)
      for (const char* kind : {"exp_avg.", "exp_avg_sq."}) {
        const std::string key = prefix + kind + std::to_string(i);
        auto it = tensors.find(key);
        GE_CHECK(it != tensors.end(), file, ": missing tensor '", key, "'");
        const Tensor& dst =
            std::string(kind) == "exp_avg." ? opt.exp_avg()[i] : opt.exp_avg_sq()[i];
        GE_CHECK(it->second.shape() == dst.shape(), file, ": tensor '", key, "' has shape ",
                 to_string(it->second.shape()), ", the parameter has ", to_string(dst.shape()));
        copies.emplace_back(dst, it->second);
      }
    return copies;
  };
  auto g_copies = optimizer_tensors(*s.opt_g, r.opt_g, "opt.G.");
  auto d_copies = optimizer_tensors(*s.opt_d, r.opt_d, "opt.D.");

  for (auto& [m, prefix] : modules)
    load_module_state(*m, tensors, prefix, file);
  {
    NoGradGuard no_grad;
    for (auto* copies : {&g_copies, &d_copies})
      for (auto& [dst, src] : *copies)
        dst.copy_(src);
  }
  s.opt_g->set_counters(r.opt_g.steps, r.opt_g.param_steps);
  s.opt_d->set_counters(r.opt_d.steps, r.opt_d.param_steps);
  s.rng.manual_seed(r.rng_seed);
  s.rng.set_offset(r.rng_offset);
  loader_.set_state(r.loader);
  step_ = r.step;
  s.elapsed_before = r.elapsed_s;
  s.resumed = true;
}

std::unique_ptr<Gan> load_gan(const std::string& out_dir, Device device) {
  const CheckpointRecord r = read_checkpoint(out_dir);
  const std::string file = (fs::path(out_dir) / kCheckpointTensors).string();
  Generator init(r.train_options.seed);
  std::unique_ptr<Gan> gan = make_gan(r.gan_options, init);
  gan->to(device);
  const std::map<std::string, Tensor> tensors = read_checkpoint_tensors(out_dir);
  std::vector<std::pair<nn::Module*, std::string>> modules = {{&gan->generator(), "G."},
                                                              {&gan->discriminator(), "D."}};
  if (nn::Module* ema = gan->generator_ema()) modules.emplace_back(ema, "G_ema.");
  for (auto& [m, prefix] : modules)
    check_module_state(*m, tensors, prefix, file);
  for (auto& [m, prefix] : modules)
    load_module_state(*m, tensors, prefix, file);
  return gan;
}

}  // namespace ge::models::train
