#include <algorithm>
#include <cmath>

#include "ganengine/autograd.h"
#include "ganengine/error.h"
#include "ganengine/ops.h"
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

float checked_loss(const LossResult& r, int64_t step, const char* network) {
  GE_CHECK(r.loss.defined() && r.loss.numel() == 1, "Trainer: step ", step, ": ", network,
           " loss must be a scalar, got ",
           r.loss.defined() ? to_string(r.loss.shape()) : std::string("an undefined tensor"));
  const float loss = r.loss.item();
  if (!std::isfinite(loss))
    fail("Trainer: step ", step, ": ", network, " loss is ", non_finite_name(loss),
         "; stopping without a checkpoint (the last one stays as it was)");
  return loss;
}

// The network's total gradient norm (when `norm`); throws when a gradient holds NaN/Inf,
// naming the parameter. One device-to-host transfer for all parameters.
double checked_gradients(const nn::Module& module, const std::vector<Tensor>& params, bool norm,
                         int64_t step, const char* network) {
  NoGradGuard no_grad;
  std::vector<Tensor> sums;
  std::vector<size_t> which;
  for (size_t i = 0; i < params.size(); ++i) {
    const Tensor g = params[i].grad();
    if (!g.defined()) continue;
    // |g| sums overflow only near 3e38, so an Inf here is a real Inf (squares would overflow at
    // 1.8e19 and report a large but finite gradient as infinite).
    sums.push_back(abs(g).sum().reshape({1}));
    if (norm) sums.push_back(square(g).sum().reshape({1}));
    which.push_back(i);
  }
  if (sums.empty()) return 0;
  const std::vector<float> v = cat(sums, 0).to_vector();
  const size_t stride = norm ? 2 : 1;
  double sq = 0;
  for (size_t k = 0; k < which.size(); ++k) {
    const float abs_sum = v[k * stride];
    if (!std::isfinite(abs_sum))
      fail("Trainer: step ", step, ": ", network, " gradient is ", non_finite_name(abs_sum),
           " (parameter '", module.named_parameters()[which[k]].first,
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

// Checks the gradients of `params`, clips them when asked, and takes the Adam step.
void update(const nn::Module& module, optim::Adam& opt, const TrainOptions& options,
            LogAccumulator& logs, int64_t step, const char* network, const char* norm_name) {
  const bool clip = options.clip_grad_norm > 0.f;
  const double norm = checked_gradients(module, opt.params(), clip, step, network);
  if (clip) {
    clip_gradients(opt.params(), norm, options.clip_grad_norm);
    logs.add(norm_name, norm);
  }
  opt.step();
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

void train_step(Gan& gan, data::DataLoader& loader, TrainerState& s, const TrainOptions& o,
                int64_t number) {
  const bool conditional = gan.options().num_classes > 0;
  StepContext ctx;
  ctx.step = number - 1;
  ctx.generator = &s.rng;
  ctx.real_label = 1.f - o.label_smoothing;

  Tensor labels;  // the last real batch's, for a conditional generator step
  for (int64_t i = 0; i < s.n_critic; ++i) {
    data::Batch batch = loader.next();
    const Tensor real = batch.x.to(o.device);
    labels = conditional ? batch.labels.to(o.device) : Tensor();
    // Also drops what the previous generator step may have left in D's gradients.
    gan.discriminator().zero_grad();
    LossResult r = gan.discriminator_loss(real, labels, ctx);
    const float loss = checked_loss(r, number, "discriminator");
    r.loss.backward();
    update(gan.discriminator(), *s.opt_d, o, s.logs, number, "discriminator", "d_grad_norm");
    s.logs.add(r.logs, "d_loss", loss);
  }

  gan.generator().zero_grad();
  {
    FreezeScope freeze(s.opt_d->params());
    LossResult r = gan.generator_loss(o.batch, labels, ctx);
    const float loss = checked_loss(r, number, "generator");
    r.loss.backward();
    s.logs.add(r.logs, "g_loss", loss);
  }
  update(gan.generator(), *s.opt_g, o, s.logs, number, "generator", "g_grad_norm");
  if (gan.generator_ema()) gan.update_ema(ema_decay(s.ema_beta, ctx.step));
}

}  // namespace ge::models::train::detail

namespace ge::models::train {

float ema_decay(float ema_beta, int64_t step) {
  const float ramp = std::pow(0.5f, 20.f / static_cast<float>(step + 1));
  return std::min(ema_beta, ramp);
}

}  // namespace ge::models::train
