// The WGAN-GP step against PyTorch 1.13 (tests/golden/): interpolation, a small critic
// (conv k3 s2 p1 + leaky_relu 0.2 + linear), the critic's input gradient with create_graph, the
// penalty 10 * mean((||grad|| - 1)^2), and the penalty's gradient with respect to the critic's
// weights, which runs through the second-order backward of every op in the critic.
#include "ganengine/gradient_penalty.h"

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

class GoldenGradientPenalty : public DeviceTest {};

TEST_P(GoldenGradientPenalty, CriticStep) {
  const File& f = File::get("gradient_penalty");
  const std::string c = "wgan_gp_critic";
  const Params p = f.params(c);
  const Tensor real = f.on(c, "real", device()), fake = f.on(c, "fake", device());
  const Tensor alpha = f.on(c, "alpha", device());
  const Tensor cw = f.on(c, "conv_w", device(), true), cb = f.on(c, "conv_b", device(), true);
  const Tensor lw = f.on(c, "lin_w", device(), true), lb = f.on(c, "lin_b", device(), true);

  const Tensor x_hat_value = gradient_penalty_interpolate(real, fake, alpha);
  EXPECT_TRUE(close("x_hat", x_hat_value, f.host(c, "x_hat"), Tol{2}));
  const Tensor x_hat = x_hat_value.detach().requires_grad_(true);
  const Conv2dOptions o(p.i("conv_stride"), p.i("conv_padding"));
  const Tensor h = leaky_relu(conv2d(x_hat, cw, cb, o), p.f("lrelu_alpha"));
  const Tensor out = linear(h.flatten(1), lw, lb);
  // The longest chain of sums: 9 conv taps feeding 64 linear inputs, and back.
  const Tol tol{9.0 * 64.0};
  EXPECT_TRUE(close("out", out, f.host(c, "out"), tol));
  const Tensor gx = ge::grad({out.sum()}, {x_hat}, {}, /*create_graph=*/true)[0];
  EXPECT_TRUE(close("grad_x", gx, f.host(c, "grad_x"), tol));
  const Tensor penalty = gradient_penalty(gx, p.f("lam"));
  EXPECT_TRUE(close("penalty", penalty, f.host(c, "penalty"), tol));
  const std::vector<Tensor> g = ge::grad({penalty}, {cw, lw});
  EXPECT_TRUE(close("g_conv_w", g[0], f.host(c, "g_conv_w"), tol));
  EXPECT_TRUE(close("g_lin_w", g[1], f.host(c, "g_lin_w"), tol));
}

GE_INSTANTIATE_DEVICE_TEST(GoldenGradientPenalty);

}  // namespace
}  // namespace ge::golden
