#pragma once
// Validation and raw kernel calls on tensors: no autograd here. Ops in ops/ validate through
// these helpers, run the kernel for the inputs' device, then record their backward.
#include <initializer_list>
#include <utility>
#include <vector>

#include "ganengine/kernels/elementwise.h"
#include "ganengine/kernels/matmul.h"
#include "ganengine/kernels/reduce.h"
#include "ganengine/kernels/types.h"
#include "ganengine/tensor.h"

namespace ge::detail {

void check_defined(const Tensor& t, const char* op);
void check_float(const Tensor& t, const char* op);
// Defined, float32, and (for b) on a's device.
void check_operand(const Tensor& t, const char* op);
void check_same_device(const Tensor& a, const Tensor& b, const char* op);
// check_operand for each tensor in order, then each on the first one's device.
void check_operands(std::initializer_list<Tensor> tensors, const char* op);

kernels::StridedShape strided_shape(const Shape& shape, const char* op);
// Strides of `t` read as an operand of shape `out` (0 on broadcast dims).
kernels::Strides broadcast_strides(const Tensor& t, const Shape& out, const char* op);

Tensor unary_kernel(kernels::UnaryOp op, const Tensor& x, kernels::UnaryParams p = {});
Tensor binary_kernel(kernels::BinaryOp op, const Tensor& a, const Tensor& b, const char* name);
// dims: distinct, wrapped. Chains one kernel call per reduced dim.
Tensor reduce_kernel(kernels::ReduceOp op, const Tensor& x, std::vector<int64_t> dims,
                     bool keepdim);
// dst[i] = src[i] for tensors of one shape on one device; any strides.
void copy_kernel(const Tensor& src, const Tensor& dst);
Tensor contiguous_kernel(const Tensor& x);
// A contiguous copy of x on `device`.
Tensor transfer(const Tensor& x, Device device);
// Copies a contiguous host buffer into the contiguous tensor `dst`.
void upload(const float* host, const Tensor& dst);
void fill_kernel(const Tensor& contiguous_dst, float value);
// Runs the GEMM on `device`'s kernels (the CPU kernels' SGEMM, or cuBLAS on the engine stream,
// in TF32 when allow_tf32_matmul()).
void gemm_kernel(const kernels::GemmArgs& args, Device device);

// t itself when it is undefined or contiguous, else a contiguous copy (no history): a tensor a
// kernel can read through data_ptr().
Tensor contiguous_operand(const Tensor& t);
// t.data_ptr(), or null for an undefined t (an optional operand).
float* data_or_null(const Tensor& t);
// n floats of scratch on `device` for a kernel's workspace (undefined when n == 0).
Tensor workspace_floats(int64_t n, Device device);
// The engine stream of a CUDA device (cuda_rt::stream), for kernel launchers.
kernels::Stream kernel_stream(Device device);

// One op family's launcher for `device`: cpu(args...) on the CPU, or cuda(args..., stream) on
// the CUDA device's engine stream. The two launchers take the same arguments but the stream.
template <typename... CpuParams, typename... CudaParams, typename... Args>
void run_kernel(Device device, void (*cpu)(CpuParams...), void (*cuda)(CudaParams...),
                Args&&... args) {
  if (device.is_cuda()) {
    cuda(std::forward<Args>(args)..., kernel_stream(device));
  } else {
    cpu(std::forward<Args>(args)...);
  }
}

}  // namespace ge::detail
