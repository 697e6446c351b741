#pragma once
// Plain descriptors passed by value from launchers to CPU loops and CUDA kernels.
#include <cstdint>

struct CUstream_st;  // cudaStream_t is CUstream_st*; launchers need no CUDA header.

// Marks the declarations of the cuda:: launchers. A build without the CUDA backend
// (GE_CUDA_MODE=off) compiles no CUDA source, so they are declared weak and stay undefined: the
// engine still names them on its device dispatch paths, which such a build never takes, since
// no tensor can be placed on a CUDA device there (allocation and stream lookup refuse first).
#if defined(GE_CUDA_OFF)
#define GE_CUDA_LAUNCHER __attribute__((weak))
#else
#define GE_CUDA_LAUNCHER
#endif

namespace ge::kernels {

using Stream = CUstream_st*;  // nullptr: the legacy default stream.

inline constexpr int kMaxDims = 8;

// Shape plus per-operand element strides. A stride of 0 broadcasts that dim.
struct StridedShape {
  int ndim = 0;
  int64_t shape[kMaxDims] = {};
  int64_t numel() const {
    int64_t n = 1;
    for (int d = 0; d < ndim; ++d)
      n *= shape[d];
    return n;
  }
};

struct Strides {
  int64_t v[kMaxDims] = {};
};

}  // namespace ge::kernels
