#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "cuda/launch.cuh"
#include "ganengine/emu/emulator.h"
#include "test_support.h"

namespace ge::emu_test {
namespace {

__global__ void touch(int* out) {
  if (threadIdx.x == 0 && blockIdx.x == 0 && blockIdx.y == 0) *out = 1;
}

__global__ void touch_shared(int* out) {
  GE_DYNAMIC_SHARED(int, scratch);
  scratch[threadIdx.x] = 1;
  if (threadIdx.x == 0) *out = scratch[0];
}

__global__ void read_before_write(float* out, unsigned* raw) {
  GE_DYNAMIC_SHARED(float, smem);
  const unsigned i = blockIdx.x * blockDim.x + threadIdx.x;
  out[i] = smem[threadIdx.x];
  raw[i] = reinterpret_cast<unsigned*>(smem)[threadIdx.x];
  __syncthreads();
  smem[threadIdx.x] = 1.0f;
}

TEST(EmuLaunch, BlockOfMoreThan1024ThreadsIsAnInvalidConfiguration) {
  DeviceVector<int> out(1);
  auto result = outcome_of([&] { GE_LAUNCH(touch, dim3(1), dim3(1025), 0, nullptr, out.data()); });
  EXPECT_EQ(result.error, cudaErrorInvalidConfiguration);
  EXPECT_NE(result.message.find("block (1025,1,1)"), std::string::npos) << result.message;
  result = outcome_of([&] { GE_LAUNCH(touch, dim3(1), dim3(32, 32, 2), 0, nullptr, out.data()); });
  EXPECT_EQ(result.error, cudaErrorInvalidConfiguration);
  result = outcome_of([&] { GE_LAUNCH(touch, dim3(1), dim3(1, 1, 65), 0, nullptr, out.data()); });
  EXPECT_EQ(result.error, cudaErrorInvalidConfiguration);
  result = outcome_of([&] { GE_LAUNCH(touch, dim3(1), dim3(0), 0, nullptr, out.data()); });
  EXPECT_EQ(result.error, cudaErrorInvalidConfiguration);
  EXPECT_EQ(out.get()[0], 0);
}

TEST(EmuLaunch, GridYAbove65535IsAnInvalidConfiguration) {
  DeviceVector<int> out(1);
  auto result =
      outcome_of([&] { GE_LAUNCH(touch, dim3(1, 65536), dim3(32), 0, nullptr, out.data()); });
  EXPECT_EQ(result.error, cudaErrorInvalidConfiguration);
  EXPECT_NE(result.message.find("grid (1,65536,1)"), std::string::npos) << result.message;
  result =
      outcome_of([&] { GE_LAUNCH(touch, dim3(1, 1, 65536), dim3(32), 0, nullptr, out.data()); });
  EXPECT_EQ(result.error, cudaErrorInvalidConfiguration);
  EXPECT_EQ(out.get()[0], 0);
  GE_LAUNCH(touch, dim3(1, 65535), dim3(1), 0, nullptr, out.data());
  EXPECT_EQ(out.get()[0], 1);
}

TEST(EmuLaunch, DynamicSharedMemoryAbove48KiBNeedsTheOptIn) {
  DeviceVector<int> out(1);
  const size_t big = 100 * 1024;
  auto result =
      outcome_of([&] { GE_LAUNCH(touch_shared, dim3(1), dim3(32), big, nullptr, out.data()); });
  EXPECT_EQ(result.error, cudaErrorInvalidValue);
  EXPECT_NE(result.message.find("cudaFuncSetAttribute"), std::string::npos) << result.message;
  GE_LAUNCH(touch_shared, dim3(1), dim3(32), 48 * 1024, nullptr, out.data());
  EXPECT_EQ(out.get()[0], 1);

  const void* func = reinterpret_cast<const void*>(touch_shared);
  ASSERT_EQ(cudaFuncSetAttribute(func, cudaFuncAttributeMaxDynamicSharedMemorySize, 227 * 1024),
            cudaSuccess);
  out.set({0});
  GE_LAUNCH(touch_shared, dim3(1), dim3(32), big, nullptr, out.data());
  EXPECT_EQ(out.get()[0], 1);
  GE_LAUNCH(touch_shared, dim3(1), dim3(32), 227 * 1024, nullptr, out.data());
  result = outcome_of(
      [&] { GE_LAUNCH(touch_shared, dim3(1), dim3(32), 227 * 1024 + 1, nullptr, out.data()); });
  EXPECT_EQ(result.error, cudaErrorInvalidValue);
  EXPECT_EQ(cudaFuncSetAttribute(func, cudaFuncAttributeMaxDynamicSharedMemorySize, 227 * 1024 + 1),
            cudaErrorInvalidValue);
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidValue);
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);
}

TEST(EmuLaunch, UnknownStreamIsAnInvalidResourceHandle) {
  DeviceVector<int> out(1);
  int fake = 0;
  const auto result = outcome_of([&] {
    GE_LAUNCH(touch, dim3(1), dim3(1), 0, reinterpret_cast<cudaStream_t>(&fake), out.data());
  });
  EXPECT_EQ(result.error, cudaErrorInvalidResourceHandle);
}

TEST(EmuLaunch, DynamicSharedMemoryStartsAsGarbage) {
  DeviceVector<float> device_out(128);
  DeviceVector<unsigned> device_raw(128);
  for (int launch = 0; launch < 2; ++launch) {  // the second launch must not see the first's 1.0f
    GE_LAUNCH(read_before_write, dim3(2), dim3(64), 64 * sizeof(float), nullptr, device_out.data(),
              device_raw.data());
    const std::vector<float> out = device_out.get();
    const std::vector<unsigned> raw = device_raw.get();
    for (int i = 0; i < 128; ++i) {
      EXPECT_TRUE(std::isnan(out[i])) << i;
      EXPECT_EQ(raw[i], 0xffffffffu) << i;
    }
  }
}

TEST(EmuLaunch, StatsCountFibersAndSwitches) {
  DeviceVector<int> out(1);
  ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  emu::reset_stats();
  GE_LAUNCH(touch, dim3(4), dim3(64), 0, nullptr, out.data());
  if (!launch_blocking()) {
    EXPECT_EQ(emu::stats().launches, 0u);  // queued, not yet run
  }
  ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  const emu::Stats stats = emu::stats();
  EXPECT_EQ(stats.launches, 1u);
  EXPECT_EQ(stats.blocks, 4u);
  EXPECT_EQ(stats.threads, 256u);
  EXPECT_GE(stats.switches, 2u * 256u);
  EXPECT_EQ(emu::parse_schedule("random:42").seed, 42u);
  EXPECT_EQ(emu::parse_schedule("reverse").order, emu::ThreadOrder::reverse);
  EXPECT_THROW(emu::parse_schedule("sideways"), std::invalid_argument);
}

}  // namespace
}  // namespace ge::emu_test
