#pragma once
// Precision policy of FP32 work on CUDA.
//
// TF32: with it allowed, FP32 convolutions on CUDA (the native algorithm: forward, transposed
// and weight gradient) run on the tensor cores, their inputs rounded to TF32 (10 mantissa bits,
// to nearest) and the products summed in FP32; about 1e-3 relative error per product in exchange
// for the tensor cores' throughput. On by default, as PyTorch's torch.backends.cudnn.allow_tf32.
// Off gives the exact FP32 path; gradcheck and comparisons against FP32 references want it off.
// CPU convolutions are always FP32. Process-wide; the GE_ALLOW_TF32 environment variable (0 or
// 1) sets the value before the first call.
namespace ge {

void set_allow_tf32(bool allow);
bool allow_tf32();
// What GE_ALLOW_TF32 asks for: unset or empty gives the default (true); anything but 0 or 1
// throws ge::Error naming the variable and the value.
bool allow_tf32_from_env();

// TF32 for matmul (and linear, which runs through it) on CUDA: cuBLAS with
// CUBLAS_TF32_TENSOR_OP_MATH, its inputs taken to TF32 and the products summed in FP32. Off by
// default, as PyTorch's torch.backends.cuda.matmul.allow_tf32 since 1.12; GE_ALLOW_TF32_MATMUL
// (0 or 1) sets the value before the first call. The CPU matmul is always FP32.
void set_allow_tf32_matmul(bool allow);
bool allow_tf32_matmul();
// What GE_ALLOW_TF32_MATMUL asks for: unset or empty gives the default (false).
bool allow_tf32_matmul_from_env();

}  // namespace ge
