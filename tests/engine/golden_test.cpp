// conv2d, conv_transpose2d, bias_act and leaky_relu against PyTorch 1.13 (tests/golden/,
// scripts/make_goldens.py) on every device: forward, first-order gradients for a fixed upstream
// gradient, and second-order gradients where the file has them. Every case in a file runs, so a
// case added to the script is tested without touching this file.
#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "ganengine/autograd.h"
#include "ganengine/bias_act.h"
#include "ganengine/conv.h"
#include "ganengine/ops.h"
#include "golden/golden.h"
#include "support/devices.h"

namespace ge::golden {
namespace {

class GoldenTest : public DeviceTest {};

TEST_P(GoldenTest, Conv) {
  const File& f = File::get("conv");
  const auto check = [&](const std::string& c, const Params& p) {
    const bool transposed = p.str("op") == "conv_transpose2d";
    const bool has_bias = p.flag("bias"), second = p.flag("second_order");
    const Conv2dOptions o(p.i("stride"), p.i("padding"), p.i("output_padding"), p.i("groups"));
    const Tensor x = f.on(c, "x", device(), true), w = f.on(c, "w", device(), true);
    const Tensor b = has_bias ? f.on(c, "b", device(), true) : Tensor();
    const Tensor gy = f.on(c, "gy", device(), second);
    const Tensor y = transposed ? conv_transpose2d(x, w, b, o) : conv2d(x, w, b, o);

    // Terms per element: the forward sums C_in/groups * k*k products (a bound for the
    // transposed conv, whose stride skips taps), grad x sums C_out/groups * k*k, and the weight
    // and bias gradients sum over the batch and the spatial positions of the "large" side.
    const double cin_g = static_cast<double>(x.size(1)) / o.groups;
    const double cout_g = static_cast<double>(y.size(1)) / o.groups;
    const double kk = static_cast<double>(w.size(2) * w.size(3));
    const double n_pix_y = static_cast<double>(y.size(0) * y.size(2) * y.size(3));
    const double n_pix_x = static_cast<double>(x.size(0) * x.size(2) * x.size(3));
    const double n_pix_w = transposed ? n_pix_x : n_pix_y;
    EXPECT_TRUE(close(c + " y", y, f.host(c, "y"), Tol{cin_g * kk + 1}));

    std::vector<Tensor> inputs{x, w};
    if (has_bias) inputs.push_back(b);
    const std::vector<Tensor> g = ge::grad({y}, inputs, {gy}, /*create_graph=*/second);
    EXPECT_TRUE(close(c + " gx", g[0], f.host(c, "gx"), Tol{cout_g * kk}));
    if (f.has(c, "gw")) {
      EXPECT_TRUE(close(c + " gw", g[1], f.host(c, "gw"), Tol{n_pix_w}));
    } else {
      const Tensor& head = f.host(c, "gw_head");
      EXPECT_TRUE(close(c + " gw_head", g[1].slice(0, 0, head.size(0)), head, Tol{n_pix_w}));
    }
    if (has_bias) {
      EXPECT_TRUE(close(c + " gb", g[2], f.host(c, "gb"), Tol{n_pix_y}));
    }

    if (second) {
      // d<gx, v>/dw is the weight gradient of the conv with v in place of x (a batch and pixel
      // sum); d<gx, v>/dgy is the forward conv applied to v.
      const Tensor v = f.on(c, "v", device());
      const std::vector<Tensor> gg = ge::grad({g[0]}, {w, gy}, {v});
      EXPECT_TRUE(close(c + " ggw", gg[0], f.host(c, "ggw"), Tol{n_pix_w}));
      EXPECT_TRUE(close(c + " ggy", gg[1], f.host(c, "ggy"), Tol{cin_g * kk}));
    }
  };
  for_each_case(f, check);
}

Activation activation_of(const std::string& name) {
  if (name == "linear") return Activation::Linear;
  if (name == "relu") return Activation::Relu;
  if (name == "lrelu") return Activation::LeakyRelu;
  if (name == "tanh") return Activation::Tanh;
  if (name == "sigmoid") return Activation::Sigmoid;
  ADD_FAILURE() << "unknown activation " << name;
  return Activation::Linear;
}

// The cases of bias_act.safetensors that test `op`.
auto op_is(const std::string& op) {
  return [op](const std::string&, const Params& p) { return p.str("op") == op; };
}

TEST_P(GoldenTest, BiasAct) {
  const File& f = File::get("bias_act");
  const auto check = [&](const std::string& c, const Params& p) {
    BiasActOptions o;
    o.act = activation_of(p.str("act"));
    o.alpha = p.f("alpha");
    if (p.str("gain") != "default") o.gain = p.f("gain");
    o.clamp = p.f("clamp");
    const bool has_bias = p.flag("bias");
    if (has_bias) o.dim = p.i("dim");
    const Tensor x = f.on(c, "x", device(), true);
    const Tensor b = has_bias ? f.on(c, "b", device(), true) : Tensor();
    const Tensor gy = f.on(c, "gy", device(), true);
    const Tensor y = bias_act(x, b, o);
    // Elementwise, but x + b is rounded before the activation: 2 ulps of slack on top of the
    // activation's own (a few ulps for tanh / sigmoid through expf).
    EXPECT_TRUE(close(c + " y", y, f.host(c, "y"), Tol{2}));

    std::vector<Tensor> inputs{x};
    if (has_bias) inputs.push_back(b);
    const std::vector<Tensor> g = ge::grad({y}, inputs, {gy}, /*create_graph=*/true);
    EXPECT_TRUE(close(c + " gx", g[0], f.host(c, "gx"), Tol{2}));
    if (has_bias) {
      // Sum of gx over every element sharing a bias entry.
      const double k = static_cast<double>(x.numel() / x.size(o.dim));
      EXPECT_TRUE(close(c + " gb", g[1], f.host(c, "gb"), Tol{k}));
    }
    const Tensor v = f.on(c, "v", device());
    const std::vector<Tensor> gg = ge::grad({g[0]}, {x, gy}, {v}, false, std::nullopt,
                                            /*allow_unused=*/true);
    // Piecewise-linear activations have no curvature: PyTorch stores zeros, the engine may
    // return zeros or no gradient at all.
    if (gg[0].defined()) {
      EXPECT_TRUE(close(c + " ggx", gg[0], f.host(c, "ggx"), Tol{2}));
    } else {
      EXPECT_TRUE(close(c + " ggx", zeros_like(f.host(c, "ggx")), f.host(c, "ggx")));
    }
    EXPECT_TRUE(close(c + " ggy", gg[1], f.host(c, "ggy"), Tol{2}));
  };
  EXPECT_GE(for_each_case(f, op_is("bias_act"), check), 12);
}

TEST_P(GoldenTest, LeakyRelu) {
  const File& f = File::get("bias_act");
  const auto check = [&](const std::string& c, const Params& p) {
    const Tensor x = f.on(c, "x", device(), true);
    const Tensor y = leaky_relu(x, p.f("negative_slope"));
    EXPECT_TRUE(close(c + " y", y, f.host(c, "y")));
    const std::vector<Tensor> g = ge::grad({y}, {x}, {f.on(c, "gy", device())});
    EXPECT_TRUE(close(c + " gx", g[0], f.host(c, "gx")));
  };
  EXPECT_EQ(for_each_case(f, op_is("leaky_relu"), check), 2);
}

GE_INSTANTIATE_DEVICE_TEST(GoldenTest);

}  // namespace
}  // namespace ge::golden
