// The dispatch.h helpers ops use around a kernel call: operand checks, operands and scratch in
// the form launchers take, and the stream they run on.
#include "cuda/runtime.h"
#include "dispatch.h"
#include "tensor_impl.h"

namespace ge::detail {

void check_operands(std::initializer_list<Tensor> tensors, const char* op) {
  for (const Tensor& t : tensors)
    check_operand(t, op);
  for (const Tensor& t : tensors)
    if (&t != tensors.begin()) check_same_device(*tensors.begin(), t, op);
}

Tensor contiguous_operand(const Tensor& t) {
  return !t.defined() || t.is_contiguous() ? t : contiguous_kernel(t);
}

float* data_or_null(const Tensor& t) {
  return t.defined() ? t.data_ptr() : nullptr;
}

Tensor workspace_floats(int64_t n, Device device) {
  return n > 0 ? empty_raw({n}, device) : Tensor();
}

kernels::Stream kernel_stream(Device device) {
  return cuda_rt::stream(device);
}

}  // namespace ge::detail
