#pragma once
// Activation, normalisation and resampling layers without weights of their own (BiasAct has a
// bias), each a thin module over the engine op of the same name.
#include "ganengine/bias_act.h"
#include "ganengine/nn/module.h"

namespace ge::nn {

// bias_act with a learned bias [channels] (zeros) along dim 1; channels 0: no bias.
class BiasAct : public Module {
 public:
  BiasAct(int64_t channels, const BiasActOptions& options);
  std::string name() const override { return "BiasAct"; }
  Tensor forward(const Tensor& x) override;
  Tensor bias;
  const BiasActOptions options;
};

// torch.nn.LeakyReLU.
class LeakyReLU : public Module {
 public:
  explicit LeakyReLU(float negative_slope = 0.01f) : negative_slope(negative_slope) {}
  std::string name() const override { return "LeakyReLU"; }
  Tensor forward(const Tensor& x) override;
  const float negative_slope;
};

// tanh, for generator outputs.
class Tanh : public Module {
 public:
  std::string name() const override { return "Tanh"; }
  Tensor forward(const Tensor& x) override;
};

// StyleGAN2-ADA's MinibatchStdLayer (ge::minibatch_stddev).
class MinibatchStdDev : public Module {
 public:
  explicit MinibatchStdDev(int64_t group_size = 4, int64_t num_channels = 1)
      : group_size(group_size), num_channels(num_channels) {}
  std::string name() const override { return "MinibatchStdDev"; }
  Tensor forward(const Tensor& x) override;
  const int64_t group_size, num_channels;
};

// ge::pixel_norm along `dim`.
class PixelNorm : public Module {
 public:
  explicit PixelNorm(int64_t dim = 1, float eps = 1e-8f) : dim(dim), eps(eps) {}
  std::string name() const override { return "PixelNorm"; }
  Tensor forward(const Tensor& x) override;
  const int64_t dim;
  const float eps;
};

// torch.nn.Upsample(scale_factor, mode) for "nearest" and "bilinear" (align_corners false).
class Upsample : public Module {
 public:
  explicit Upsample(int64_t scale = 2, const std::string& mode = "nearest");
  std::string name() const override { return "Upsample"; }
  Tensor forward(const Tensor& x) override;
  const int64_t scale;
  const std::string mode;
};

// x.flatten(1).
class Flatten : public Module {
 public:
  std::string name() const override { return "Flatten"; }
  Tensor forward(const Tensor& x) override;
};

}  // namespace ge::nn
