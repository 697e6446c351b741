#include "ganengine/models/adversarial_gan.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "gan_layers.h"
#include "ganengine/autograd.h"
#include "ganengine/error.h"
#include "ganengine/gradient_penalty.h"
#include "ganengine/models/losses.h"
#include "ganengine/ops.h"

namespace ge::models {

namespace {

// Uniform class ids from `generator`; drawn on the CPU, which gives the same stream as CUDA.
Tensor random_labels(int64_t n, int64_t num_classes, Generator& generator, Device device) {
  std::vector<float> u = rand({n}, kCPU, &generator).to_vector();
  for (float& v : u)
    v = std::min(std::floor(v * static_cast<float>(num_classes)),
                 static_cast<float>(num_classes - 1));
  return from_vector(u, {n}, device);
}

// x + std * N(0, 1) drawn from `generator`: instance noise on what D sees; x itself at std 0.
Tensor with_instance_noise(const Tensor& x, float std, Generator& generator,
                           const StepContext& ctx) {
  if (std <= 0.f) return x;
  const Tensor noise = detail::shard_rows(ctx, x.size(0), [&](int64_t n) {
    Shape shape = x.shape();
    shape[0] = n;
    return randn(shape, x.device(), &generator);
  });
  return x + noise * std;
}

}  // namespace

LossResult AdversarialGan::discriminator_loss(const Tensor& real, const Tensor& labels,
                                              StepContext& ctx) {
  const char* who = "discriminator_loss";
  Generator& generator = detail::step_generator(who, ctx);
  GE_CHECK(real.defined() && real.dim() >= 1 && real.size(0) > 0, who,
           ": expected a real batch [N, ...] with N > 0");
  const Tensor z = detail::shard_rows(
      ctx, real.size(0), [&](int64_t n) { return sample_latent(n, generator, real.device()); });
  Tensor fake;
  {
    // D's step never differentiates through G, so G's graph is not recorded at all.
    NoGradGuard no_grad;
    fake = generate(z, labels);
  }
  const Tensor noisy_real = with_instance_noise(real, ctx.instance_noise, generator, ctx);
  const Tensor noisy_fake = with_instance_noise(fake, ctx.instance_noise, generator, ctx);
  const Tensor real_out = discriminate(noisy_real, labels);
  const Tensor fake_out = discriminate(noisy_fake, labels);
  LossResult result;
  switch (objective_) {
    case Objective::NonSaturating:
    case Objective::Minimax:
      result.loss = nonsaturating_d_loss(real_out, fake_out, ctx.real_label);
      break;
    case Objective::Hinge:
      result.loss = hinge_d_loss(real_out, fake_out);
      break;
    case Objective::Wasserstein: {
      result.loss = wasserstein_d_loss(real_out, fake_out);
      if (options_.gp_lambda > 0.f) {
        const Tensor alpha = detail::shard_rows(
            ctx, real.size(0), [&](int64_t n) { return rand({n}, real.device(), &generator); });
        const Tensor gp =
            wgan_gradient_penalty([&](const Tensor& x) { return discriminate(x, labels); },
                                  noisy_real, noisy_fake, options_.gp_lambda, alpha);
        result.logs["gp"] = gp.item();
        result.loss = result.loss + gp;
      }
      break;
    }
    case Objective::WassersteinClip:
      result.loss = wasserstein_d_loss(real_out, fake_out);
      break;
  }
  const float d_real = real_out.mean().item(), d_fake = fake_out.mean().item();
  result.logs["d_real"] = d_real;
  result.logs["d_fake"] = d_fake;
  if (objective_ == Objective::Wasserstein || objective_ == Objective::WassersteinClip)
    result.logs["wasserstein"] = d_real - d_fake;
  result.logs["d_loss"] = result.loss.item();
  return result;
}

LossResult AdversarialGan::generator_loss(int64_t batch, const Tensor& labels, StepContext& ctx) {
  const char* who = "generator_loss";
  Generator& generator = detail::step_generator(who, ctx);
  GE_CHECK(batch > 0, who, ": expected batch > 0, got ", batch);
  const Device dev = device();
  const Tensor z =
      detail::shard_rows(ctx, batch, [&](int64_t n) { return sample_latent(n, generator, dev); });
  Tensor y = labels;
  if (conditional() && !y.defined())
    y = detail::shard_rows(ctx, batch, [&](int64_t n) {
      return random_labels(n, options_.num_classes, generator, dev);
    });
  const Tensor fake = with_instance_noise(generate(z, y), ctx.instance_noise, generator, ctx);
  const Tensor out = discriminate(fake, y);
  LossResult result;
  result.loss = objective_ == Objective::NonSaturating ? nonsaturating_g_loss(out)
                : objective_ == Objective::Minimax     ? minimax_g_loss(out)
                : objective_ == Objective::Hinge       ? hinge_g_loss(out)
                                                       : wasserstein_g_loss(out);
  result.logs["g_loss"] = result.loss.item();
  return result;
}

std::vector<OptimizerGroup> AdversarialGan::optimizer_groups(const TrainSettings& s) {
  if (objective_ != Objective::WassersteinClip) return Gan::optimizer_groups(s);
  OptimizerGroup d = rmsprop_group("D", "critic", {"D"}, s.d_lr, s);
  d.clip_weights = options_.weight_clip;
  return {rmsprop_group("G", "generator", {"G"}, s.g_lr, s), std::move(d)};
}

}  // namespace ge::models
