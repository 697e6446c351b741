// Error reporting for GE_LAUNCH and GE_CUDA_CHECK, and the device facts launchers size grids by.
#include "cuda/launch.cuh"

#include <array>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "common/grid.h"
#include "cuda/channel_of.cuh"

namespace ge::cuda {

void throw_launch_error(const char* kernel, dim3 grid, dim3 block, size_t shared_bytes,
                        cudaError_t err) {
  std::string detail;
#if defined(GE_CUDA_EMULATOR)
  detail = ::ge::emu::last_error_detail();
#endif
  fail("CUDA launch of ", kernel, " (grid ", grid.x, "x", grid.y, "x", grid.z, ", block ", block.x,
       "x", block.y, "x", block.z, ", ", shared_bytes,
       " B dynamic shared memory) failed: ", cudaGetErrorName(err), ": ", cudaGetErrorString(err),
       detail.empty() ? "" : ": ", detail);
}

void throw_runtime_error(const char* expr, const char* file, int line, cudaError_t err) {
  std::string detail;
#if defined(GE_CUDA_EMULATOR)
  detail = ::ge::emu::last_error_detail();
#endif
  fail(expr, " failed at ", file, ":", line, ": ", cudaGetErrorName(err), ": ",
       cudaGetErrorString(err), detail.empty() ? "" : ": ", detail);
}

int sm_count() {
  constexpr int kMaxDevices = 64;
  static std::array<std::atomic<int>, kMaxDevices> counts{};  // 0: not read yet
  int device = 0;
  GE_CUDA_CHECK(cudaGetDevice(&device));
  GE_CHECK(device >= 0 && device < kMaxDevices, "sm_count: device ", device, " beyond the ",
           kMaxDevices, " supported");
  std::atomic<int>& slot = counts[static_cast<size_t>(device)];
  int n = slot.load(std::memory_order_relaxed);
  if (n == 0) {
    GE_CUDA_CHECK(cudaDeviceGetAttribute(&n, cudaDevAttrMultiProcessorCount, device));
    GE_CHECK(n > 0, "sm_count: device ", device, " reports ", n, " SMs");
    slot.store(n, std::memory_order_relaxed);
  }
  return n;
}

}  // namespace ge::cuda

namespace ge::kernels::cuda {

bool narrow_index(int64_t n) {
  static const bool wide = [] {
    const char* v = std::getenv("GE_CUDA_WIDE_INDEX");
    return v != nullptr && std::strcmp(v, "1") == 0;
  }();
  return !wide && n <= INT32_MAX - kMaxBlocks * kBlock;
}

}  // namespace ge::kernels::cuda
