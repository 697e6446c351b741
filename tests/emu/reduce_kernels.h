#pragma once
// Reductions used by the emulator tests: a correct warp and block reduction, and a block
// reduction missing its __syncthreads, which the emulator must expose.
#include <vector>

namespace ge::emu_test {

enum class Barriers { present, missing };

// Sums `values` with one block of `threads` threads (a power of two, at most 1024) reducing
// through shared memory.
float block_sum(const std::vector<float>& values, unsigned threads, Barriers barriers);

// Sums `values` per warp with __shfl_down_sync, then across warps with __shfl_xor_sync.
float warp_sum(const std::vector<float>& values, unsigned threads);

}  // namespace ge::emu_test
