// Finite-difference checks. The analytical Jacobian is built row by row: one backward per
// output element with a one-hot grad_output. Numerical columns come from central differences
// on host copies of each input, re-uploaded to the input's device.
#include "ganengine/gradcheck.h"

#include <cmath>
#include <sstream>

#include "ganengine/autograd.h"
#include "ganengine/error.h"
#include "ganengine/ops.h"

namespace ge {

namespace {

bool mismatch(const GradcheckOptions& opt, const std::string& message) {
  if (opt.raise) throw Error(message);
  return false;
}

std::vector<size_t> differentiable_inputs(const std::vector<Tensor>& inputs, const char* op) {
  std::vector<size_t> idx;
  for (size_t i = 0; i < inputs.size(); ++i) {
    GE_CHECK(inputs[i].defined(), op, ": input ", i, " is undefined");
    if (inputs[i].requires_grad()) {
      GE_CHECK(inputs[i].dtype() == Dtype::Float32, op, ": input ", i, " must be float32, got ",
               name(inputs[i].dtype()));
      idx.push_back(i);
    }
  }
  GE_CHECK(!idx.empty(), op, ": expected at least one input that requires grad");
  return idx;
}

// Grad mode is left as the caller has it: fn may differentiate internally (a gradient
// penalty calls grad()). The arguments are detached, so no graph reaches the real inputs.
std::vector<float> evaluate(const DifferentiableFn& fn, const std::vector<Tensor>& args) {
  const Tensor out = fn(args);
  GE_CHECK(out.defined(), "gradcheck: the function returned an undefined tensor");
  return out.to_vector();
}

}  // namespace

bool gradcheck(const DifferentiableFn& fn, const std::vector<Tensor>& inputs,
               const GradcheckOptions& options) {
  const std::vector<size_t> diff = differentiable_inputs(inputs, "gradcheck");
  Tensor out;
  {
    EnableGradGuard grad_mode;
    out = fn(inputs);
  }
  GE_CHECK(out.defined(), "gradcheck: the function returned an undefined tensor");
  const int64_t n_out = out.numel();

  // analytical[p][j * n_out + k] = d out[k] / d inputs[diff[p]][j]
  std::vector<std::vector<double>> analytical(diff.size());
  std::vector<Tensor> wrt;
  for (size_t p = 0; p < diff.size(); ++p) {
    wrt.push_back(inputs[diff[p]]);
    analytical[p].assign(static_cast<size_t>(inputs[diff[p]].numel() * n_out), 0.0);
  }
  if (out.requires_grad()) {
    for (int64_t k = 0; k < n_out; ++k) {
      std::vector<float> onehot(static_cast<size_t>(n_out), 0.f);
      onehot[static_cast<size_t>(k)] = 1.f;
      const Tensor g = from_vector(onehot, out.shape(), out.device());
      const std::vector<Tensor> grads = ge::grad({out}, wrt, {g}, false, true, true);
      for (size_t p = 0; p < diff.size(); ++p) {
        if (!grads[p].defined()) continue;
        const std::vector<float> row = grads[p].to_vector();
        for (size_t j = 0; j < row.size(); ++j) {
          analytical[p][j * static_cast<size_t>(n_out) + static_cast<size_t>(k)] = row[j];
        }
      }
    }
  }

  for (size_t p = 0; p < diff.size(); ++p) {
    const size_t i = diff[p];
    const Tensor& input = inputs[i];
    std::vector<float> host = input.to_vector();
    std::vector<Tensor> args;
    for (const Tensor& t : inputs)
      args.push_back(t.detach());
    for (size_t j = 0; j < host.size(); ++j) {
      const float original = host[j];
      host[j] = static_cast<float>(original + options.eps);
      args[i] = from_vector(host, input.shape(), input.device());
      const std::vector<float> plus = evaluate(fn, args);
      host[j] = static_cast<float>(original - options.eps);
      args[i] = from_vector(host, input.shape(), input.device());
      const std::vector<float> minus = evaluate(fn, args);
      host[j] = original;
      // The perturbation actually applied, after rounding to float32.
      const double step = static_cast<double>(static_cast<float>(original + options.eps)) -
                          static_cast<double>(static_cast<float>(original - options.eps));
      for (int64_t k = 0; k < n_out; ++k) {
        const size_t uk = static_cast<size_t>(k);
        const double numerical =
            (static_cast<double>(plus[uk]) - static_cast<double>(minus[uk])) / step;
        const double a = analytical[p][j * static_cast<size_t>(n_out) + uk];
        if (!(std::fabs(a - numerical) <= options.atol + options.rtol * std::fabs(numerical))) {
          std::ostringstream msg;
          msg << "gradcheck: Jacobian mismatch for input " << i << " (shape "
              << to_string(input.shape()) << "), element " << j << ", output element " << k
              << ": numerical " << numerical << " vs analytical " << a << " (atol " << options.atol
              << ", rtol " << options.rtol << ")";
          return mismatch(options, msg.str());
        }
      }
    }
  }
  return true;
}

bool gradgradcheck(const DifferentiableFn& fn, const std::vector<Tensor>& inputs,
                   const Tensor& grad_output, const GradcheckOptions& options) {
  const std::vector<size_t> diff = differentiable_inputs(inputs, "gradgradcheck");
  Tensor v = grad_output;
  if (!v.defined()) {
    std::vector<Tensor> detached;
    for (const Tensor& t : inputs)
      detached.push_back(t.detach());
    const Tensor out = fn(detached);
    Generator gen(0x9e3779b9);  // fixed, so a failure reproduces
    v = randn(out.shape(), TensorOptions(out.device()), &gen);
  }
  std::vector<Tensor> args = inputs;
  args.push_back(v.detach().requires_grad_(true));

  // (inputs, v) -> the vector-Jacobian product of fn, flattened into one tensor.
  const DifferentiableFn vjp = [&fn, diff](const std::vector<Tensor>& a) {
    EnableGradGuard grad_mode;
    std::vector<Tensor> xs(a.begin(), a.end() - 1);
    const Tensor& vv = a.back();
    std::vector<Tensor> wrt;
    for (size_t i : diff) {
      // Finite-difference evaluations pass plain copies; they need history for grad().
      if (!xs[i].requires_grad()) xs[i] = xs[i].detach().requires_grad_(true);
      wrt.push_back(xs[i]);
    }
    const Tensor y = fn(xs);
    std::vector<Tensor> parts;
    std::vector<Tensor> grads;
    if (y.requires_grad()) grads = ge::grad({y}, wrt, {vv}, true, true, true);
    for (size_t p = 0; p < wrt.size(); ++p) {
      const bool have = p < grads.size() && grads[p].defined();
      parts.push_back(have ? grads[p].reshape({-1}) : zeros({wrt[p].numel()}, wrt[p].device()));
    }
    return cat(parts, 0);
  };
  return gradcheck(vjp, args, options);
}

}  // namespace ge
