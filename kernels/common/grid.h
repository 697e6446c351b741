#pragma once
// Launch-size arithmetic for the grid-stride CUDA kernels.
#include <algorithm>
#include <cstdint>

namespace ge::kernels {

inline constexpr int kBlock = 256;
// Enough resident blocks to fill an H100 (132 SMs x 8 blocks of 256) a few times over; the
// grid-stride loops cover the rest, so huge n never needs more blocks than this.
inline constexpr int64_t kMaxBlocks = 132 * 8 * 4;

inline unsigned grid_for(int64_t work, int block = kBlock) {
  return static_cast<unsigned>(std::clamp<int64_t>((work + block - 1) / block, 1, kMaxBlocks));
}

}  // namespace ge::kernels
