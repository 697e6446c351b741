// The checks that make the emulator catch what a GPU would: host pointers given to kernels and to
// cudaMemcpy, launches that need more registers than an SM has, writes outside dynamic or static
// shared memory, static shared memory that a real kernel would find already written. Each test
// breaks the rule on purpose and expects the emulator to say so.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "cuda/launch.cuh"
#include "ganengine/emu/emulator.h"
#include "test_support.h"

namespace ge::emu_test {
namespace {

__global__ void store_index(int* out, int n) {
  const int i = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  if (i < n) out[i] = i;
}

__global__ void copy_values(const int* in, int* out, int n) {
  const int i = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  if (i < n) out[i] = in[i];
}

// Writes one float past the end (or before the start) of the dynamic shared memory it is given.
__global__ void overrun_shared(int* out, int offset) {
  GE_DYNAMIC_SHARED(float, smem);
  smem[threadIdx.x] = 1.0f;
  __syncthreads();
  if (threadIdx.x == 0) {
    smem[offset] = 2.0f;
    out[blockIdx.x] = 1;
  }
}

// Static shared memory: `fresh[b]` is 1 if block b found all of `tile` garbage (NaN) before any
// write, `same[b]` 1 if every thread saw the others' writes to `tile` and `flag` (one variable
// per block, not per thread), `via_function[b]` 1 if two calls of a device function declaring a
// variable reached the same one. Before reading, the block zeroes the first `dynamic_floats` of its
// dynamic shared memory; after, thread 0 writes one float at tile + `offset`.
__device__ unsigned* shared_cell() {
  GE_STATIC_SHARED(unsigned, cell);
  return &cell;
}

__global__ void static_shared_kernel(int* fresh, int* same, int* via_function, int offset,
                                     unsigned dynamic_floats) {
  GE_STATIC_SHARED(float, tile, [64]);
  GE_STATIC_SHARED(unsigned, flag);
  GE_DYNAMIC_SHARED(float, dynamic);
  const unsigned t = threadIdx.x;
  for (unsigned i = t; i < dynamic_floats; i += blockDim.x)
    dynamic[i] = 0.0f;
  __syncthreads();
  const int all_nan = __syncthreads_and(std::isnan(tile[t]));
  tile[t] = static_cast<float>(t + blockIdx.x);
  if (t == 0) {
    flag = 7u + blockIdx.x;
    *shared_cell() = 11u;
  }
  __syncthreads();
  const unsigned next = (t + 1) % 64;
  const int consistent = __syncthreads_and(tile[next] == static_cast<float>(next + blockIdx.x) &&
                                           flag == 7u + blockIdx.x);
  const int cell = __syncthreads_and(*shared_cell() == 11u);
  if (t == 0) {
    fresh[blockIdx.x] = all_nan;
    same[blockIdx.x] = consistent;
    via_function[blockIdx.x] = cell;
    float* const p = tile;
    p[offset] = -1.0f;
  }
}

// More static shared memory than ptxas accepts (48 KiB).
__global__ void static_shared_too_big(int* out) {
  GE_STATIC_SHARED(float, big, [12 * 1024 + 1]);
  big[threadIdx.x] = 0.0f;
  if (threadIdx.x == 0) *out = 1;
}

// Named like a kernel of the sm_90 ptxas table, so that the table's register count applies.
__global__ void pixel_norm_cols_kernel(int* out) {
  if (threadIdx.x == 0) *out = 1;
}

__global__ void register_hungry(int* out) {
  if (threadIdx.x == 0) *out = 1;
}

// ---- host pointers ----

TEST(EmuHostPointers, KernelGivenAHostPointerFailsTheLaunch) {
  std::vector<int> heap(64, -1);
  int stack[4] = {};
  for (int* host : {heap.data(), stack}) {
    const auto result =
        outcome_of([&] { GE_LAUNCH(store_index, dim3(1), dim3(64), 0, nullptr, host, 4); });
    EXPECT_EQ(result.error, cudaErrorIllegalAddress);
    EXPECT_NE(result.message.find("store_index"), std::string::npos) << result.message;
    EXPECT_NE(result.message.find("argument 0"), std::string::npos) << result.message;
    EXPECT_NE(result.message.find("host pointer"), std::string::npos) << result.message;
  }
  EXPECT_EQ(heap, std::vector<int>(64, -1));
  // The second argument is checked as well as the first.
  DeviceVector<int> in(4);
  const auto result = outcome_of(
      [&] { GE_LAUNCH(copy_values, dim3(1), dim3(4), 0, nullptr, in.data(), heap.data(), 4); });
  EXPECT_EQ(result.error, cudaErrorIllegalAddress);
  EXPECT_NE(result.message.find("argument 1"), std::string::npos) << result.message;
}

TEST(EmuHostPointers, FreedDeviceMemoryIsNoLongerAddressable) {
  int* freed = nullptr;
  ASSERT_EQ(cudaMalloc(reinterpret_cast<void**>(&freed), 64 * sizeof(int)), cudaSuccess);
  ASSERT_EQ(cudaFree(freed), cudaSuccess);
  const auto result =
      outcome_of([&] { GE_LAUNCH(store_index, dim3(1), dim3(64), 0, nullptr, freed, 64); });
  EXPECT_EQ(result.error, cudaErrorIllegalAddress);
}

TEST(EmuHostPointers, DevicePinnedNullAndOnePastTheEndPointersAreAccepted) {
  DeviceVector<int> device(64);
  GE_LAUNCH(store_index, dim3(1), dim3(64), 0, nullptr, device.data(), 64);
  GE_LAUNCH(store_index, dim3(1), dim3(64), 0, nullptr, device.data() + 64, 0);
  GE_LAUNCH(store_index, dim3(1), dim3(64), 0, nullptr, static_cast<int*>(nullptr), 0);
  int* pinned = nullptr;
  ASSERT_EQ(cudaMallocHost(reinterpret_cast<void**>(&pinned), 64 * sizeof(int)), cudaSuccess);
  GE_LAUNCH(store_index, dim3(1), dim3(64), 0, nullptr, pinned, 64);
  ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  EXPECT_EQ(pinned[63], 63);
  EXPECT_EQ(device.get()[63], 63);
  EXPECT_EQ(cudaFreeHost(pinned), cudaSuccess);
}

TEST(EmuHostPointers, MemcpyKindMustMatchWherePointersLive) {
  DeviceVector<int> a(16), b(16);
  std::vector<int> host(16, 7);
  (void)cudaGetLastError();
  // A device pointer where the kind says host memory, on either side.
  EXPECT_EQ(cudaMemcpy(a.data(), b.data(), 64, cudaMemcpyHostToDevice), cudaErrorInvalidValue);
  EXPECT_NE(emu::last_error_detail().find("source is device memory"), std::string::npos)
      << emu::last_error_detail();
  EXPECT_EQ(cudaMemcpy(a.data(), b.data(), 64, cudaMemcpyDeviceToHost), cudaErrorInvalidValue);
  EXPECT_NE(emu::last_error_detail().find("destination is device memory"), std::string::npos)
      << emu::last_error_detail();
  EXPECT_EQ(cudaMemcpy(host.data(), a.data(), 64, cudaMemcpyHostToHost), cudaErrorInvalidValue);
  EXPECT_EQ(cudaMemcpyAsync(a.data(), b.data(), 64, cudaMemcpyDeviceToHost, nullptr),
            cudaErrorInvalidValue);
  // A host pointer where the kind says device memory.
  EXPECT_EQ(cudaMemcpy(host.data(), a.data(), 64, cudaMemcpyDeviceToDevice), cudaErrorInvalidValue);
  EXPECT_EQ(cudaMemcpy(a.data(), host.data(), 64, cudaMemcpyDeviceToDevice), cudaErrorInvalidValue);
  (void)cudaGetLastError();
  // cudaMemcpyDefault works out every direction from the pointers.
  EXPECT_EQ(cudaMemcpy(a.data(), host.data(), 64, cudaMemcpyDefault), cudaSuccess);
  EXPECT_EQ(cudaMemcpy(b.data(), a.data(), 64, cudaMemcpyDefault), cudaSuccess);
  std::vector<int> back(16, 0);
  EXPECT_EQ(cudaMemcpy(back.data(), b.data(), 64, cudaMemcpyDefault), cudaSuccess);
  EXPECT_EQ(back, host);
  EXPECT_EQ(cudaMemcpy(a.data(), host.data(), 68, cudaMemcpyDefault), cudaErrorInvalidValue);
  (void)cudaGetLastError();
}

// ---- registers ----

TEST(EmuRegisters, BlockNeedingMoreRegistersThanAnSmIsOutOfResources) {
  DeviceVector<int> out(1);
  const void* func = reinterpret_cast<const void*>(register_hungry);
  emu::set_kernel_registers(func, 128);  // 4096 registers per warp: 16 warps fill an SM
  GE_LAUNCH(register_hungry, dim3(1), dim3(512), 0, nullptr, out.data());
  auto result =
      outcome_of([&] { GE_LAUNCH(register_hungry, dim3(1), dim3(513), 0, nullptr, out.data()); });
  EXPECT_EQ(result.error, cudaErrorLaunchOutOfResources);
  EXPECT_NE(result.message.find("register_hungry"), std::string::npos) << result.message;
  EXPECT_NE(result.message.find("69632 registers"), std::string::npos) << result.message;
  // Registers are allocated per warp in units of 256: 121 registers are counted as 128.
  emu::set_kernel_registers(func, 121);
  result =
      outcome_of([&] { GE_LAUNCH(register_hungry, dim3(1), dim3(544), 0, nullptr, out.data()); });
  EXPECT_EQ(result.error, cudaErrorLaunchOutOfResources);
  emu::set_kernel_registers(func, 256);
  result =
      outcome_of([&] { GE_LAUNCH(register_hungry, dim3(1), dim3(32), 0, nullptr, out.data()); });
  EXPECT_EQ(result.error, cudaErrorLaunchOutOfResources);
  emu::set_kernel_registers(func, 0);
  GE_LAUNCH(register_hungry, dim3(1), dim3(1024), 0, nullptr, out.data());
  EXPECT_EQ(out.get()[0], 1);
}

TEST(EmuRegisters, ThePtxasTableAppliesToKernelsByName) {
  EXPECT_EQ(emu::table_registers("(conv2d_forward_kernel<Tile<128, 64, 8, 4, 2>>)"), 127);
  EXPECT_EQ(emu::table_registers("ge::kernels::cuda::scale_kernel"), 28);
  EXPECT_EQ(emu::table_registers("register_hungry"), 0);
  ASSERT_EQ(emu::table_registers("pixel_norm_cols_kernel"), 96);
  DeviceVector<int> out(1);
  GE_LAUNCH(pixel_norm_cols_kernel, dim3(1), dim3(640), 0, nullptr, out.data());
  const auto result = outcome_of(
      [&] { GE_LAUNCH(pixel_norm_cols_kernel, dim3(1), dim3(1024), 0, nullptr, out.data()); });
  EXPECT_EQ(result.error, cudaErrorLaunchOutOfResources);
  EXPECT_NE(result.message.find("96 registers"), std::string::npos) << result.message;
}

// ---- shared memory guard zones ----

TEST(EmuSharedGuards, WritePastTheEndOfDynamicSharedMemoryIsReported) {
  DeviceVector<int> out(2);
  const auto result = outcome_of([&] {
    GE_LAUNCH(overrun_shared, dim3(2), dim3(64), 64 * sizeof(float), nullptr, out.data(), 64);
  });
  EXPECT_EQ(result.error, cudaErrorLaunchFailure);
  EXPECT_NE(result.message.find("kernel 'overrun_shared' block (0,0,0)"), std::string::npos)
      << result.message;
  EXPECT_NE(result.message.find("write outside dynamic shared memory: byte at offset 256"),
            std::string::npos)
      << result.message;
  EXPECT_NE(result.message.find("after"), std::string::npos) << result.message;
}

TEST(EmuSharedGuards, WriteBeforeTheStartOfDynamicSharedMemoryIsReported) {
  DeviceVector<int> out(1);
  const auto result = outcome_of([&] {
    GE_LAUNCH(overrun_shared, dim3(1), dim3(32), 32 * sizeof(float), nullptr, out.data(), -2);
  });
  EXPECT_EQ(result.error, cudaErrorLaunchFailure);
  EXPECT_NE(result.message.find("byte at offset -8"), std::string::npos) << result.message;
  EXPECT_NE(result.message.find("before"), std::string::npos) << result.message;
}

TEST(EmuSharedGuards, WritesInsideTheLaunchsSharedMemoryPass) {
  DeviceVector<int> out(2);
  GE_LAUNCH(overrun_shared, dim3(2), dim3(64), 65 * sizeof(float), nullptr, out.data(), 64);
  ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  EXPECT_EQ(out.get(), (std::vector<int>{1, 1}));
}

TEST(EmuStaticShared, EachBlockGetsItsOwnGarbageFilledVariablesSharedByItsThreads) {
  constexpr int kBlocks = 6;  // more blocks than worker threads: the arena is reused
  DeviceVector<int> fresh(kBlocks), same(kBlocks), via_function(kBlocks);
  GE_LAUNCH(static_shared_kernel, dim3(kBlocks), dim3(64), 0, nullptr, fresh.data(), same.data(),
            via_function.data(), 63, 0u);
  ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  EXPECT_EQ(fresh.get(), std::vector<int>(kBlocks, 1));
  EXPECT_EQ(same.get(), std::vector<int>(kBlocks, 1));
  EXPECT_EQ(via_function.get(), std::vector<int>(kBlocks, 1));
}

TEST(EmuStaticShared, StaticVariablesDoNotOverlapDynamicSharedMemory) {
  DeviceVector<int> fresh(2), same(2), via_function(2);
  GE_LAUNCH(static_shared_kernel, dim3(2), dim3(64), 4096 * sizeof(float), nullptr, fresh.data(),
            same.data(), via_function.data(), 0, 4096u);
  ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  EXPECT_EQ(fresh.get(), std::vector<int>(2, 1));
}

TEST(EmuStaticShared, WritePastTheEndOfAStaticVariableIsReported) {
  DeviceVector<int> fresh(2), same(2), via_function(2);
  const auto result = outcome_of([&] {
    GE_LAUNCH(static_shared_kernel, dim3(2), dim3(64), 0, nullptr, fresh.data(), same.data(),
              via_function.data(), 64, 0u);
  });
  EXPECT_EQ(result.error, cudaErrorLaunchFailure);
  EXPECT_NE(result.message.find("kernel 'static_shared_kernel' block (0,0,0)"), std::string::npos)
      << result.message;
  EXPECT_NE(result.message.find("write outside static shared variable 'tile'"), std::string::npos)
      << result.message;
  EXPECT_NE(result.message.find("strict_test.cu:"), std::string::npos) << result.message;
  EXPECT_NE(result.message.find("byte at offset 256 of its 256 bytes"), std::string::npos)
      << result.message;
  EXPECT_NE(result.message.find("after"), std::string::npos) << result.message;
}

TEST(EmuStaticShared, WriteBeforeTheStartOfAStaticVariableIsReported) {
  DeviceVector<int> fresh(1), same(1), via_function(1);
  const auto result = outcome_of([&] {
    GE_LAUNCH(static_shared_kernel, dim3(1), dim3(64), 0, nullptr, fresh.data(), same.data(),
              via_function.data(), -1, 0u);
  });
  EXPECT_EQ(result.error, cudaErrorLaunchFailure);
  EXPECT_NE(result.message.find("'tile'"), std::string::npos) << result.message;
  EXPECT_NE(result.message.find("byte at offset -4"), std::string::npos) << result.message;
  EXPECT_NE(result.message.find("before"), std::string::npos) << result.message;
}

TEST(EmuStaticShared, MoreThanPtxasAllowsIsRefused) {
  DeviceVector<int> out(1);
  const auto result = outcome_of(
      [&] { GE_LAUNCH(static_shared_too_big, dim3(1), dim3(32), 0, nullptr, out.data()); });
  EXPECT_EQ(result.error, cudaErrorLaunchFailure);
  EXPECT_NE(result.message.find("static shared variable 'big'"), std::string::npos)
      << result.message;
  EXPECT_NE(result.message.find("49156 bytes, over the 49152"), std::string::npos)
      << result.message;
}

}  // namespace
}  // namespace ge::emu_test
