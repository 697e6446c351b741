#pragma once
// Shared checks for the architecture tests: tiny options per device, gradient reach, a short
// Adam run, and plain-double references for the logistic terms.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "ganengine/models/adversarial_gan.h"
#include "ganengine/models/gan.h"
#include "ganengine/ops.h"
#include "ganengine/optim.h"
#include "support/devices.h"
#include "support/reference.h"

namespace ge::models::gantest {

using ge::testing::all_close;
using ge::testing::error_of;

// Small enough for the CUDA emulator; on the CPU one size up, so D has a batch-norm layer.
inline GanOptions tiny_options(const std::string& arch, Device device) {
  GanOptions o;
  o.arch = arch;
  const bool points = arch.size() > 4 && arch.substr(arch.size() - 4) == "-mlp";
  o.channels = points ? 0 : 1;
  o.resolution = device.is_cuda() ? 8 : 16;
  o.width = points ? 8 : 4;
  o.latent_dim = 8;
  return o;
}

inline int64_t tiny_batch(Device device) {
  return device.is_cuda() ? 2 : 4;
}

// Points are cheap, and a piecewise-linear critic whose units all keep one sign over a tiny batch
// is affine there, which leaves the Wasserstein loss without bias gradients: a wider batch.
inline int64_t step_batch(const GanOptions& o, Device device) {
  return o.channels == 0 ? 16 : tiny_batch(device);
}

// A real batch of the model's sample shape from its own stream: images in [-1, 1), points in
// [-4, 4)^2 (the span of the 25-Gaussian grid).
inline Tensor fake_real_batch(const GanOptions& o, int64_t n, Device device, uint64_t seed = 7) {
  Generator g(seed);
  if (o.channels == 0) return rand({n, 2}, device, &g) * 8.f - 4.f;
  return rand({n, o.channels, o.resolution, o.resolution}, device, &g) * 2.f - 1.f;
}

inline double softplus_ref(double x) {
  return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
}

// The Wasserstein and hinge D losses do not depend on D's output bias (the Wasserstein loss
// exactly, the hinge loss while every sample sits inside the margins, as at initialisation): its
// gradient is exactly zero there. The name of that parameter, or "" when none is exempt.
inline std::string output_bias_without_gradient(Gan& gan) {
  const auto* adversarial = dynamic_cast<const AdversarialGan*>(&gan);
  if (!adversarial || adversarial->objective() == Objective::NonSaturating) return "";
  // The output layer owns D's last parameter (spectral norm moves weight_orig behind the bias).
  const std::string last = gan.discriminator().named_parameters().back().first;
  const std::string bias = last.substr(0, last.rfind('.')) + ".bias";
  for (const auto& [name, p] : gan.discriminator().named_parameters())
    if (name == bias) return bias;
  return "";
}

// Every parameter of `net` but `exempt` has a gradient with a non-zero entry.
inline void expect_all_grads_nonzero(const nn::Module& net, const std::string& what,
                                     const std::string& exempt = "") {
  for (const auto& [name, p] : net.named_parameters()) {
    if (name == exempt) continue;
    const Tensor g = p.grad();
    ASSERT_TRUE(g.defined()) << what << ": no gradient reached " << name;
    double m = 0;
    for (float v : g.to_vector()) {
      ASSERT_TRUE(std::isfinite(v)) << what << ": non-finite gradient in " << name;
      m = std::max(m, static_cast<double>(std::fabs(v)));
    }
    EXPECT_GT(m, 0.0) << what << ": gradient of " << name << " is all zero";
  }
}

// D's loss reaches every D parameter; G's loss every G parameter.
inline void expect_gradients_reach_every_parameter(Gan& gan, Device device) {
  const GanOptions& o = gan.options();
  const int64_t n = step_batch(o, device);
  const Tensor real = fake_real_batch(o, n, device);
  const Tensor labels = gan.sample_labels(n, device);
  Generator gen(11);
  StepContext ctx;
  ctx.generator = &gen;
  gan.discriminator().zero_grad();
  gan.discriminator_loss(real, labels, ctx).loss.backward();
  expect_all_grads_nonzero(gan.discriminator(), o.arch + " D", output_bias_without_gradient(gan));
  gan.generator().zero_grad();
  gan.generator_loss(n, labels, ctx).loss.backward();
  expect_all_grads_nonzero(gan.generator(), o.arch + " G");
}

inline std::map<std::string, std::vector<float>> snapshot(const nn::Module& net) {
  std::map<std::string, std::vector<float>> out;
  for (const auto& [name, p] : net.named_parameters())
    out[name] = p.to_vector();
  return out;
}

// `steps` alternating D/G Adam steps with the architecture's defaults: losses finite, every
// parameter moved.
// The architecture's Adam settings for one network (learning rate `lr`, its betas).
inline optim::AdamOptions adam_options(const TrainDefaults& t, float lr) {
  optim::AdamOptions a;
  a.lr = lr;
  a.beta1 = t.beta1;
  a.beta2 = t.beta2;
  return a;
}

inline void smoke_train(Gan& gan, Device device, int steps = 3) {
  const GanOptions& o = gan.options();
  const TrainDefaults t = gan.train_defaults();
  optim::Adam adam_d(gan.discriminator().parameters(), adam_options(t, t.d_lr));
  optim::Adam adam_g(gan.generator().parameters(), adam_options(t, t.g_lr));
  const auto g_before = snapshot(gan.generator());
  const auto d_before = snapshot(gan.discriminator());
  const int64_t n = step_batch(o, device);
  Generator gen(21);
  StepContext ctx;
  ctx.generator = &gen;
  for (int s = 0; s < steps; ++s) {
    ctx.step = s;
    const Tensor real = fake_real_batch(o, n, device, 100 + s);
    const Tensor labels = gan.sample_labels(n, device);
    adam_d.zero_grad();
    LossResult d = gan.discriminator_loss(real, labels, ctx);
    ASSERT_TRUE(std::isfinite(d.loss.item())) << o.arch << " step " << s;
    d.loss.backward();
    adam_d.step();
    adam_g.zero_grad();
    LossResult g = gan.generator_loss(n, labels, ctx);
    ASSERT_TRUE(std::isfinite(g.loss.item())) << o.arch << " step " << s;
    for (const auto& [k, v] : g.logs)
      EXPECT_TRUE(std::isfinite(v)) << k;
    g.loss.backward();
    adam_g.step();
  }
  for (const auto& [before, net] :
       {std::pair{&g_before, &gan.generator()}, std::pair{&d_before, &gan.discriminator()}}) {
    const std::string exempt = net == &gan.discriminator() ? output_bias_without_gradient(gan) : "";
    for (const auto& [name, p] : net->named_parameters()) {
      if (name == exempt) continue;
      const std::vector<float> now = p.to_vector();
      bool moved = false;
      for (size_t i = 0; i < now.size(); ++i) {
        ASSERT_TRUE(std::isfinite(now[i])) << name;
        moved = moved || now[i] != before->at(name)[i];
      }
      EXPECT_TRUE(moved) << o.arch << ": " << name << " did not change in " << steps << " steps";
    }
  }
}

}  // namespace ge::models::gantest
