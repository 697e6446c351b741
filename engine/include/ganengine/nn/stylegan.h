#pragma once
// StyleGAN2 building blocks (Karras et al. 2020), named as NVlabs/stylegan2-ada-pytorch names
// them: the mapping network, modulated convolution with weight demodulation, noise injection,
// the synthesis layer and toRGB.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ganengine/distributed.h"
#include "ganengine/nn/linear.h"
#include "ganengine/nn/module.h"
#include "ganengine/random.h"

namespace ge::nn {

// Modulated convolution in its activation-scaling form (stylegan2-ada's fused_modconv=False):
//   y = conv2d(x * s[n, i], weight, padding k/2) * d[n, o]
// with d = demodulation_coefficients(weight, styles) when demodulate, else 1. The per-sample
// weights weight[o, i] * s[n, i] * d[n, o] are never formed: the convolution is one ordinary
// batched GEMM with the shared weight. x [N, I, H, W], weight [O, I, k, k], styles [N, I].
// up 2 (3x3 kernels only): nearest 2x upsampling followed by the convolution, computed exactly
// as one stride-2 transposed convolution (upsample_conv3x3_weight) at a quarter of the cost.
Tensor modulated_conv2d(const Tensor& x, const Tensor& weight, const Tensor& styles,
                        bool demodulate = true, int64_t up = 1);

// d[n, o] = rsqrt(sum_{i,kh,kw} (weight[o, i, kh, kw] * styles[n, i])^2 + 1e-8), i.e.
// rsqrt(styles^2 @ (sum_k weight^2)^T + 1e-8): [N, O]. Makes each sample's modulated weight
// unit-norm per output channel.
Tensor demodulation_coefficients(const Tensor& weight, const Tensor& styles);

// The conv_transpose2d weight [I, O, 4, 4] (stride 2, padding 1) equal to nearest 2x upsampling
// followed by conv2d(weight [O, I, 3, 3], padding 1). Differentiable wrt weight.
Tensor upsample_conv3x3_weight(const Tensor& weight);

// 2x2 average pooling with stride 2 (torch.nn.functional.avg_pool2d(x, 2)) on [N, C, H, W]
// with even H and W; differentiable to any order.
Tensor avg_pool2x2(const Tensor& x);

enum class NoiseMode {
  Random,  // fresh N(0, 1) noise per sample from the given generator (training)
  Const,   // the layer's fixed noise_const (reproducible sampling)
  None,    // no noise
};

// Per-pixel noise shared across channels, scaled by a learned strength:
// y = x + noise[n, 0, h, w] * noise_strength. noise_strength [] starts at 0; the buffer
// noise_const [resolution, resolution] is drawn N(0, 1) at construction.
class NoiseInjection : public Module {
 public:
  explicit NoiseInjection(int64_t resolution, Generator* generator = nullptr);
  std::string name() const override { return "NoiseInjection"; }
  using Module::forward;
  // Random draws from `generator` (required): for a data-parallel process, the noise of the
  // whole global batch, of which it keeps its shard's rows.
  Tensor forward(const Tensor& x, NoiseMode mode, Generator* generator = nullptr,
                 distributed::Shard shard = {});
  Tensor noise_strength, noise_const;
  const int64_t resolution;
};

// A convolution modulated by a style computed from w: weight [O, I, k, k] ~ N(0, 1) and
// `affine` (equalized-lr Linear w_dim -> I, bias 1) giving styles = affine(w) * style_gain.
// The weight needs no equalized-lr scale of its own: demodulation (or, for toRGB, style_gain)
// normalises it.
class ModulatedConv2d : public Module {
 public:
  ModulatedConv2d(int64_t in_channels, int64_t out_channels, int64_t kernel_size, int64_t w_dim,
                  bool demodulate = true, int64_t up = 1, float style_gain = 1.f,
                  Generator* generator = nullptr);
  std::string name() const override { return "ModulatedConv2d"; }
  using Module::forward;
  // x [N, I, H, W], w [N, w_dim] -> [N, O, H * up, W * up] (no bias, no activation).
  Tensor forward(const Tensor& x, const Tensor& w);
  Tensor styles(const Tensor& w);  // [N, I]

  Tensor weight;
  std::shared_ptr<Linear> affine;
  const int64_t in_channels, out_channels, kernel_size, w_dim, up;
  const bool demodulate;
  const float style_gain;
};

// StyleGAN2's SynthesisLayer: modulated 3x3 conv with demodulation (optionally 2x upsampling),
// noise, bias and leaky ReLU with gain sqrt(2). Keys: weight, bias, affine.*, noise.*.
class SynthesisLayer : public ModulatedConv2d {
 public:
  // resolution: of the output (the noise's size).
  SynthesisLayer(int64_t in_channels, int64_t out_channels, int64_t w_dim, int64_t resolution,
                 int64_t up = 1, Generator* generator = nullptr);
  std::string name() const override { return "SynthesisLayer"; }
  using Module::forward;
  Tensor forward(const Tensor& x, const Tensor& w, NoiseMode mode, Generator* generator = nullptr,
                 distributed::Shard shard = {});
  Tensor bias;
  std::shared_ptr<NoiseInjection> noise;
};

// StyleGAN2's ToRGBLayer: modulated 1x1 conv without demodulation, styles scaled by
// 1/sqrt(in_channels), plus a bias; no activation.
class ToRGB : public ModulatedConv2d {
 public:
  ToRGB(int64_t in_channels, int64_t out_channels, int64_t w_dim, Generator* generator = nullptr);
  std::string name() const override { return "ToRGB"; }
  using Module::forward;
  Tensor forward(const Tensor& x, const Tensor& w);
  Tensor bias;
};

// StyleGAN2's MappingNetwork (unconditional): z -> pixel_norm -> num_layers x equalized-lr
// Linear (lr_multiplier, leaky ReLU) -> w [N, w_dim]; children fc0, fc1, ...; buffer w_avg
// [w_dim] (zeros), the running mean of w used by the truncation trick.
class MappingNetwork : public Module {
 public:
  MappingNetwork(int64_t z_dim, int64_t w_dim, int64_t num_layers, float w_avg_beta = 0.995f,
                 float lr_multiplier = 0.01f, Generator* generator = nullptr);
  std::string name() const override { return "MappingNetwork"; }
  // forward(z, 1, is_training()).
  Tensor forward(const Tensor& z) override;
  // update_w_avg: w_avg = lerp(mean_n w, w_avg, w_avg_beta) first (no history). Then the
  // truncation w = w_avg + psi * (w - w_avg) when psi != 1.
  Tensor forward(const Tensor& z, float psi, bool update_w_avg);

  Tensor w_avg;
  const int64_t z_dim, w_dim, num_layers;
  const float w_avg_beta;

 private:
  std::vector<std::shared_ptr<Linear>> fcs_;
};

}  // namespace ge::nn
