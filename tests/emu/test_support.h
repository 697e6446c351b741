#pragma once
// Helpers for the emulator self-tests: device buffers that kernels may be given, and how a
// GE_LAUNCH failed, whether at the launch or, for faults inside the kernel, at the
// synchronisation that follows it.
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include "ganengine/emu/cuda.h"
#include "ganengine/error.h"

namespace ge::emu_test {

struct LaunchOutcome {
  cudaError_t error = cudaSuccess;
  std::string message;
};

// Runs `launch` and synchronises the device: a launch error comes from the ge::Error that
// GE_LAUNCH throws, a fault inside the kernel from cudaDeviceSynchronize, as on a GPU.
template <typename Launch>
LaunchOutcome outcome_of(Launch&& launch) {
  (void)cudaGetLastError();
  try {
    launch();
  } catch (const ge::Error& e) {
    return {cudaGetLastError(), e.what()};
  }
  if (const cudaError_t error = cudaDeviceSynchronize(); error != cudaSuccess) {
    std::string detail = ge::emu::last_error_detail();
    (void)cudaGetLastError();
    return {error, std::move(detail)};
  }
  return {cudaGetLastError(), {}};
}

// Under CUDA_LAUNCH_BLOCKING=1 work runs when it is queued, and the tests that look at queued
// work before a synchronisation do not apply.
inline bool launch_blocking() {
  const char* text = std::getenv("CUDA_LAUNCH_BLOCKING");
  return text != nullptr && std::string(text) == "1";
}

// `n` values of T in device memory (cudaMalloc), copied from and to host vectors.
template <typename T>
class DeviceVector {
 public:
  explicit DeviceVector(std::size_t n, const T& value = T{})
      : DeviceVector(std::vector<T>(n, value)) {}
  explicit DeviceVector(const std::vector<T>& values) : size_(values.size()) {
    if (cudaMalloc(reinterpret_cast<void**>(&data_), bytes()) != cudaSuccess) {
      throw std::runtime_error("cudaMalloc failed");
    }
    set(values);
  }
  DeviceVector(const DeviceVector&) = delete;
  DeviceVector& operator=(const DeviceVector&) = delete;
  ~DeviceVector() { (void)cudaFree(data_); }

  T* data() const { return data_; }
  std::size_t size() const { return size_; }

  void set(const std::vector<T>& values) {
    if (values.size() != size_ ||
        cudaMemcpy(data_, values.data(), bytes(), cudaMemcpyHostToDevice) != cudaSuccess) {
      throw std::runtime_error("upload to a DeviceVector failed");
    }
  }
  // Copies back through cudaMemcpy, which waits for the work queued before it.
  std::vector<T> get() const {
    std::vector<T> values(size_);
    if (cudaMemcpy(values.data(), data_, bytes(), cudaMemcpyDeviceToHost) != cudaSuccess) {
      throw std::runtime_error("download from a DeviceVector failed: " +
                               ge::emu::last_error_detail());
    }
    return values;
  }

 private:
  std::size_t bytes() const { return size_ * sizeof(T); }
  T* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace ge::emu_test
