#pragma once
// A minimal GAN for the trainer's tests: two-layer MLPs over 2-D points (or 8x8 images), a
// non-saturating loss written out here, optional G EMA, and switches that make a loss or a
// gradient NaN at a chosen step. Independent of the library's architectures.
#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "ganengine/autograd.h"
#include "ganengine/bias_act.h"
#include "ganengine/models/data/dataset.h"
#include "ganengine/models/gan.h"
#include "ganengine/nn/module.h"
#include "ganengine/ops.h"

namespace ge::testing {

// x -> leaky_relu(x W1^T + b1) W2^T + b2, with a running mean of its input kept (in training
// mode) as a buffer, like BatchNorm's statistics, so buffers take part in checkpoints.
class TinyMlp : public nn::Module {
 public:
  TinyMlp(int64_t in, int64_t hidden, int64_t out, Generator& g) {
    w1 = randn({hidden, in}, {}, &g) * (1.f / std::sqrt(static_cast<float>(in)));
    b1 = zeros({hidden});
    w2 = randn({out, hidden}, {}, &g) * (1.f / std::sqrt(static_cast<float>(hidden)));
    b2 = zeros({out});
    running_mean = zeros({in});
    register_parameter("w1", w1);
    register_parameter("b1", b1);
    register_parameter("w2", w2);
    register_parameter("b2", b2);
    register_buffer("running_mean", running_mean);
  }
  std::string name() const override { return "TinyMlp"; }
  Tensor forward(const Tensor& x) override {
    if (is_training()) {
      NoGradGuard no_grad;
      running_mean.mul_(0.9f);
      running_mean.add_(x.detach().mean({0}), 0.1f);
    }
    return linear(leaky_relu(linear(x, w1, b1), 0.2f), w2, b2);
  }
  Tensor w1, b1, w2, b2, running_mean;
};

struct TinyGanConfig {
  bool ema = false;
  bool image = false;        // 8x8 single-channel images instead of points
  int64_t num_classes = 0;   // conditional: the class shifts G's output
  int64_t nan_loss_at = -1;  // ctx.step at which the generator loss turns NaN
  int64_t nan_grad_at = -1;  // ctx.step at which D's gradient turns NaN (finite loss)
  int64_t n_critic = 1;
};

inline models::GanOptions tiny_options(const TinyGanConfig& c) {
  models::GanOptions o;
  o.arch = "tiny";
  o.channels = c.image ? 1 : 0;
  o.resolution = 8;
  o.latent_dim = 3;
  o.width = 8;
  o.num_classes = c.num_classes;
  return o;
}

class TinyGan : public models::Gan {
 public:
  explicit TinyGan(const TinyGanConfig& config, uint64_t seed = 1)
      : Gan(tiny_options(config)), config_(config) {
    Generator g(seed);
    const int64_t out = config.image ? 64 : 2;
    g_ = std::make_shared<TinyMlp>(3, 8, out, g);
    d_ = std::make_shared<TinyMlp>(out, 8, 1, g);
    if (config.ema) {
      ema_ = std::make_shared<TinyMlp>(3, 8, out, g);
      ema_->copy_from(*g_);
    }
  }
  nn::Module& generator() override { return *g_; }
  nn::Module& discriminator() override { return *d_; }
  nn::Module* generator_ema() override { return ema_.get(); }
  models::TrainDefaults train_defaults() const override {
    models::TrainDefaults t;
    t.g_lr = t.d_lr = 1e-2f;
    t.n_critic = config_.n_critic;
    t.ema_beta = config_.ema ? 0.9f : 0.f;
    return t;
  }
  Tensor generate(const Tensor& z, const Tensor& labels, bool ema, float) override {
    Tensor x = ((ema && ema_) ? *ema_ : *g_)(z);
    // Conditional models: a class-dependent offset, so each class has its own output level.
    if (labels.defined()) x = x * 0.1f + (labels.reshape({-1, 1}) * 0.5f - 0.5f);
    if (config_.image) x = tanh(x).reshape({-1, 1, 8, 8});
    return x;
  }
  Tensor discriminate(const Tensor& x, const Tensor&) override {
    return (*d_)(x.reshape({x.size(0), -1})).reshape({-1});
  }
  models::LossResult discriminator_loss(const Tensor& real, const Tensor& labels,
                                        models::StepContext& ctx) override {
    const Tensor z = sample_latent(real.size(0), *ctx.generator, real.device());
    Tensor fake;
    {
      NoGradGuard no_grad;
      fake = generate(z, labels, false, 1.f);
    }
    const Tensor real_out = discriminate(real, labels), fake_out = discriminate(fake, labels);
    models::LossResult r;
    r.loss = softplus(-real_out).mean() + softplus(fake_out).mean();
    if (ctx.step == config_.nan_grad_at) {
      // Finite in the forward pass (0), NaN in the backward: d sqrt(u)/du at u = 0 is inf,
      // times the zero factor.
      const Tensor u = abs(d_->w1) * 0.f;
      r.loss = r.loss + (sqrt(u) * 0.f).sum();
    }
    r.logs["d_real"] = real_out.mean().item();
    d_losses.push_back(r.loss.item());
    d_labels.push_back(labels.defined() ? labels.to_vector() : std::vector<float>{});
    return r;
  }
  models::LossResult generator_loss(int64_t batch, const Tensor& labels,
                                    models::StepContext& ctx) override {
    const Tensor z = sample_latent(batch, *ctx.generator, g_->device());
    models::LossResult r;
    r.loss = softplus(-discriminate(generate(z, labels, false, 1.f), labels)).mean();
    if (ctx.step == config_.nan_loss_at) r.loss = r.loss * std::numeric_limits<float>::quiet_NaN();
    g_losses.push_back(r.loss.item());
    g_labels.push_back(labels.defined() ? labels.to_vector() : std::vector<float>{});
    d_frozen.push_back(!d_->w1.requires_grad() && !d_->b2.requires_grad());
    return r;
  }

  std::vector<float> d_losses, g_losses;               // every loss returned, in order
  std::vector<std::vector<float>> d_labels, g_labels;  // labels each loss got
  std::vector<bool> d_frozen;  // whether D's parameters were off requires_grad in G's loss

 private:
  TinyGanConfig config_;
  std::shared_ptr<TinyMlp> g_, d_, ema_;
};

// Points (or 8x8 images) from a small LCG, labelled i % num_classes.
class TinyDataset : public models::data::Dataset {
 public:
  TinyDataset(int64_t n, bool image, int64_t num_classes = 0)
      : n_(n), image_(image), classes_(num_classes) {}
  std::string name() const override { return "tiny"; }
  int64_t size() const override { return n_; }
  Shape sample_shape() const override { return image_ ? Shape{1, 8, 8} : Shape{2}; }
  int64_t num_classes() const override { return classes_; }
  void get(int64_t index, float* out) const override {
    uint32_t s = static_cast<uint32_t>(index) * 2654435761u + 12345u;
    const int64_t count = image_ ? 64 : 2;
    for (int64_t i = 0; i < count; ++i) {
      s = s * 1664525u + 1013904223u;
      out[i] = static_cast<float>(s >> 8) / static_cast<float>(1u << 24) * 2.f - 1.f;
    }
  }
  int64_t label(int64_t index) const override { return classes_ > 0 ? index % classes_ : -1; }

 private:
  int64_t n_;
  bool image_;
  int64_t classes_;
};

// TinyDataset's 8x8 images, every sample from `nan_from` on with a NaN (-1: none), for the
// NaN-stop tests.
class NanImageSet : public TinyDataset {
 public:
  explicit NanImageSet(int64_t n, int64_t nan_from = -1)
      : TinyDataset(n, true), nan_from_(nan_from) {}
  void get(int64_t index, float* out) const override {
    TinyDataset::get(index, out);
    if (nan_from_ >= 0 && index >= nan_from_) out[0] = std::numeric_limits<float>::quiet_NaN();
  }

 private:
  int64_t nan_from_;
};

}  // namespace ge::testing
