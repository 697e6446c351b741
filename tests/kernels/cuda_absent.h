#pragma once
// The few CUDA runtime calls the kernel tests make, for a build without the CUDA backend
// (GE_CUDA_OFF): there is no device, so every call reports cudaErrorNoDevice and the tests'
// cuda cases skip in KernelTest::SetUp before reaching one.
#include <cstddef>

enum cudaError_t { cudaSuccess = 0, cudaErrorNoDevice = 100 };
enum cudaMemcpyKind { cudaMemcpyHostToDevice = 1, cudaMemcpyDeviceToHost = 2 };

inline cudaError_t cudaGetDeviceCount(int* count) {
  *count = 0;
  return cudaErrorNoDevice;
}
inline cudaError_t cudaDeviceSynchronize() {
  return cudaErrorNoDevice;
}
inline cudaError_t cudaMalloc(void**, size_t) {
  return cudaErrorNoDevice;
}
inline cudaError_t cudaFree(void*) {
  return cudaErrorNoDevice;
}
inline cudaError_t cudaMemcpy(void*, const void*, size_t, cudaMemcpyKind) {
  return cudaErrorNoDevice;
}
inline cudaError_t cudaMemset(void*, int, size_t) {
  return cudaErrorNoDevice;
}
inline const char* cudaGetErrorName(cudaError_t err) {
  return err == cudaSuccess ? "cudaSuccess" : "cudaErrorNoDevice";
}
inline const char* cudaGetErrorString(cudaError_t err) {
  return err == cudaSuccess ? "no error" : "no CUDA-capable device is detected";
}
