// spectral_norm against torch.nn.utils.spectral_norm (PyTorch 1.13, tests/golden/) on Linear,
// Conv2d and ConvTranspose2d (dim 1) weights: one training forward updates u and v in place
// and gives weight / sigma; its gradient for a fixed upstream gradient; then an eval forward
// with the updated buffers, which must leave them alone.
#include "ganengine/spectral_norm.h"

#include <string>
#include <vector>

#include "ganengine/autograd.h"
#include "golden/golden.h"
#include "support/devices.h"

namespace ge::golden {
namespace {

class GoldenSpectralNorm : public DeviceTest {};

TEST_P(GoldenSpectralNorm, TrainingStepEvalAndGradient) {
  const File& f = File::get("spectral_norm");
  const auto check = [&](const std::string& c, const Params& p) {
    SpectralNormOptions o;
    o.dim = p.i("dim");
    o.n_power_iterations = static_cast<int>(p.i("n_power_iterations"));
    o.eps = p.f("eps");
    const Tensor weight = f.on(c, "weight", device(), true);
    const Tensor u = f.on(c, "u0", device()), v = f.on(c, "v0", device());
    // Every result goes through sigma = u^T W v, a sum over the whole matrix.
    const Tol tol{static_cast<double>(weight.numel())};

    const Tensor w_sn = spectral_norm(weight, u, v, o);
    EXPECT_TRUE(close(c + " u1", u, f.host(c, "u1"), tol));
    EXPECT_TRUE(close(c + " v1", v, f.host(c, "v1"), tol));
    EXPECT_TRUE(close(c + " w_sn", w_sn, f.host(c, "w_sn"), tol));
    const std::vector<Tensor> g = ge::grad({w_sn}, {weight}, {f.on(c, "gy", device())});
    EXPECT_TRUE(close(c + " gw", g[0], f.host(c, "gw"), tol));

    o.training = false;
    const Tensor w_eval = spectral_norm(weight, u, v, o);
    EXPECT_TRUE(close(c + " w_sn_eval", w_eval, f.host(c, "w_sn_eval"), tol));
    EXPECT_TRUE(close(c + " u after eval", u, f.host(c, "u1"), tol));
    EXPECT_TRUE(close(c + " v after eval", v, f.host(c, "v1"), tol));
  };
  EXPECT_EQ(for_each_case(f, check), 3);
}

GE_INSTANTIATE_DEVICE_TEST(GoldenSpectralNorm);

}  // namespace
}  // namespace ge::golden
