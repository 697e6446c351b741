#pragma once
// One case of a fused loss's golden file (tests/golden/loss.safetensors), checked the same way
// for every loss: the loss, the gradients for x (and a tensor target) from gy, and where the case
// holds ggx the second-order gradient of <gx, v>.
#include <string>
#include <vector>

#include "ganengine/autograd.h"
#include "ganengine/loss.h"
#include "golden/golden.h"

namespace ge::golden {

inline Reduction reduction_of(const std::string& name) {
  if (name == "none") return Reduction::None;
  if (name == "sum") return Reduction::Sum;
  return Reduction::Mean;
}

// loss(x, t, r) with t undefined for the cases without a target tensor. A reduced loss sums
// every element (tolerance of n roundings); the elementwise values and gradients are checked to
// `elementwise`, the second-order gradient to ggx_tol.
template <typename Loss>
void check_loss_case(const File& f, const std::string& c, const Params& p, Device device,
                     Loss&& loss, const Tol& elementwise, const Tol& ggx_tol) {
  const Reduction r = reduction_of(p.str("reduction"));
  const Tensor x = f.on(c, "x", device, true);
  const bool tensor_target = f.has(c, "target");
  const Tensor t = tensor_target ? f.on(c, "target", device, true) : Tensor();
  const Tol reduced{static_cast<double>(x.numel())};
  const Tensor y = loss(x, t, r);
  EXPECT_TRUE(close(c + " y", y, f.host(c, "y"), r == Reduction::None ? elementwise : reduced));

  std::vector<Tensor> inputs{x};
  if (tensor_target) inputs.push_back(t);
  const bool second = f.has(c, "ggx");
  const std::vector<Tensor> g = ge::grad({y}, inputs, {f.on(c, "gy", device)}, second);
  EXPECT_TRUE(close(c + " gx", g[0], f.host(c, "gx"), elementwise));
  if (tensor_target) {
    EXPECT_TRUE(close(c + " gtarget", g[1], f.host(c, "gtarget"), elementwise));
  }
  if (second) {
    const Tensor ggx = ge::grad({g[0]}, {x}, {f.on(c, "v", device)})[0];
    EXPECT_TRUE(close(c + " ggx", ggx, f.host(c, "ggx"), ggx_tol));
  }
}

}  // namespace ge::golden
