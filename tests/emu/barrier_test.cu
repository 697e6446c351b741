#include <gtest/gtest.h>

#include <stdexcept>
#include <vector>

#include "cuda/launch.cuh"
#include "ganengine/emu/emulator.h"
#include "test_support.h"

namespace ge::emu_test {
namespace {

__global__ void divergent_barriers(int* out) {
  if (threadIdx.x < 16) {
    __syncthreads();
  } else {
    __syncthreads();
  }
  out[threadIdx.x] = 1;
}

__global__ void return_before_barrier(int* out) {
  if (threadIdx.x == 5) return;
  __syncthreads();
  out[threadIdx.x] = 1;
}

__global__ void count_votes(int* out) {
  const int votes = __syncthreads_count(threadIdx.x % 3 == 0);
  const int all = __syncthreads_and(threadIdx.x < 1000);
  const int any = __syncthreads_or(threadIdx.x == 7);
  if (threadIdx.x == 0) {
    out[0] = votes;
    out[1] = all;
    out[2] = any;
  }
}

__global__ void throws_in_thread_3(int* out) {
  if (threadIdx.x == 3) throw std::runtime_error("device-side failure");
  __syncthreads();
  out[threadIdx.x] = 1;
}

__global__ void block_indices(uint3* out) {
  const unsigned block = blockIdx.x + gridDim.x * (blockIdx.y + gridDim.y * blockIdx.z);
  const unsigned thread = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
  const unsigned per_block = blockDim.x * blockDim.y * blockDim.z;
  out[2 * (block * per_block + thread)] = blockIdx;
  out[2 * (block * per_block + thread) + 1] = threadIdx;
}

TEST(EmuBarrier, DivergentBarriersFailTheLaunchNamingKernelBlockAndSites) {
  DeviceVector<int> out(64);
  const auto result =
      outcome_of([&] { GE_LAUNCH(divergent_barriers, dim3(2), dim3(64), 0, nullptr, out.data()); });
  EXPECT_EQ(result.error, cudaErrorLaunchFailure);
  EXPECT_NE(result.message.find("divergent_barriers"), std::string::npos) << result.message;
  EXPECT_NE(result.message.find("block (0,0,0)"), std::string::npos) << result.message;
  EXPECT_NE(result.message.find("barrier divergence"), std::string::npos) << result.message;
  EXPECT_NE(result.message.find("barrier_test.cu:15"), std::string::npos) << result.message;
  EXPECT_NE(result.message.find("barrier_test.cu:17"), std::string::npos) << result.message;
  EXPECT_NE(result.message.find("16 threads (0,0,0)"), std::string::npos) << result.message;
  EXPECT_NE(result.message.find("48 threads (16,0,0)"), std::string::npos) << result.message;
}

TEST(EmuBarrier, ReturnBeforeBarrierFailsTheLaunch) {
  DeviceVector<int> out(32);
  for (auto order : {emu::ThreadOrder::forward, emu::ThreadOrder::reverse}) {
    emu::ScopedSchedule scoped({order, 0});
    const auto result = outcome_of(
        [&] { GE_LAUNCH(return_before_barrier, dim3(3), dim3(32), 0, nullptr, out.data()); });
    EXPECT_EQ(result.error, cudaErrorLaunchFailure);
    EXPECT_NE(result.message.find("kernel 'return_before_barrier' block (0,0,0)"),
              std::string::npos)
        << result.message;
    EXPECT_NE(result.message.find("return before barrier: thread (5,0,0) exited while 31 threads"),
              std::string::npos)
        << result.message;
    EXPECT_NE(result.message.find("barrier_test.cu:24"), std::string::npos) << result.message;
  }
}

TEST(EmuBarrier, EmulatorRecoversAfterAFailedLaunch) {
  DeviceVector<int> out(64);
  (void)outcome_of(
      [&] { GE_LAUNCH(divergent_barriers, dim3(4), dim3(64), 0, nullptr, out.data()); });
  DeviceVector<int> votes(3, -1);
  GE_LAUNCH(count_votes, dim3(1), dim3(100), 0, nullptr, votes.data());
  EXPECT_EQ(votes.get(), (std::vector<int>{34, 1, 1}));
}

TEST(EmuBarrier, ExceptionEscapingAKernelFailsTheLaunch) {
  DeviceVector<int> out(32);
  const auto result =
      outcome_of([&] { GE_LAUNCH(throws_in_thread_3, dim3(1), dim3(32), 0, nullptr, out.data()); });
  EXPECT_EQ(result.error, cudaErrorLaunchFailure);
  EXPECT_NE(result.message.find("(3,0,0): exception escaped the kernel: device-side failure"),
            std::string::npos)
      << result.message;
}

TEST(EmuBarrier, BuiltinIndicesCoverMultiDimensionalGrids) {
  const dim3 grid(3, 2, 2), block(4, 2, 3);
  const unsigned total = 12 * 24;
  DeviceVector<uint3> device(2 * total);
  GE_LAUNCH(block_indices, grid, block, 0, nullptr, device.data());
  const std::vector<uint3> out = device.get();
  unsigned i = 0;
  for (unsigned bz = 0; bz < 2; ++bz)
    for (unsigned by = 0; by < 2; ++by)
      for (unsigned bx = 0; bx < 3; ++bx)
        for (unsigned tz = 0; tz < 3; ++tz)
          for (unsigned ty = 0; ty < 2; ++ty)
            for (unsigned tx = 0; tx < 4; ++tx, i += 2) {
              ASSERT_EQ(out[i].x, bx);
              ASSERT_EQ(out[i].y, by);
              ASSERT_EQ(out[i].z, bz);
              ASSERT_EQ(out[i + 1].x, tx);
              ASSERT_EQ(out[i + 1].y, ty);
              ASSERT_EQ(out[i + 1].z, tz);
            }
}

}  // namespace
}  // namespace ge::emu_test
