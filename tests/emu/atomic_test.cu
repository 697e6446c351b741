#include <gtest/gtest.h>

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <vector>

#include "cuda/launch.cuh"
#include "ganengine/emu/emulator.h"
#include "test_support.h"

namespace ge::emu_test {
namespace {

struct Counters {
  int sum;
  unsigned usum;
  unsigned long long big;
  float fsum;
  double dsum;
  int max;
  int min;
  unsigned umax;
  unsigned umin;
  int cas_winner;
  unsigned exch_count;
  int sub;
  unsigned bits;
};

__global__ void hammer(Counters* c) {
  const int id = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  atomicAdd(&c->sum, 1);
  atomicAdd(&c->usum, 2u);
  atomicAdd(&c->big, 1ull << 33);
  atomicAdd(&c->fsum, 0.5f);
  atomicAdd(&c->dsum, 0.25);
  atomicMax(&c->max, id);
  atomicMin(&c->min, -id);
  atomicMax(&c->umax, static_cast<unsigned>(id));
  atomicMin(&c->umin, static_cast<unsigned>(id + 5));
  atomicCAS(&c->cas_winner, -1, id);
  atomicExch(&c->exch_count, 1u);
  atomicSub(&c->sub, 3);
  atomicOr(&c->bits, 1u << (id % 32));
  __threadfence();
}

__global__ void half_math(const __half* a, const __nv_bfloat16* b, float* out, int n) {
  const int i = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  if (i >= n) return;
  const __half h = a[i] * __float2half(2.0f) + __float2half(1.0f);
  const __nv_bfloat16 g = b[i] * __float2bfloat16(0.5f) - __float2bfloat16(1.0f);
  out[2 * i] = __half2float(h);
  out[2 * i + 1] = __bfloat162float(g);
}

TEST(EmuAtomics, ManyBlocksUpdateTheSameCounters) {
  const int blocks = 64, threads = 128, total = blocks * threads;
  DeviceVector<Counters> device(1,
                                Counters{0, 0, 0, 0.0f, 0.0, -1, 1, 0, 0xffffffffu, -1, 0, 0, 0});
  GE_LAUNCH(hammer, dim3(blocks), dim3(threads), 0, nullptr, device.data());
  const Counters c = device.get()[0];
  EXPECT_EQ(c.sum, total);
  EXPECT_EQ(c.usum, 2u * total);
  EXPECT_EQ(c.big, static_cast<unsigned long long>(total) << 33);
  EXPECT_EQ(c.fsum, 0.5f * total);
  EXPECT_EQ(c.dsum, 0.25 * total);
  EXPECT_EQ(c.max, total - 1);
  EXPECT_EQ(c.min, -(total - 1));
  EXPECT_EQ(c.umax, static_cast<unsigned>(total - 1));
  EXPECT_EQ(c.umin, 5u);
  EXPECT_GE(c.cas_winner, 0);
  EXPECT_LT(c.cas_winner, total);
  EXPECT_EQ(c.exch_count, 1u);
  EXPECT_EQ(c.sub, -3 * total);
  EXPECT_EQ(c.bits, 0xffffffffu);
}

TEST(EmuHalf, HalfAndBfloat16ArithmeticInAKernel) {
  const int n = 100;
  std::vector<__half> a(n);
  std::vector<__nv_bfloat16> b(n);
  for (int i = 0; i < n; ++i) {
    a[i] = __float2half(0.25f * i);
    b[i] = __float2bfloat16(4.0f * i);
  }
  DeviceVector<__half> device_a(a);
  DeviceVector<__nv_bfloat16> device_b(b);
  DeviceVector<float> device_out(2 * n, -1.0f);
  GE_LAUNCH(half_math, dim3(2), dim3(64), 0, nullptr, device_a.data(), device_b.data(),
            device_out.data(), n);
  const std::vector<float> out = device_out.get();
  for (int i = 0; i < n; ++i) {
    EXPECT_EQ(out[2 * i], 0.5f * i + 1.0f) << i;
    EXPECT_NEAR(out[2 * i + 1], 2.0f * i - 1.0f, (2.0f * i) / 128.0f) << i;
  }
}

}  // namespace
}  // namespace ge::emu_test
