#include "ganengine/nn/stylegan.h"

#include <cmath>

#include "ganengine/autograd.h"
#include "ganengine/bias_act.h"
#include "ganengine/conv.h"
#include "ganengine/error.h"
#include "ganengine/nn/init.h"
#include "ganengine/ops.h"
#include "ganengine/pixel_norm.h"

namespace ge::nn {

namespace {

void check_modulated_conv2d(const Tensor& x, const Tensor& weight, const Tensor& styles,
                            int64_t up) {
  const char* op = "modulated_conv2d";
  GE_CHECK(x.defined() && weight.defined() && styles.defined(), op,
           ": expected defined x, weight and styles");
  GE_CHECK(weight.dim() == 4 && weight.size(2) == weight.size(3) && weight.size(2) % 2 == 1, op,
           ": expected weight [O, I, k, k] with odd k, got shape ", to_string(weight.shape()));
  GE_CHECK(x.dim() == 4 && x.size(1) == weight.size(1), op, ": expected x [N, ", weight.size(1),
           ", H, W], got shape ", to_string(x.shape()));
  GE_CHECK(styles.dim() == 2 && styles.size(0) == x.size(0) && styles.size(1) == weight.size(1), op,
           ": expected styles [", x.size(0), ", ", weight.size(1), "], got shape ",
           to_string(styles.shape()));
  GE_CHECK(x.device() == weight.device() && x.device() == styles.device(), op,
           ": expected x, weight and styles on one device, got ", x.device().str(), ", ",
           weight.device().str(), " and ", styles.device().str());
  GE_CHECK(up == 1 || up == 2, op, ": expected up 1 or 2, got ", up);
  GE_CHECK(up == 1 || weight.size(2) == 3, op, ": up 2 needs a 3x3 kernel, got ", weight.size(2),
           "x", weight.size(3));
}

// Along `dim` (size 3), the taps [w2, w1 + w2, w0 + w1, w0] of the stride-2 transposed kernel
// that equals nearest 2x upsampling followed by the 3-tap correlation w: the even output 2i sees
// x[i-1] through w0 and x[i] through w1 + w2, the odd output 2i+1 sees x[i] through w0 + w1 and
// x[i+1] through w2, and conv_transpose2d reaches x[j] from output o through tap o + 1 - 2j.
Tensor upsample_taps(const Tensor& w, int64_t dim) {
  const Tensor w0 = w.slice(dim, 0, 1), w1 = w.slice(dim, 1, 2), w2 = w.slice(dim, 2, 3);
  return cat({w2, w1 + w2, w0 + w1, w0}, dim);
}

}  // namespace

Tensor demodulation_coefficients(const Tensor& weight, const Tensor& styles) {
  GE_CHECK(weight.defined() && weight.dim() == 4, "demodulation_coefficients: expected weight ",
           "[O, I, k, k], got ", weight.defined() ? to_string(weight.shape()) : "undefined");
  GE_CHECK(styles.defined() && styles.dim() == 2 && styles.size(1) == weight.size(1),
           "demodulation_coefficients: expected styles [N, ", weight.size(1), "], got ",
           styles.defined() ? to_string(styles.shape()) : "undefined");
  const Tensor wsq = square(weight).sum({2, 3});  // [O, I]
  return rsqrt(matmul(square(styles), wsq.t()) + 1e-8f);
}

Tensor upsample_conv3x3_weight(const Tensor& weight) {
  GE_CHECK(weight.defined() && weight.dim() == 4 && weight.size(2) == 3 && weight.size(3) == 3,
           "upsample_conv3x3_weight: expected weight [O, I, 3, 3], got ",
           weight.defined() ? to_string(weight.shape()) : "undefined");
  return upsample_taps(upsample_taps(weight, 2), 3).permute({1, 0, 2, 3}).contiguous();
}

Tensor modulated_conv2d(const Tensor& x, const Tensor& weight, const Tensor& styles,
                        bool demodulate, int64_t up) {
  check_modulated_conv2d(x, weight, styles, up);
  const int64_t n = x.size(0), in = weight.size(1), out = weight.size(0);
  const Tensor xs = x * styles.reshape({n, in, 1, 1});
  Tensor y = up == 1 ? conv2d(xs, weight, Tensor(), Conv2dOptions(1, weight.size(2) / 2))
                     : conv_transpose2d(xs, upsample_conv3x3_weight(weight), Tensor(),
                                        Conv2dOptions(2, 1));
  if (demodulate) y = y * demodulation_coefficients(weight, styles).reshape({n, out, 1, 1});
  return y;
}

Tensor avg_pool2x2(const Tensor& x) {
  GE_CHECK(x.defined() && x.dim() == 4 && x.size(2) % 2 == 0 && x.size(3) % 2 == 0,
           "avg_pool2x2: expected x [N, C, H, W] with even H and W, got ",
           x.defined() ? to_string(x.shape()) : "undefined");
  const int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
  // A one-channel stride-2 convolution over every plane: the im2col + GEMM path is several
  // times faster than a strided reduction, and its backward is differentiable again (R1).
  const Tensor box = full({1, 1, 2, 2}, 0.25f, x.device());
  return conv2d(x.reshape({n * c, 1, h, w}), box, Tensor(), Conv2dOptions(2, 0))
      .reshape({n, c, h / 2, w / 2});
}

// --- NoiseInjection

NoiseInjection::NoiseInjection(int64_t resolution, Generator* generator) : resolution(resolution) {
  GE_CHECK(resolution > 0, "NoiseInjection: expected resolution > 0, got ", resolution);
  noise_strength = zeros({});
  noise_const = randn({resolution, resolution}, kCPU, generator);
  register_parameter("noise_strength", noise_strength);
  register_buffer("noise_const", noise_const);
}

Tensor NoiseInjection::forward(const Tensor& x, NoiseMode mode, Generator* generator,
                               distributed::Shard shard) {
  GE_CHECK(x.defined() && x.dim() == 4 && x.size(2) == resolution && x.size(3) == resolution,
           "NoiseInjection: expected x [N, C, ", resolution, ", ", resolution, "], got ",
           x.defined() ? to_string(x.shape()) : "undefined");
  switch (mode) {
    case NoiseMode::None:
      return x;
    case NoiseMode::Const:
      return x + noise_const * noise_strength;
    case NoiseMode::Random:
      GE_CHECK(generator != nullptr,
               "NoiseInjection: NoiseMode::Random needs a generator to draw the noise from");
      return x + distributed::shard_rows(shard, x.size(0), [&](int64_t n) {
                   return randn({n, 1, resolution, resolution}, x.device(), generator);
                 }) * noise_strength;
  }
  fail("NoiseInjection: unknown noise mode ", static_cast<int>(mode));
}

// --- ModulatedConv2d, SynthesisLayer, ToRGB

ModulatedConv2d::ModulatedConv2d(int64_t in_channels, int64_t out_channels, int64_t kernel_size,
                                 int64_t w_dim, bool demodulate, int64_t up, float style_gain,
                                 Generator* generator)
    : in_channels(in_channels),
      out_channels(out_channels),
      kernel_size(kernel_size),
      w_dim(w_dim),
      up(up),
      demodulate(demodulate),
      style_gain(style_gain) {
  GE_CHECK(in_channels > 0 && out_channels > 0 && w_dim > 0,
           "ModulatedConv2d: expected positive in_channels, out_channels and w_dim, got ",
           in_channels, ", ", out_channels, " and ", w_dim);
  GE_CHECK(kernel_size > 0 && kernel_size % 2 == 1,
           "ModulatedConv2d: expected an odd kernel_size, got ", kernel_size);
  GE_CHECK(up == 1 || (up == 2 && kernel_size == 3),
           "ModulatedConv2d: expected up 1, or up 2 with kernel_size 3, got up ", up,
           " and kernel_size ", kernel_size);
  Generator* gen = generator ? generator : &default_generator();
  weight = randn({out_channels, in_channels, kernel_size, kernel_size}, kCPU, gen);
  register_parameter("weight", weight);
  LayerOptions affine_options;
  affine_options.equalized_lr = true;
  affine_options.bias_init = 1.f;
  affine =
      register_module("affine", std::make_shared<Linear>(w_dim, in_channels, affine_options, gen));
}

Tensor ModulatedConv2d::styles(const Tensor& w) {
  const Tensor s = affine->forward(w);
  return style_gain == 1.f ? s : s * style_gain;
}

Tensor ModulatedConv2d::forward(const Tensor& x, const Tensor& w) {
  GE_CHECK(x.defined() && x.dim() == 4 && x.size(1) == in_channels, name(), ": expected x [N, ",
           in_channels, ", H, W], got ", x.defined() ? to_string(x.shape()) : "undefined");
  GE_CHECK(w.defined() && w.dim() == 2 && w.size(0) == x.size(0) && w.size(1) == w_dim, name(),
           ": expected w [", x.size(0), ", ", w_dim, "], got ",
           w.defined() ? to_string(w.shape()) : "undefined");
  return modulated_conv2d(x, weight, styles(w), demodulate, up);
}

SynthesisLayer::SynthesisLayer(int64_t in_channels, int64_t out_channels, int64_t w_dim,
                               int64_t resolution, int64_t up, Generator* generator)
    : ModulatedConv2d(in_channels, out_channels, 3, w_dim, true, up, 1.f, generator) {
  bias = zeros({out_channels});
  register_parameter("bias", bias);
  noise = register_module("noise", std::make_shared<NoiseInjection>(resolution, generator));
}

Tensor SynthesisLayer::forward(const Tensor& x, const Tensor& w, NoiseMode mode,
                               Generator* generator, distributed::Shard shard) {
  const Tensor y = noise->forward(ModulatedConv2d::forward(x, w), mode, generator, shard);
  BiasActOptions act;
  act.act = Activation::LeakyRelu;
  return bias_act(y, bias, act);
}

ToRGB::ToRGB(int64_t in_channels, int64_t out_channels, int64_t w_dim, Generator* generator)
    : ModulatedConv2d(in_channels, out_channels, 1, w_dim, false, 1,
                      1.f / std::sqrt(static_cast<float>(in_channels > 0 ? in_channels : 1)),
                      generator) {
  bias = zeros({out_channels});
  register_parameter("bias", bias);
}

Tensor ToRGB::forward(const Tensor& x, const Tensor& w) {
  return bias_act(ModulatedConv2d::forward(x, w), bias);
}

// --- MappingNetwork

MappingNetwork::MappingNetwork(int64_t z_dim, int64_t w_dim, int64_t num_layers, float w_avg_beta,
                               float lr_multiplier, Generator* generator)
    : z_dim(z_dim), w_dim(w_dim), num_layers(num_layers), w_avg_beta(w_avg_beta) {
  GE_CHECK(z_dim > 0 && w_dim > 0, "MappingNetwork: expected positive z_dim and w_dim, got ", z_dim,
           " and ", w_dim);
  GE_CHECK(num_layers >= 1, "MappingNetwork: expected num_layers >= 1, got ", num_layers);
  GE_CHECK(w_avg_beta >= 0.f && w_avg_beta <= 1.f,
           "MappingNetwork: expected w_avg_beta in [0, 1], got ", w_avg_beta);
  w_avg = zeros({w_dim});
  register_buffer("w_avg", w_avg);
  LayerOptions fc;
  fc.equalized_lr = true;
  fc.lr_multiplier = lr_multiplier;
  fc.act.act = Activation::LeakyRelu;
  for (int64_t i = 0; i < num_layers; ++i) {
    fcs_.push_back(
        register_module("fc" + std::to_string(i),
                        std::make_shared<Linear>(i == 0 ? z_dim : w_dim, w_dim, fc, generator)));
  }
}

Tensor MappingNetwork::forward(const Tensor& z) {
  return forward(z, 1.f, is_training());
}

Tensor MappingNetwork::forward(const Tensor& z, float psi, bool update_w_avg) {
  GE_CHECK(z.defined() && z.dim() == 2 && z.size(1) == z_dim && z.size(0) > 0,
           "MappingNetwork: expected z [N, ", z_dim, "] with N > 0, got ",
           z.defined() ? to_string(z.shape()) : "undefined");
  Tensor w = pixel_norm(z, 1);
  for (const auto& fc : fcs_)
    w = fc->forward(w);
  if (update_w_avg) {
    NoGradGuard no_grad;
    const Tensor batch_mean = w.detach().mean({0});
    w_avg.copy_(batch_mean + (w_avg - batch_mean) * w_avg_beta);
  }
  if (psi != 1.f) w = w_avg + (w - w_avg) * psi;
  return w;
}

}  // namespace ge::nn
