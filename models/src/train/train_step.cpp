#include <algorithm>
#include <cctype>
#include <cmath>

#include "ganengine/autograd.h"
#include "ganengine/error.h"
#include "ganengine/ops.h"
#include "data_parallel.h"
#include "trainer_state.h"

namespace ge::models::train::detail {
namespace {

const char* non_finite_name(double v) {
  return std::isnan(v) ? "nan" : "inf";
}

// Turns a network's parameters off requires_grad for a scope, so the generator step spends no
// work on D's weight gradients (nor leaves any behind); restores each flag after.
class FreezeScope {
 public:
  explicit FreezeScope(const std::vector<Tensor>& params) : params_(params) {
    flags_.reserve(params_.size());
    for (Tensor& p : params_) {
      flags_.push_back(p.requires_grad());
      p.requires_grad_(false);
    }
  }
  ~FreezeScope() {
    for (size_t i = 0; i < params_.size(); ++i)
      params_[i].requires_grad_(flags_[i]);
  }
  FreezeScope(const FreezeScope&) = delete;
  FreezeScope& operator=(const FreezeScope&) = delete;

 private:
  std::vector<Tensor> params_;
  std::vector<bool> flags_;
};

void check_scalar(const LossResult& r, int64_t step, const std::string& role) {
  GE_CHECK(r.loss.defined() && r.loss.numel() == 1, "Trainer: step ", step, ": ", role,
           " loss must be a scalar, got ",
           r.loss.defined() ? to_string(r.loss.shape()) : std::string("an undefined tensor"));
}

float checked_loss(float loss, int64_t step, const std::string& role) {
  if (!std::isfinite(loss))
    fail("Trainer: step ", step, ": ", role, " loss is ", non_finite_name(loss),
         "; stopping without a checkpoint (the last one stays as it was)");
  return loss;
}

// The group's total gradient norm (when `norm`); throws when a gradient holds NaN/Inf, naming
// the parameter. One device-to-host transfer for all parameters.
double checked_gradients(const GroupState& g, bool norm, int64_t step) {
  NoGradGuard no_grad;
  const std::vector<Tensor>& params = g.opt->params();
  std::vector<Tensor> sums;
  std::vector<size_t> which;
  for (size_t i = 0; i < params.size(); ++i) {
    const Tensor grad = params[i].grad();
    if (!grad.defined()) continue;
    // |g| sums overflow only near 3e38, so an Inf here is a real Inf (squares would overflow at
    // 1.8e19 and report a large but finite gradient as infinite).
    sums.push_back(abs(grad).sum().reshape({1}));
    if (norm) sums.push_back(square(grad).sum().reshape({1}));
    which.push_back(i);
  }
  if (sums.empty()) return 0;
  const std::vector<float> v = cat(sums, 0).to_vector();
  const size_t stride = norm ? 2 : 1;
  double sq = 0;
  for (size_t k = 0; k < which.size(); ++k) {
    const float abs_sum = v[k * stride];
    if (!std::isfinite(abs_sum))
      fail("Trainer: step ", step, ": ", g.spec.role, " gradient is ", non_finite_name(abs_sum),
           " (parameter '", g.param_names[which[k]],
           "'); stopping without a checkpoint (the last one stays as it was)");
    if (norm) sq += v[k * stride + 1];
  }
  return std::sqrt(sq);
}

// torch.nn.utils.clip_grad_norm_: scales the gradients so their total norm is at most max_norm.
void clip_gradients(const std::vector<Tensor>& params, double total_norm, float max_norm) {
  const double coef = max_norm / (total_norm + 1e-6);
  if (coef >= 1.0) return;
  NoGradGuard no_grad;
  for (const Tensor& p : params)
    if (Tensor g = p.grad(); g.defined()) g.mul_(static_cast<float>(coef));
}

// Checks the group's gradients, clips them when asked, takes the optimizer's step, and clips
// the weights when the group asks.
void update(GroupState& g, const TrainOptions& options, LogAccumulator& logs, int64_t step) {
  const bool clip = options.clip_grad_norm > 0.f;
  const double norm = checked_gradients(g, clip || options.log_grad_norm, step);
  if (clip) clip_gradients(g.opt->params(), norm, options.clip_grad_norm);
  if (clip || options.log_grad_norm) logs.add(g.grad_norm_log, norm);
  g.opt->step();
  if (g.spec.clip_weights > 0.f) optim::clip_weights(g.opt->params(), g.spec.clip_weights);
}

}  // namespace

void LogAccumulator::add(const std::string& name, double value) {
  auto& [sum, count] = values_[name];
  sum += value;
  ++count;
}

void LogAccumulator::add(const std::map<std::string, float>& logs, const std::string& loss_name,
                         double loss) {
  for (const auto& [name, value] : logs)
    add(name, value);
  if (logs.count(loss_name) == 0) add(loss_name, loss);
}

std::vector<std::pair<std::string, double>> LogAccumulator::means() const {
  std::vector<std::pair<std::string, double>> out;
  auto mean = [](const std::pair<double, int64_t>& v) {
    return v.first / static_cast<double>(v.second);
  };
  for (const char* first : {"d_loss", "g_loss"})
    if (auto it = values_.find(first); it != values_.end())
      out.emplace_back(first, mean(it->second));
  for (const auto& [name, v] : values_)
    if (name != "d_loss" && name != "g_loss") out.emplace_back(name, mean(v));
  return out;
}

void build_schedule(Model& model, TrainerState& s) {
  for (OptimizerGroup& spec : model.optimizer_groups(s.settings)) {
    GroupState g;
    std::vector<Tensor> params;
    for (const std::string& net : spec.networks)
      for (auto& [key, p] : model.network(net).named_parameters()) {
        params.push_back(p);
        g.param_names.push_back(net + "." + key);
      }
    if (spec.kind == OptimizerGroup::Kind::RMSprop) {
      g.opt = std::make_unique<optim::RMSprop>(std::move(params), spec.rmsprop);
    } else {
      g.opt = std::make_unique<optim::Adam>(std::move(params), spec.adam);
    }
    g.grad_norm_log = spec.name + "_grad_norm";
    for (char& c : g.grad_norm_log)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    g.spec = std::move(spec);
    if (s.shard.count > 1) g.reducer = std::make_unique<GradientReducer>(g.opt->params());
    s.groups.push_back(std::move(g));
  }
  for (GroupState& g : s.groups)
    for (const GroupState& other : s.groups)
      if (&other != &g)
        g.others.insert(g.others.end(), other.opt->params().begin(), other.opt->params().end());

  std::string names;
  for (const GroupState& g : s.groups)
    names += (names.empty() ? "" : ", ") + g.spec.name;
  for (Phase& phase : model.schedule(s.settings)) {
    GE_CHECK(phase.repeats >= 1 && phase.loss, "Trainer: phase of group '", phase.group,
             "' needs repeats >= 1 and a loss");
    size_t i = 0;
    while (i < s.groups.size() && s.groups[i].spec.name != phase.group)
      ++i;
    GE_CHECK(i < s.groups.size(), "Trainer: the schedule names optimizer group '", phase.group,
             "'; the model has ", names);
    s.phases.push_back({std::move(phase), i});
  }
}

void train_step(Model& model, const DataLoaders& loaders, TrainerState& s, const TrainOptions& o,
                int64_t number) {
  StepContext ctx;
  ctx.step = number - 1;
  ctx.generator = &s.rng;
  ctx.real_label = 1.f - o.label_smoothing;
  ctx.batch_size = o.batch;
  ctx.shard = s.shard;
  const int64_t anneal = o.instance_noise_steps > 0 ? o.instance_noise_steps : o.steps;
  ctx.instance_noise = instance_noise_std(o.instance_noise, anneal, ctx.step);
  for (GroupState& g : s.groups)
    g.opt->set_lr(g.spec.lr() * g.spec.schedule.factor(ctx.step));

  for (const PhaseState& ps : s.phases) {
    const Phase& phase = ps.spec;
    GroupState& g = s.groups[ps.group];
    for (int64_t i = 0; i < phase.repeats; ++i) {
      if (phase.draws_batch)
        for (const auto& [slot, loader] : loaders) {
          data::Batch batch = loader->next();
          batch.x = batch.x.to(o.device);
          if (batch.labels.defined()) batch.labels = batch.labels.to(o.device);
          ctx.batches[slot] = std::move(batch);
        }
      // Also drops what an earlier phase may have left in this group's gradients.
      g.opt->zero_grad();
      {
        FreezeScope freeze(g.others);
        LossResult r = phase.loss(ctx);
        check_scalar(r, number, g.spec.role);
        float loss = 0;
        if (ctx.shard.count == 1) {
          loss = checked_loss(r.loss.item(), number, g.spec.role);
          r.loss.backward();
        } else {
          // Buckets are averaged during backward; every process checks the averages, so all of
          // them stop at a NaN or none.
          g.reducer->prepare();
          r.loss.backward();
          loss = checked_loss(g.reducer->finish(r.loss), number, g.spec.role);
          r.logs[phase.loss_name] = loss;  // the global batch's; the other values are rank 0's
        }
        s.logs.add(r.logs, phase.loss_name, loss);
      }
      update(g, o, s.logs, number);
    }
  }
  model.after_step(ctx, s.settings);
  if (ctx.shard.count > 1) broadcast_buffers(model);
}

}  // namespace ge::models::train::detail

namespace ge::models::train {

float ema_decay(float ema_beta, int64_t step) {
  const float ramp = std::pow(0.5f, 20.f / static_cast<float>(step + 1));
  return std::min(ema_beta, ramp);
}

float instance_noise_std(float std, int64_t anneal_steps, int64_t step) {
  if (std <= 0.f || anneal_steps <= 0 || step >= anneal_steps) return 0.f;
  return std * (1.f - static_cast<float>(step) / static_cast<float>(anneal_steps));
}

}  // namespace ge::models::train
