// StyleGAN2 layers: modulated convolution against per-sample modulated weights and direct
// convolution loops, demodulation, the upsampling kernel, average pooling, noise injection,
// the mapping network's w_avg and truncation, and the layers built on them.
#include "ganengine/nn/stylegan.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "ganengine/conv.h"
#include "ganengine/gradcheck.h"
#include "engine/op_test_util.h"
#include "nn/nn_test_util.h"

namespace ge::nn {
namespace {

using nntest::all_close;
using nntest::error_of;
using nntest::lcg_values;

struct ModConvCase {
  int64_t n, in, out, h, k;
  bool demodulate;
  int64_t up;
};

// x [n, in, h, h] nearest-upsampled by `up` (plain copies).
std::vector<double> upsample_ref(const std::vector<float>& x, const ModConvCase& c) {
  const int64_t h2 = c.h * c.up;
  std::vector<double> u(static_cast<size_t>(c.n * c.in * h2 * h2));
  for (int64_t p = 0; p < c.n * c.in; ++p)
    for (int64_t i = 0; i < h2; ++i)
      for (int64_t j = 0; j < h2; ++j)
        u[(p * h2 + i) * h2 + j] = x[(p * c.h + i / c.up) * c.h + j / c.up];
  return u;
}

// The per-sample weight w[o, i] * s[n, i] (* d[n, o]) formed explicitly, then a direct
// "same" correlation of the (upsampled) input with it.
std::vector<double> modconv_ref(const std::vector<float>& x, const std::vector<float>& w,
                                const std::vector<float>& s, const ModConvCase& c) {
  const int64_t h = c.h * c.up, kk = c.k * c.k, pad = c.k / 2;
  const std::vector<double> u = upsample_ref(x, c);
  std::vector<double> y(static_cast<size_t>(c.n * c.out * h * h), 0.0);
  for (int64_t n = 0; n < c.n; ++n) {
    std::vector<double> wm(static_cast<size_t>(c.out * c.in * kk));
    for (int64_t o = 0; o < c.out; ++o) {
      double norm = 0.0;
      for (int64_t i = 0; i < c.in; ++i)
        for (int64_t t = 0; t < kk; ++t) {
          const double v = static_cast<double>(w[(o * c.in + i) * kk + t]) * s[n * c.in + i];
          wm[(o * c.in + i) * kk + t] = v;
          norm += v * v;
        }
      if (c.demodulate)
        for (int64_t t = 0; t < c.in * kk; ++t)
          wm[o * c.in * kk + t] /= std::sqrt(norm + 1e-8);
    }
    for (int64_t o = 0; o < c.out; ++o)
      for (int64_t r = 0; r < h; ++r)
        for (int64_t q = 0; q < h; ++q) {
          double acc = 0.0;
          for (int64_t i = 0; i < c.in; ++i)
            for (int64_t a = 0; a < c.k; ++a)
              for (int64_t b = 0; b < c.k; ++b) {
                const int64_t rr = r + a - pad, qq = q + b - pad;
                if (rr < 0 || rr >= h || qq < 0 || qq >= h) continue;
                acc += u[((n * c.in + i) * h + rr) * h + qq] *
                       wm[((o * c.in + i) * c.k + a) * c.k + b];
              }
          y[((n * c.out + o) * h + r) * h + q] = acc;
        }
  }
  return y;
}

class StyleGanLayersTest : public DeviceTest {};

TEST_P(StyleGanLayersTest, ModulatedConv2dMatchesPerSampleWeightsAndDirectConvolution) {
  const Device dev = device();
  for (const ModConvCase& c :
       {ModConvCase{2, 3, 4, 5, 3, true, 1}, ModConvCase{2, 3, 4, 5, 3, false, 1},
        ModConvCase{2, 3, 4, 4, 3, true, 2}, ModConvCase{2, 3, 2, 4, 1, false, 1},
        ModConvCase{1, 2, 3, 3, 3, false, 2}}) {
    SCOPED_TRACE("k " + std::to_string(c.k) + " up " + std::to_string(c.up) +
                 (c.demodulate ? " demod" : ""));
    const auto xv = lcg_values(c.n * c.in * c.h * c.h, 1);
    const auto wv = lcg_values(c.out * c.in * c.k * c.k, 2);
    const auto sv = lcg_values(c.n * c.in, 3, 0.3f, 1.7f);
    const Tensor y = modulated_conv2d(from_vector(xv, {c.n, c.in, c.h, c.h}, dev),
                                      from_vector(wv, {c.out, c.in, c.k, c.k}, dev),
                                      from_vector(sv, {c.n, c.in}, dev), c.demodulate, c.up);
    ASSERT_EQ(y.shape(), (Shape{c.n, c.out, c.h * c.up, c.h * c.up}));
    EXPECT_EQ(y.device(), dev);
    EXPECT_TRUE(all_close(y, nntest::to_float(modconv_ref(xv, wv, sv, c)), 1e-5, 1e-4));
  }
}

// Feeding a unit impulse on each input channel reads the effective per-sample kernel back out of
// the layer; with demodulation every output channel's kernel has unit L2 norm whatever the
// weight's and style's scale.
TEST_P(StyleGanLayersTest, DemodulationGivesUnitNormKernels) {
  const Device dev = device();
  const int64_t n = 2, in = 3, out = 4, k = 3;
  const auto wv = lcg_values(out * in * k * k, 5, -3.f, 3.f);
  const auto sv = lcg_values(n * in, 6, 0.1f, 4.f);
  // Sample (m, i) = impulse at the centre of channel i, modulated by sample m's style.
  std::vector<float> xv(static_cast<size_t>(n * in * in * 9), 0.f), srep;
  for (int64_t m = 0; m < n; ++m)
    for (int64_t i = 0; i < in; ++i) {
      xv[static_cast<size_t>(((m * in + i) * in + i) * 9 + 4)] = 1.f;
      for (int64_t j = 0; j < in; ++j)
        srep.push_back(sv[static_cast<size_t>(m * in + j)]);
    }
  const Tensor y = modulated_conv2d(from_vector(xv, {n * in, in, 3, 3}, dev),
                                    from_vector(wv, {out, in, k, k}, dev),
                                    from_vector(srep, {n * in, in}, dev), true, 1);
  const std::vector<float> yv = y.to_vector();
  for (int64_t m = 0; m < n; ++m)
    for (int64_t o = 0; o < out; ++o) {
      double sq = 0.0;
      for (int64_t i = 0; i < in; ++i)
        for (int64_t p = 0; p < 9; ++p) {
          const double v = yv[static_cast<size_t>(((m * in + i) * out + o) * 9 + p)];
          sq += v * v;
        }
      EXPECT_NEAR(sq, 1.0, 1e-5) << "sample " << m << " output channel " << o;
    }
}

TEST_P(StyleGanLayersTest, UpsampleConvWeightEqualsNearestUpsampleThenConv) {
  const Device dev = device();
  const int64_t n = 1, c = 2, o = 3, h = 3;
  const auto xv = lcg_values(n * c * h * h, 8);
  const auto wv = lcg_values(o * c * 9, 9);
  const Tensor k4 = upsample_conv3x3_weight(from_vector(wv, {o, c, 3, 3}, dev));
  ASSERT_EQ(k4.shape(), (Shape{c, o, 4, 4}));
  const Tensor y =
      conv_transpose2d(from_vector(xv, {n, c, h, h}, dev), k4, Tensor(), Conv2dOptions(2, 1));
  const ModConvCase up{n, c, o, h, 3, false, 2};
  nntest::ConvGeometry g{n, c, 2 * h, 2 * h, o, 3};
  g.pad = 1;
  int64_t ho = 0, wo = 0;
  std::vector<float> u;
  for (double v : upsample_ref(xv, up))
    u.push_back(static_cast<float>(v));
  EXPECT_TRUE(all_close(y, nntest::to_float(nntest::conv2d_ref(u, wv, {}, g, ho, wo)), 1e-5, 1e-5));
}

TEST_P(StyleGanLayersTest, ModulatedConv2dGradcheckInputWeightAndStyles) {
  const Device dev = device();
  for (const ModConvCase& c :
       {ModConvCase{2, 2, 2, 3, 3, true, 1}, ModConvCase{2, 2, 2, 2, 3, true, 2},
        ModConvCase{2, 2, 2, 3, 1, false, 1}}) {
    SCOPED_TRACE("k " + std::to_string(c.k) + " up " + std::to_string(c.up));
    const Tensor x =
        optest::make(lcg_values(c.n * c.in * c.h * c.h, 11), {c.n, c.in, c.h, c.h}, dev, true);
    const Tensor w =
        optest::make(lcg_values(c.out * c.in * c.k * c.k, 12), {c.out, c.in, c.k, c.k}, dev, true);
    const Tensor s = optest::make(lcg_values(c.n * c.in, 13, 0.5f, 1.5f), {c.n, c.in}, dev, true);
    EXPECT_TRUE(optest::grad_ok(
        [&](const std::vector<Tensor>& t) {
          return modulated_conv2d(t[0], t[1], t[2], c.demodulate, c.up);
        },
        {x, w, s}));
  }
}

TEST_P(StyleGanLayersTest, AvgPoolMatchesLoopsAndIsTwiceDifferentiable) {
  const Device dev = device();
  const int64_t n = 2, c = 3, h = 4, w = 6;
  const auto xv = lcg_values(n * c * h * w, 21);
  const Tensor y = avg_pool2x2(from_vector(xv, {n, c, h, w}, dev));
  ASSERT_EQ(y.shape(), (Shape{n, c, h / 2, w / 2}));
  std::vector<float> ref;
  for (int64_t p = 0; p < n * c; ++p)
    for (int64_t i = 0; i < h / 2; ++i)
      for (int64_t j = 0; j < w / 2; ++j) {
        double acc = 0.0;
        for (int64_t a = 0; a < 2; ++a)
          for (int64_t b = 0; b < 2; ++b)
            acc += xv[static_cast<size_t>((p * h + 2 * i + a) * w + 2 * j + b)];
        ref.push_back(static_cast<float>(acc / 4.0));
      }
  EXPECT_TRUE(all_close(y, ref, 1e-6, 1e-6));
  const Tensor x = optest::make(lcg_values(1 * 2 * 4 * 4, 22), {1, 2, 4, 4}, dev, true);
  // Squared so that the second derivative is not identically zero.
  auto fn = [](const std::vector<Tensor>& t) { return square(avg_pool2x2(t[0])); };
  EXPECT_TRUE(optest::grad_ok(fn, {x}));
  EXPECT_TRUE(optest::gradgrad_ok(fn, {x}));
  EXPECT_TRUE(optest::throws_with(
      [&] {
        avg_pool2x2(zeros({1, 1, 3, 4}, dev));
      },
      {"avg_pool2x2", "even", "[1, 1, 3, 4]"}));
}

TEST_P(StyleGanLayersTest, NoiseInjectionConstRandomAndNone) {
  const Device dev = device();
  Generator init(3);
  NoiseInjection noise(4, &init);
  EXPECT_EQ(noise.noise_strength.shape(), Shape{});
  EXPECT_EQ(noise.noise_const.shape(), (Shape{4, 4}));
  noise.to(dev);
  const auto xv = lcg_values(2 * 3 * 16, 31);
  const Tensor x = from_vector(xv, {2, 3, 4, 4}, dev);
  Generator g1(5);
  // Strength starts at zero: the layer is the identity whatever the noise.
  EXPECT_TRUE(all_close(noise.forward(x, NoiseMode::Random, &g1), xv, 0, 0));
  nntest::set_values(noise.noise_strength, {0.5f});
  const std::vector<float> nc = noise.noise_const.to_vector();
  std::vector<float> ref;
  for (int64_t p = 0; p < 2 * 3; ++p)
    for (int64_t q = 0; q < 16; ++q)
      ref.push_back(xv[static_cast<size_t>(p * 16 + q)] + 0.5f * nc[static_cast<size_t>(q)]);
  EXPECT_TRUE(all_close(noise.forward(x, NoiseMode::Const), ref, 1e-6, 1e-6));
  EXPECT_TRUE(all_close(noise.forward(x, NoiseMode::None), xv, 0, 0));

  Generator a(7), b(7), c(8);
  const std::vector<float> ra = noise.forward(x, NoiseMode::Random, &a).to_vector();
  EXPECT_TRUE(all_close(noise.forward(x, NoiseMode::Random, &b), ra, 0, 0));  // same stream
  const std::vector<float> rc = noise.forward(x, NoiseMode::Random, &c).to_vector();
  const std::vector<float> ra2 = noise.forward(x, NoiseMode::Random, &a).to_vector();
  int differ_seed = 0, differ_call = 0, differ_sample = 0;
  for (int64_t q = 0; q < 16; ++q) {
    // One noise plane per sample, shared by its channels.
    for (int64_t n = 0; n < 2; ++n) {
      const float d0 =
          ra[static_cast<size_t>((n * 3) * 16 + q)] - xv[static_cast<size_t>((n * 3) * 16 + q)];
      for (int64_t ch = 1; ch < 3; ++ch) {
        const size_t idx = static_cast<size_t>((n * 3 + ch) * 16 + q);
        EXPECT_NEAR(ra[idx] - xv[idx], d0, 1e-5);
      }
    }
    differ_seed += ra[static_cast<size_t>(q)] != rc[static_cast<size_t>(q)];
    differ_call += ra[static_cast<size_t>(q)] != ra2[static_cast<size_t>(q)];
    differ_sample += (ra[static_cast<size_t>(q)] - xv[static_cast<size_t>(q)]) !=
                     (ra[static_cast<size_t>(48 + q)] - xv[static_cast<size_t>(48 + q)]);
  }
  EXPECT_GT(differ_seed, 12);
  EXPECT_GT(differ_call, 12);
  EXPECT_GT(differ_sample, 12);
  EXPECT_TRUE(optest::throws_with([&] { noise.forward(x, NoiseMode::Random); },
                                  {"NoiseInjection", "generator"}));
  EXPECT_TRUE(optest::throws_with(
      [&] {
        noise.forward(zeros({1, 1, 3, 3}, dev), NoiseMode::Const);
      },
      {"NoiseInjection", "[N, C, 4, 4]", "[1, 1, 3, 3]"}));
}

// A data-parallel process's noise is its rows of the noise drawn for the whole global batch:
// shard 1 of 3 with 2 rows each gets rows 2 and 3 of a 6-row draw from the same stream.
TEST_P(StyleGanLayersTest, NoiseInjectionDrawsTheGlobalBatchAndKeepsTheShardsRows) {
  const Device dev = device();
  Generator init(3);
  NoiseInjection noise(4, &init);
  noise.to(dev);
  nntest::set_values(noise.noise_strength, {1.f});
  Generator whole(11), part(11);
  const std::vector<float> all =
      noise.forward(zeros({6, 1, 4, 4}, dev), NoiseMode::Random, &whole).to_vector();
  const Tensor mine =
      noise.forward(zeros({2, 1, 4, 4}, dev), NoiseMode::Random, &part, distributed::Shard{1, 3});
  EXPECT_EQ(mine.shape(), (Shape{2, 1, 4, 4}));
  EXPECT_TRUE(all_close(mine, std::vector<float>(all.begin() + 32, all.begin() + 64), 0, 0));
  EXPECT_EQ(part.offset(), whole.offset());  // the stream moves on as for the whole batch
}

// Styles computed here from the affine layer's raw tensors: equalized lr gain 1/sqrt(w_dim).
std::vector<float> styles_ref(const ModulatedConv2d& layer, const std::vector<float>& wv,
                              int64_t n) {
  const auto aw = layer.affine->weight.to_vector(), ab = layer.affine->bias.to_vector();
  const auto y = nntest::linear_ref(wv, aw, ab, n, layer.w_dim, layer.in_channels,
                                    1.0 / std::sqrt(static_cast<double>(layer.w_dim)));
  std::vector<float> s;
  for (double v : y)
    s.push_back(static_cast<float>(v * layer.style_gain));
  return s;
}

TEST_P(StyleGanLayersTest, SynthesisLayerAndToRGBMatchReferences) {
  const Device dev = device();
  const int64_t n = 2, in = 3, out = 2, w_dim = 4, res = 4;
  Generator g(17);
  SynthesisLayer layer(in, out, w_dim, res, 2, &g);
  ToRGB torgb(out, 1, w_dim, &g);
  EXPECT_EQ(nntest::names_of(layer.named_parameters()),
            (std::vector<std::string>{"weight", "bias", "affine.weight", "affine.bias",
                                      "noise.noise_strength"}));
  EXPECT_EQ(nntest::names_of(layer.named_buffers()),
            (std::vector<std::string>{"noise.noise_const"}));
  EXPECT_EQ(nntest::names_of(torgb.named_parameters()),
            (std::vector<std::string>{"weight", "bias", "affine.weight", "affine.bias"}));
  nntest::fill_lcg(layer.bias, 41);
  nntest::fill_lcg(layer.affine->bias, 42, 0.5f, 1.5f);
  nntest::fill_lcg(torgb.bias, 43);
  nntest::set_values(layer.noise->noise_strength, {0.3f});
  layer.to(dev);
  torgb.to(dev);

  const auto xv = lcg_values(n * in * 2 * 2, 44);
  const auto wv = lcg_values(n * w_dim, 45);
  const Tensor x = from_vector(xv, {n, in, 2, 2}, dev), w = from_vector(wv, {n, w_dim}, dev);
  const Tensor y = layer.forward(x, w, NoiseMode::Const);
  ASSERT_EQ(y.shape(), (Shape{n, out, res, res}));
  const ModConvCase c{n, in, out, 2, 3, true, 2};
  const std::vector<double> conv =
      modconv_ref(xv, layer.weight.to_vector(), styles_ref(layer, wv, n), c);
  const auto b = layer.bias.to_vector(), nc = layer.noise->noise_const.to_vector();
  std::vector<float> ref;
  for (int64_t p = 0; p < n * out; ++p)
    for (int64_t q = 0; q < res * res; ++q) {
      const double v = conv[static_cast<size_t>(p * res * res + q)] +
                       0.3 * nc[static_cast<size_t>(q)] + b[static_cast<size_t>(p % out)];
      ref.push_back(static_cast<float>(nntest::leaky(v, 0.2) * std::sqrt(2.0)));
    }
  EXPECT_TRUE(all_close(y, ref, 1e-5, 1e-4));

  // toRGB: styles scaled by 1/sqrt(in), no demodulation, plus bias, no activation.
  EXPECT_FLOAT_EQ(torgb.style_gain, 1.f / std::sqrt(2.f));
  const std::vector<float> yv = y.to_vector();
  const Tensor rgb = torgb.forward(y, w);
  ASSERT_EQ(rgb.shape(), (Shape{n, 1, res, res}));
  const std::vector<double> rc = modconv_ref(yv, torgb.weight.to_vector(), styles_ref(torgb, wv, n),
                                             {n, out, 1, res, 1, false, 1});
  std::vector<float> rref;
  for (size_t i = 0; i < rc.size(); ++i)
    rref.push_back(static_cast<float>(rc[i] + torgb.bias.to_vector()[0]));
  EXPECT_TRUE(all_close(rgb, rref, 1e-5, 1e-4));
}

TEST_P(StyleGanLayersTest, ModulatedConv2dRejectsMismatchedInputs) {
  const Device dev = device();
  const Tensor x = zeros({2, 3, 4, 4}, dev), w = zeros({4, 3, 3, 3}, dev);
  EXPECT_TRUE(optest::throws_with(
      [&] {
        modulated_conv2d(x, w, zeros({2, 2}, dev));
      },
      {"modulated_conv2d", "styles [2, 3]", "[2, 2]"}));
  EXPECT_TRUE(optest::throws_with(
      [&] {
        modulated_conv2d(zeros({2, 2, 4, 4}, dev), w, zeros({2, 3}, dev));
      },
      {"modulated_conv2d", "x [N, 3, H, W]", "[2, 2, 4, 4]"}));
  EXPECT_TRUE(optest::throws_with(
      [&] {
        modulated_conv2d(x, zeros({4, 3, 1, 1}, dev), zeros({2, 3}, dev), true, 2);
      },
      {"modulated_conv2d", "3x3", "1x1"}));
  EXPECT_TRUE(optest::throws_with([&] { ModulatedConv2d(3, 4, 1, 8, true, 2); },
                                  {"ModulatedConv2d", "up 2"}));
}

GE_INSTANTIATE_DEVICE_TEST(StyleGanLayersTest);

// --- MappingNetwork (CPU: small dense layers; devices are covered by the layers it uses)

TEST(MappingNetworkTest, MatchesPixelNormAndEqualizedLrLayers) {
  Generator g(2);
  const int64_t z_dim = 3, w_dim = 4, n = 2;
  MappingNetwork m(z_dim, w_dim, 2, 0.9f, 0.01f, &g);
  EXPECT_EQ(nntest::names_of(m.named_parameters()),
            (std::vector<std::string>{"fc0.weight", "fc0.bias", "fc1.weight", "fc1.bias"}));
  EXPECT_EQ(nntest::names_of(m.named_buffers()), std::vector<std::string>{"w_avg"});
  auto* fc0 = dynamic_cast<Linear*>(m.named_children()[0].second.get());
  auto* fc1 = dynamic_cast<Linear*>(m.named_children()[1].second.get());
  ASSERT_TRUE(fc0 && fc1);
  nntest::fill_lcg(fc0->bias, 3, -50.f, 50.f);  // stored / lr_multiplier
  nntest::fill_lcg(fc1->bias, 4, -50.f, 50.f);
  const auto zv = lcg_values(n * z_dim, 5, -2.f, 2.f);
  const Tensor w = m.forward(from_vector(zv, {n, z_dim}), 1.f, false);
  // pixel norm
  std::vector<float> h(zv.size());
  for (int64_t r = 0; r < n; ++r) {
    double ms = 0.0;
    for (int64_t i = 0; i < z_dim; ++i)
      ms += zv[r * z_dim + i] * zv[r * z_dim + i] / z_dim;
    for (int64_t i = 0; i < z_dim; ++i)
      h[r * z_dim + i] = static_cast<float>(zv[r * z_dim + i] / std::sqrt(ms + 1e-8));
  }
  int64_t in = z_dim;
  for (Linear* fc : {fc0, fc1}) {
    const auto y = nntest::linear_ref(h, fc->weight.to_vector(), fc->bias.to_vector(), n, in, w_dim,
                                      0.01 / std::sqrt(static_cast<double>(in)), 0.01);
    h.clear();
    for (double v : y)
      h.push_back(static_cast<float>(nntest::leaky(v, 0.2) * std::sqrt(2.0)));
    in = w_dim;
  }
  EXPECT_TRUE(all_close(w, h, 1e-5, 1e-4));
}

TEST(MappingNetworkTest, TracksWAvgOnlyWhenAskedAndTruncatesTowardIt) {
  Generator g(6);
  const int64_t z_dim = 5, w_dim = 3, n = 4;
  const float beta = 0.75f;
  MappingNetwork m(z_dim, w_dim, 2, beta, 0.01f, &g);
  const std::vector<float> avg0 = {0.5f, -1.f, 2.f};
  nntest::set_values(m.w_avg, avg0);
  const Tensor z = from_vector(lcg_values(n * z_dim, 7), {n, z_dim});

  const std::vector<float> w1 = m.forward(z, 1.f, false).to_vector();
  EXPECT_TRUE(all_close(m.w_avg, avg0, 0, 0)) << "updated without update_w_avg";
  m.eval();
  m.forward(z);
  EXPECT_TRUE(all_close(m.w_avg, avg0, 0, 0)) << "updated in eval mode";
  m.train();
  const std::vector<float> w2 = m.forward(z).to_vector();  // training: updates
  EXPECT_EQ(w1, w2);  // the update does not change this call's w (psi 1)
  std::vector<float> avg1(static_cast<size_t>(w_dim));
  for (int64_t j = 0; j < w_dim; ++j) {
    double mean = 0.0;
    for (int64_t r = 0; r < n; ++r)
      mean += w1[static_cast<size_t>(r * w_dim + j)] / n;
    avg1[static_cast<size_t>(j)] =
        static_cast<float>(mean + beta * (avg0[static_cast<size_t>(j)] - mean));
  }
  EXPECT_TRUE(all_close(m.w_avg, avg1, 1e-6, 1e-5));
  EXPECT_FALSE(m.w_avg.requires_grad());

  // psi 0: every sample is w_avg; psi 0.5: halfway.
  const std::vector<float> avg = m.w_avg.to_vector();
  std::vector<float> at_avg, half;
  for (int64_t r = 0; r < n; ++r)
    for (int64_t j = 0; j < w_dim; ++j) {
      at_avg.push_back(avg[static_cast<size_t>(j)]);
      half.push_back(avg[static_cast<size_t>(j)] +
                     0.5f * (w1[static_cast<size_t>(r * w_dim + j)] - avg[static_cast<size_t>(j)]));
    }
  EXPECT_TRUE(all_close(m.forward(z, 0.f, false), at_avg, 1e-6, 1e-6));
  EXPECT_TRUE(all_close(m.forward(z, 0.5f, false), half, 1e-6, 1e-5));
  EXPECT_TRUE(optest::throws_with(
      [&] {
        m.forward(zeros({2, 4}));
      },
      {"MappingNetwork", "z [N, 5]", "[2, 4]"}));
  EXPECT_TRUE(
      optest::throws_with([] { MappingNetwork(4, 4, 0); }, {"MappingNetwork", "num_layers >= 1"}));
}

}  // namespace
}  // namespace ge::nn
