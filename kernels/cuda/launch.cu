// Error reporting for GE_LAUNCH and GE_CUDA_CHECK.
#include "cuda/launch.cuh"

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

}  // namespace ge::cuda
