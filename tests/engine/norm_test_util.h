#pragma once
// What the batch_norm2d and instance_norm2d op tests share: their gradcheck inputs and the
// create-graph gradient whose gradgradcheck checks the third order.
#include <cstdint>
#include <vector>

#include "engine/op_test_util.h"
#include "ganengine/autograd.h"

namespace ge::optest {

// x, weight and bias as requested; running statistics that gradcheck's repeated calls update
// are left out of the training cases (they do not change the output in training mode).
inline std::vector<Tensor> inputs_for(const Shape& s, Device d, bool affine, uint32_t seed) {
  std::vector<Tensor> in = {make(lcg_values(count(s), seed, -1.f, 1.f), s, d, true)};
  if (affine) {
    in.push_back(make(lcg_values(s[1], seed + 1, 0.5f, 1.5f), {s[1]}, d, true));
    in.push_back(make(lcg_values(s[1], seed + 2), {s[1]}, d, true));
  }
  return in;
}

// in -> d sum(norm(x, in)^2 v) / dx with create_graph, x = in[0]: a function whose gradgradcheck
// differentiates the normalisation three times.
template <typename Norm>
auto create_graph_grad(const Tensor& v, Norm norm) {
  return [v, norm](const std::vector<Tensor>& in) {
    EnableGradGuard enable;
    const Tensor x = in[0].requires_grad() ? in[0] : in[0].detach().requires_grad_(true);
    const Tensor y = norm(x, in);
    // A non-linear function of y, so that the second derivative in x is not trivial.
    return grad({sum(square(y) * v)}, {x}, {}, /*create_graph=*/true)[0];
  };
}

}  // namespace ge::optest
