#include "cuda/runtime.h"

#include <array>
#include <mutex>

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

void set_device(Device device) {
  GE_CHECK(device.is_cuda(), "cuda: expected a cuda device, got ", device.str());
  GE_CHECK(device.index >= 0 && device.index < cuda_device_count(), "cuda: device ", device.str(),
           " does not exist (", cuda_device_count(), " CUDA devices)");
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

}  // namespace ge::cuda_rt
