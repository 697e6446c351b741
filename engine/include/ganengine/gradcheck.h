#pragma once
// Finite-difference checks of first and second derivatives. Differences are taken in float32
// (the engine's dtype) with central differences and accumulated in double.
#include <functional>
#include <vector>

#include "ganengine/tensor.h"

namespace ge {

struct GradcheckOptions {
  double eps = 1e-3;   // perturbation
  double atol = 1e-3;  // |analytical - numerical| <= atol + rtol * |numerical|
  double rtol = 1e-2;
  bool raise = true;  // throw ge::Error describing the first mismatch instead of returning false
};

using DifferentiableFn = std::function<Tensor(const std::vector<Tensor>& inputs)>;

// Compares the Jacobian of fn (from backward) with finite differences for every input that
// requires grad. Inputs may live on any device.
bool gradcheck(const DifferentiableFn& fn, const std::vector<Tensor>& inputs,
               const GradcheckOptions& options = {});

// gradcheck of (inputs, v) -> grad(fn(inputs), inputs, v, create_graph=true): checks the
// second derivatives. v is random when grad_output is undefined.
bool gradgradcheck(const DifferentiableFn& fn, const std::vector<Tensor>& inputs,
                   const Tensor& grad_output = Tensor(), const GradcheckOptions& options = {});

}  // namespace ge
