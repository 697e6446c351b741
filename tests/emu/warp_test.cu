#include <gtest/gtest.h>

#include <vector>

#include "cuda/launch.cuh"
#include "ganengine/emu/emulator.h"
#include "test_support.h"

namespace ge::emu_test {
namespace {

constexpr unsigned kFull = 0xffffffffu;

struct WarpResults {
  int idx;         // __shfl_sync from lane 3
  int idx_width;   // __shfl_sync(src 1, width 8)
  int up;          // __shfl_up_sync(delta 2)
  int down_width;  // __shfl_down_sync(delta 3, width 16)
  int xor1;        // __shfl_xor_sync(1)
  int xor_width;   // __shfl_xor_sync(4, width 4): crosses into the next group, keeps own value
  double wide;     // an 8-byte value through __shfl_sync
  unsigned ballot;
  int any;
  int all;
  int all_true;
  unsigned active;
};

__global__ void warp_ops(WarpResults* out) {
  const int lane = static_cast<int>(threadIdx.x % warpSize);
  const int value = 100 + static_cast<int>(threadIdx.x);
  WarpResults r;
  r.idx = __shfl_sync(kFull, value, 3);
  r.idx_width = __shfl_sync(kFull, value, 1, 8);
  r.up = __shfl_up_sync(kFull, value, 2);
  r.down_width = __shfl_down_sync(kFull, value, 3, 16);
  r.xor1 = __shfl_xor_sync(kFull, value, 1);
  r.xor_width = __shfl_xor_sync(kFull, value, 4, 4);
  r.wide = __shfl_sync(kFull, 0.5 + lane, 31 - lane);
  r.ballot = __ballot_sync(kFull, lane % 3 == 0);
  r.any = __any_sync(kFull, lane == 17);
  r.all = __all_sync(kFull, lane != 17);
  r.all_true = __all_sync(kFull, 1);
  __syncwarp();
  r.active = __activemask();
  out[threadIdx.x] = r;
}

// Only the even lanes take part; the odd lanes exit first.
__global__ void masked_warp_ops(int* out) {
  const unsigned lane = threadIdx.x % warpSize;
  if (lane % 2) return;
  const unsigned even = 0x55555555u;
  int v = static_cast<int>(lane);
  v += __shfl_down_sync(even, v, 2);
  const unsigned ballot = __ballot_sync(even, lane < 8);
  __syncwarp(even);
  out[lane] = v;
  out[32 + lane] = static_cast<int>(ballot);
  out[64 + lane] = static_cast<int>(__activemask());
}

// Lanes 0-15 and 16-31 reduce in independent half-warp groups.
__global__ void half_warp_groups(int* out) {
  const unsigned lane = threadIdx.x % warpSize;
  const unsigned mask = lane < 16 ? 0x0000ffffu : 0xffff0000u;
  int v = 1;
  for (int offset = 8; offset > 0; offset /= 2)
    v += __shfl_xor_sync(mask, v, offset);
  out[lane] = v;
}

__global__ void mismatched_masks(int* out) {
  const unsigned lane = threadIdx.x % warpSize;
  const unsigned mask = lane == 0 ? 0x0000ffffu : kFull;
  out[lane] = __shfl_sync(mask, static_cast<int>(lane), 0);
}

__global__ void mask_without_self(int* out) {
  out[threadIdx.x] = static_cast<int>(__ballot_sync(0x1u, 1));
}

__global__ void shuffle_against_barrier(int* out) {
  if (threadIdx.x == 0) {
    out[0] = __shfl_sync(kFull, 1, 0);
  } else {
    __syncthreads();
  }
}

TEST(EmuWarp, EveryWarpOperationMatchesCudaSemantics) {
  for (auto order :
       {emu::ThreadOrder::forward, emu::ThreadOrder::reverse, emu::ThreadOrder::random}) {
    emu::ScopedSchedule scoped({order, 3});
    DeviceVector<WarpResults> device(64);
    GE_LAUNCH(warp_ops, dim3(1), dim3(64), 0, nullptr, device.data());
    const std::vector<WarpResults> out = device.get();
    for (int t = 0; t < 64; ++t) {
      const int lane = t % 32, base = 100 + t - lane;
      const WarpResults& r = out[t];
      EXPECT_EQ(r.idx, base + 3) << t;
      EXPECT_EQ(r.idx_width, base + (lane & ~7) + 1) << t;
      EXPECT_EQ(r.up, lane >= 2 ? 100 + t - 2 : 100 + t) << t;
      EXPECT_EQ(r.down_width, (lane % 16) + 3 < 16 ? 100 + t + 3 : 100 + t) << t;
      EXPECT_EQ(r.xor1, base + (lane ^ 1)) << t;
      EXPECT_EQ(r.xor_width, (lane ^ 4) < (lane & ~3) + 4 ? base + (lane ^ 4) : 100 + t) << t;
      EXPECT_EQ(r.wide, 0.5 + (31 - lane)) << t;
      EXPECT_EQ(r.ballot, 0x49249249u) << t;
      EXPECT_EQ(r.any, 1) << t;
      EXPECT_EQ(r.all, 0) << t;
      EXPECT_EQ(r.all_true, 1) << t;
      EXPECT_EQ(r.active, kFull) << t;
    }
  }
}

TEST(EmuWarp, PartialMasksOnlyWaitForTheirLanes) {
  DeviceVector<int> device(96, -1);
  GE_LAUNCH(masked_warp_ops, dim3(1), dim3(32), 0, nullptr, device.data());
  const std::vector<int> out = device.get();
  for (int lane = 0; lane < 32; lane += 2) {
    EXPECT_EQ(out[lane], lane < 30 ? 2 * lane + 2 : 2 * lane) << lane;  // lane 32 does not exist
    EXPECT_EQ(out[32 + lane], 0x55) << lane;
    EXPECT_EQ(static_cast<unsigned>(out[64 + lane]), 0x55555555u) << lane;
  }
  DeviceVector<int> device_halves(32);
  GE_LAUNCH(half_warp_groups, dim3(1), dim3(32), 0, nullptr, device_halves.data());
  const std::vector<int> halves = device_halves.get();
  for (int lane = 0; lane < 32; ++lane)
    EXPECT_EQ(halves[lane], 16) << lane;
}

TEST(EmuWarp, MismatchedMasksFailTheLaunch) {
  DeviceVector<int> out(32);
  const auto result =
      outcome_of([&] { GE_LAUNCH(mismatched_masks, dim3(1), dim3(32), 0, nullptr, out.data()); });
  EXPECT_EQ(result.error, cudaErrorLaunchFailure);
  EXPECT_NE(result.message.find("kernel 'mismatched_masks' block (0,0,0)"), std::string::npos)
      << result.message;
  EXPECT_NE(result.message.find("warp 0 mismatch"), std::string::npos) << result.message;
  EXPECT_NE(result.message.find("__shfl_sync(mask 0x0000ffff)"), std::string::npos)
      << result.message;
}

TEST(EmuWarp, MaskWithoutTheCallingLaneFailsTheLaunch) {
  DeviceVector<int> out(32);
  const auto result =
      outcome_of([&] { GE_LAUNCH(mask_without_self, dim3(1), dim3(32), 0, nullptr, out.data()); });
  EXPECT_EQ(result.error, cudaErrorLaunchFailure);
  EXPECT_NE(result.message.find("does not include its own lane"), std::string::npos)
      << result.message;
}

TEST(EmuWarp, WarpOperationAgainstABlockBarrierIsADeadlockNotAHang) {
  DeviceVector<int> out(1);
  const auto result = outcome_of(
      [&] { GE_LAUNCH(shuffle_against_barrier, dim3(1), dim3(64), 0, nullptr, out.data()); });
  EXPECT_EQ(result.error, cudaErrorLaunchFailure);
  EXPECT_NE(result.message.find("waits at __syncthreads() at"), std::string::npos)
      << result.message;
}

TEST(EmuWarp, FullMaskInAPartialWarpFailsTheLaunch) {
  DeviceVector<int> out(64);
  const auto result =
      outcome_of([&] { GE_LAUNCH(mismatched_masks, dim3(1), dim3(40), 0, nullptr, out.data()); });
  EXPECT_EQ(result.error, cudaErrorLaunchFailure);
}

}  // namespace
}  // namespace ge::emu_test
