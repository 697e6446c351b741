#pragma once
// The engine side every fused loss (loss.cpp, regression_loss.cpp) shares: the reduction and the
// target as the kernels take them, the target tensor's checks, and the launches of a family's
// forward and backward kernels with their operands made contiguous and the CUDA workspace
// allocated. Each family keeps its own math and its own backward nodes.
#include <cstdint>
#include <tuple>

#include "dispatch.h"
#include "ganengine/error.h"
#include "ganengine/kernels/loss.h"
#include "ganengine/loss.h"
#include "ganengine/tensor.h"
#include "tensor_impl.h"

namespace ge::detail {

// A fused loss's launchers (kernels/include/ganengine/kernels/<family>.h), each taking the
// family's leading arguments `lead` (its kind, if any) first.
template <typename Args, typename... Lead>
struct FusedLossKernels {
  void (*cpu)(Lead..., kernels::LossReduction, const Args&, float*);
  void (*cpu_backward)(Lead..., kernels::LossReduction, const Args&, const float*, float*);
  int64_t (*cuda_workspace)(kernels::LossReduction, int64_t);
  void (*cuda)(Lead..., kernels::LossReduction, const Args&, float*, float*, int64_t,
               kernels::Stream);
  void (*cuda_backward)(Lead..., kernels::LossReduction, const Args&, const float*, float*,
                        kernels::Stream);
  std::tuple<Lead...> lead;
};

// What every fused loss's backward needs to know of its forward call.
struct FusedLossSpec {
  float target_value = 0.f;  // used when no target tensor is given
  kernels::LossReduction reduction = kernels::LossReduction::Mean;
  float divisor = 1.f;  // n for the mean, else 1: what the gradient is divided by
};

inline kernels::LossReduction loss_kernel_reduction(Reduction r, const char* op) {
  switch (r) {
    case Reduction::None:
      return kernels::LossReduction::None;
    case Reduction::Mean:
      return kernels::LossReduction::Mean;
    case Reduction::Sum:
      return kernels::LossReduction::Sum;
  }
  fail(op, ": expected Reduction::None, Mean or Sum, got ", static_cast<int>(r));
}

inline FusedLossSpec fused_loss_spec(const char* op, const Tensor& x, Reduction reduction,
                                     float target) {
  FusedLossSpec s;
  s.target_value = target;
  s.reduction = loss_kernel_reduction(reduction, op);
  s.divisor = reduction == Reduction::Mean ? static_cast<float>(x.numel()) : 1.f;
  return s;
}

// A target tensor for `input`: defined, float32, on input's device and of its shape.
// input_name names input in the shape message ("logits'", "input's").
inline void check_loss_target(const char* op, const Tensor& input, const Tensor& target,
                              const char* input_name) {
  GE_CHECK(target.defined(), op, ": expected a defined target tensor, got an undefined one");
  check_float(target, op);
  check_same_device(input, target, op);
  GE_CHECK(target.shape() == input.shape(), op, ": expected target of shape ",
           to_string(input.shape()), " (the ", input_name, " shape), got ",
           to_string(target.shape()));
}

// base with the contiguous operands xc and tc (undefined: base.target_value for every element).
template <typename Args>
Args with_loss_operands(Args base, const Tensor& xc, const Tensor& tc) {
  base.x = xc.data_ptr();
  base.target = tc.defined() ? tc.data_ptr() : nullptr;
  base.n = xc.numel();
  return base;
}

// The loss values (None) or their reduction, without history.
template <typename Args, typename... Lead>
Tensor run_fused_loss(const FusedLossKernels<Args, Lead...>& f, kernels::LossReduction reduction,
                      const Args& base, const Tensor& x, const Tensor& t) {
  const Tensor xc = contiguous_operand(x), tc = contiguous_operand(t);
  const bool reduce = reduction != kernels::LossReduction::None;
  Tensor out = empty_raw(reduce ? Shape{} : x.shape(), x.device());
  const Args a = with_loss_operands(base, xc, tc);
  if (x.device().is_cuda()) {
    const int64_t need = f.cuda_workspace(reduction, a.n);
    const Tensor workspace = workspace_floats(need, x.device());
    std::apply(
        [&](Lead... lead) {
          f.cuda(lead..., reduction, a, out.data_ptr(), data_or_null(workspace), need,
                 kernel_stream(x.device()));
        },
        f.lead);
  } else {
    std::apply([&](Lead... lead) { f.cpu(lead..., reduction, a, out.data_ptr()); }, f.lead);
  }
  return out;
}

// dx for the incoming gradient g (x's shape for None, a scalar otherwise), without history.
template <typename Args, typename... Lead>
Tensor run_fused_loss_grad(const FusedLossKernels<Args, Lead...>& f,
                           kernels::LossReduction reduction, const Args& base, const Tensor& g,
                           const Tensor& x, const Tensor& t) {
  const Tensor gc = contiguous_operand(g);
  const Tensor xc = contiguous_operand(x), tc = contiguous_operand(t);
  Tensor dx = empty_raw(x.shape(), x.device());
  const Args a = with_loss_operands(base, xc, tc);
  if (a.n == 0) return dx;
  std::apply(
      [&](Lead... lead) {
        run_kernel(x.device(), f.cpu_backward, f.cuda_backward, lead..., reduction, a,
                   gc.data_ptr(), dx.data_ptr());
      },
      f.lead);
  return dx;
}

}  // namespace ge::detail
