#include "cuda/runtime.h"

#include <array>
#include <mutex>
#include <string>

#include "ganengine/error.h"

namespace ge::cuda_rt {

namespace {
constexpr int kMaxCudaDevices = 16;
}

void check(cudaError_t err, const char* what) {
  if (err != cudaSuccess) {
    fail(what, " failed: ", cudaGetErrorName(err), ": ", cudaGetErrorString(err));
  }
}

int device_count() {
  // Queried once: without a GPU (or driver) an nvcc build gets an error here, which means
  // "no CUDA devices" rather than a failure.
  static const int count = [] {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
      (void)cudaGetLastError();  // clear the sticky error so later calls start clean
      return 0;
    }
    return n;
  }();
  return count;
}

const char* unavailable_reason() {
  return "no CUDA device is available";
}

std::string device_label(Device device) {
  GE_CHECK(device.is_cuda() && device.index >= 0 && device.index < device_count(), "cuda: device ",
           device.str(), " does not exist (", device_count(), " CUDA devices)");
  cudaDeviceProp prop{};
  check(cudaGetDeviceProperties(&prop, device.index), "cudaGetDeviceProperties");
  return std::string(prop.name) + ", sm_" + std::to_string(prop.major) +
         std::to_string(prop.minor) + ", " + std::to_string(prop.multiProcessorCount) + " SMs";
}

void set_device(Device device) {
  GE_CHECK(device.is_cuda(), "cuda: expected a cuda device, got ", device.str());
  GE_CHECK(device.index >= 0 && device.index < device_count(), "cuda: device ", device.str(),
           " does not exist (", device_count(), " CUDA devices)");
  int current = -1;
  check(cudaGetDevice(&current), "cudaGetDevice");
  if (current != device.index) check(cudaSetDevice(device.index), "cudaSetDevice");
}

kernels::Stream stream(Device device) {
  // Non-blocking streams, created once per device and never destroyed: they must outlive
  // every tensor, including ones freed during static destruction. Non-blocking keeps the
  // engine from serialising against legacy-default-stream work of other libraries; the engine
  // itself never uses the default stream, so nothing of ours needs the implicit sync.
  static std::array<std::once_flag, kMaxCudaDevices> once;
  static std::array<cudaStream_t, kMaxCudaDevices> streams{};
  set_device(device);
  GE_CHECK(device.index < kMaxCudaDevices, "cuda: device index ", device.index,
           " exceeds the supported ", kMaxCudaDevices);
  std::call_once(once[static_cast<size_t>(device.index)], [&] {
    check(cudaStreamCreateWithFlags(&streams[static_cast<size_t>(device.index)],
                                    cudaStreamNonBlocking),
          "cudaStreamCreateWithFlags");
  });
  return streams[static_cast<size_t>(device.index)];
}

void sync_stream(Device device) {
  check(cudaStreamSynchronize(stream(device)), "cudaStreamSynchronize");
}

void copy_to_host(void* host, const void* src, size_t bytes, Device device) {
  check(cudaMemcpyAsync(host, src, bytes, cudaMemcpyDeviceToHost, stream(device)),
        "cudaMemcpyAsync (device to host)");
  sync_stream(device);
}

void copy_from_host(void* dst, const void* host, size_t bytes, Device device) {
  check(cudaMemcpyAsync(dst, host, bytes, cudaMemcpyHostToDevice, stream(device)),
        "cudaMemcpyAsync (host to device)");
  sync_stream(device);
}

}  // namespace ge::cuda_rt
