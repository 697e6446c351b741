// The emulator's warp matrix instructions (mma.sync, ldmatrix, cp.async) against the layouts and
// semantics the PTX ISA documents, restated here independently of the emulator's code, and the
// misuses they must catch: a wrong fragment index, a missing cp.async wait, a partial warp.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <utility>
#include <vector>

#include "cuda/launch.cuh"
#include "cuda/mma.cuh"
#include "ganengine/emu/emulator.h"
#include "support/tf32_reference.h"
#include "test_support.h"

namespace ge::emu_test {
namespace {

using kernels::cuda::cp_async16;
using kernels::cuda::cp_async4;
using kernels::cuda::cp_async_commit;
using kernels::cuda::cp_async_wait;
using kernels::cuda::ldmatrix_x4;
using kernels::cuda::ldmatrix_x4_trans;
using kernels::cuda::mma_bf16;
using kernels::cuda::mma_tf32;
using kernels::cuda::tf32;

// Where accumulator register r of `lane` sits in a row-major [16][8] C or D: row g or g + 8,
// column 2t or 2t + 1 (g = lane / 4, t = lane % 4).
int accumulator_index(int lane, int r) {
  return (lane / 4 + r / 2 * 8) * 8 + 2 * (lane % 4) + r % 2;
}

// One m16n8k8 TF32 product D = A B + C with A [16][8], B [8][8] and C, D [16][8] row-major.
// `swap` exchanges the fragment registers a[1] and a[2], a deliberately wrong layout.
__global__ void mma_tf32_kernel(const float* A, const float* B, const float* C, float* D,
                                bool swap) {
  const int lane = static_cast<int>(threadIdx.x), g = lane / 4, t = lane % 4;
  uint32_t a[4] = {tf32(A[g * 8 + t]), tf32(A[(g + 8) * 8 + t]), tf32(A[g * 8 + t + 4]),
                   tf32(A[(g + 8) * 8 + t + 4])};
  if (swap) std::swap(a[1], a[2]);
  const uint32_t b[2] = {tf32(B[t * 8 + g]), tf32(B[(t + 4) * 8 + g])};
  float d[4];
  for (int r = 0; r < 4; ++r)
    d[r] = C[accumulator_index(lane, r)];
  mma_tf32(d, a, b);
  for (int r = 0; r < 4; ++r)
    D[accumulator_index(lane, r)] = d[r];
}

uint16_t bf16_bits(float x) {
  return std::bit_cast<uint16_t>(__float2bfloat16(x));
}

// One m16n8k16 BF16 product with A [16][16], B [16][8] given as bf16 bit patterns.
__global__ void mma_bf16_kernel(const uint16_t* A, const uint16_t* B, const float* C, float* D) {
  const int lane = static_cast<int>(threadIdx.x), g = lane / 4, t = lane % 4;
  const auto pair = [](uint16_t lo, uint16_t hi) { return lo | static_cast<uint32_t>(hi) << 16; };
  const uint32_t a[4] = {pair(A[g * 16 + 2 * t], A[g * 16 + 2 * t + 1]),
                         pair(A[(g + 8) * 16 + 2 * t], A[(g + 8) * 16 + 2 * t + 1]),
                         pair(A[g * 16 + 2 * t + 8], A[g * 16 + 2 * t + 9]),
                         pair(A[(g + 8) * 16 + 2 * t + 8], A[(g + 8) * 16 + 2 * t + 9])};
  const uint32_t b[2] = {pair(B[2 * t * 8 + g], B[(2 * t + 1) * 8 + g]),
                         pair(B[(2 * t + 8) * 8 + g], B[(2 * t + 9) * 8 + g])};
  float d[4];
  for (int r = 0; r < 4; ++r)
    d[r] = C[accumulator_index(lane, r)];
  mma_bf16(d, a, b);
  for (int r = 0; r < 4; ++r)
    D[accumulator_index(lane, r)] = d[r];
}

// Only the first half of the warp reaches the mma.
__global__ void partial_warp_mma(float* D) {
  if (threadIdx.x >= 16) return;
  const uint32_t a[4] = {}, b[2] = {};
  float d[4] = {};
  mma_tf32(d, a, b);
  D[threadIdx.x] = d[0];
}

// Four 8x8 matrices of 16-bit values m * 64 + r * 8 + c in shared memory, loaded with ldmatrix:
// out[lane * 4 + i] is the lane's register for matrix i.
__global__ void ldmatrix_kernel(uint32_t* out, bool trans, int misalign) {
  GE_DYNAMIC_SHARED(uint16_t, tile);
  const int lane = static_cast<int>(threadIdx.x);
  for (int e = lane; e < 4 * 64; e += 32)
    tile[e] = static_cast<uint16_t>(e);
  __syncwarp();
  uint32_t d[4];
  const uint16_t* row = tile + lane * 8 + (lane == 5 ? misalign : 0);
  if (trans) {
    ldmatrix_x4_trans(d, row);
  } else {
    ldmatrix_x4(d, row);
  }
  for (int i = 0; i < 4; ++i)
    out[lane * 4 + i] = d[i];
}

// Each of 32 threads copies 16 bytes (4 floats) to shared memory in group 0 and 4 more bytes
// (a zero-filled one when `zero_fill`) in group 1, then waits per `mode`, synchronises and
// writes back what shared memory holds: 0 waits for all, 1 waits for group 0 only
// (wait_group 1), 2 does not wait at all.
__global__ void cp_async_kernel(const float* src, float* out, int mode, bool zero_fill) {
  GE_DYNAMIC_SHARED(float, stage);
  const int i = static_cast<int>(threadIdx.x);
  cp_async16(stage + 4 * i, src + 4 * i, 16);
  cp_async_commit();
  cp_async4(stage + 128 + i, src + 128 + i, zero_fill ? 0 : 4);
  cp_async_commit();
  if (mode == 0) cp_async_wait<0>();
  if (mode == 1) cp_async_wait<1>();
  __syncthreads();
  for (int e = i; e < 160; e += 32)
    out[e] = stage[e];
}

std::vector<float> random_values(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-2.f, 2.f);
  std::vector<float> v(n);
  for (float& x : v)
    x = dist(rng);
  return v;
}

using ge::testing::tf32_rounded;

TEST(EmuMatrix, Tf32RoundingIsNearestWithTiesAwayFromZero) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<uint32_t> bits;
  for (int i = 0; i < 20000; ++i) {
    const float x = std::bit_cast<float>(bits(rng) & 0xbfffffffu);  // finite, below 2^64
    ASSERT_EQ(std::bit_cast<float>(emu::tf32_round(x)), tf32_rounded(x)) << x;
  }
  // Exact ties: 1 + 2^-11 and -(1 + 3 * 2^-11) round away from zero.
  EXPECT_EQ(std::bit_cast<float>(emu::tf32_round(1.f + 0x1p-11f)), 1.f + 0x1p-10f);
  EXPECT_EQ(std::bit_cast<float>(emu::tf32_round(-(1.f + 3 * 0x1p-11f))), -(1.f + 0x1p-9f));
  EXPECT_TRUE(std::isinf(std::bit_cast<float>(emu::tf32_round(std::numeric_limits<float>::max()))));
  EXPECT_TRUE(std::isnan(std::bit_cast<float>(emu::tf32_round(NAN))));
}

// D = A B + C in double from the TF32-rounded operands.
std::vector<double> tf32_product(const std::vector<float>& A, const std::vector<float>& B,
                                 const std::vector<float>& C) {
  std::vector<double> D(128);
  for (int i = 0; i < 16; ++i) {
    for (int j = 0; j < 8; ++j) {
      double s = C[i * 8 + j];
      for (int k = 0; k < 8; ++k)
        s += static_cast<double>(tf32_rounded(A[i * 8 + k])) * tf32_rounded(B[k * 8 + j]);
      D[i * 8 + j] = s;
    }
  }
  return D;
}

double max_error(const std::vector<float>& got, const std::vector<double>& want) {
  double worst = 0;
  for (size_t i = 0; i < want.size(); ++i)
    worst = std::max(worst, std::fabs(got[i] - want[i]));
  return worst;
}

TEST(EmuMatrix, MmaTf32FollowsThePtxFragmentLayout) {
  const auto A = random_values(128, 1), B = random_values(64, 2), C = random_values(128, 3);
  DeviceVector<float> a(A), b(B), c(C), d(128);
  const std::vector<double> want = tf32_product(A, B, C);
  for (auto order :
       {emu::ThreadOrder::forward, emu::ThreadOrder::reverse, emu::ThreadOrder::random}) {
    emu::ScopedSchedule scoped({order, 5});
    GE_LAUNCH(mma_tf32_kernel, dim3(1), dim3(32), 0, nullptr, a.data(), b.data(), c.data(),
              d.data(), false);
    // One FP32 rounding of each sum, whose terms are below 8 * 4 + 2 in magnitude.
    EXPECT_LE(max_error(d.get(), want), 34 * 0x1p-24);
  }
}

TEST(EmuMatrix, MmaTf32WithAWrongFragmentIndexComputesAWrongProduct) {
  const auto A = random_values(128, 1), B = random_values(64, 2), C = random_values(128, 3);
  DeviceVector<float> a(A), b(B), c(C), d(128);
  GE_LAUNCH(mma_tf32_kernel, dim3(1), dim3(32), 0, nullptr, a.data(), b.data(), c.data(), d.data(),
            true);
  EXPECT_GT(max_error(d.get(), tf32_product(A, B, C)), 0.1);
}

TEST(EmuMatrix, MmaTf32DropsTheLowBitsOfUnroundedOperands) {
  // 1 + 2^-12 is not a TF32 value: its low bits are not read, so 1 * (1 + 2^-12) = 1.
  std::vector<float> A(128, 0.f), B(64, 0.f), C(128, 0.f);
  A[0] = 1.f + 0x1p-12f;
  B[0] = 1.f;
  DeviceVector<float> a(A), b(B), c(C), d(128);
  GE_LAUNCH(mma_tf32_kernel, dim3(1), dim3(32), 0, nullptr, a.data(), b.data(), c.data(), d.data(),
            false);
  EXPECT_EQ(d.get()[0], 1.f);
}

TEST(EmuMatrix, MmaBf16FollowsThePtxFragmentLayout) {
  const auto Af = random_values(256, 4), Bf = random_values(128, 5), C = random_values(128, 6);
  std::vector<uint16_t> A(256), B(128);
  for (size_t i = 0; i < A.size(); ++i)
    A[i] = bf16_bits(Af[i]);
  for (size_t i = 0; i < B.size(); ++i)
    B[i] = bf16_bits(Bf[i]);
  const auto value = [](uint16_t h) {
    return std::bit_cast<float>(static_cast<uint32_t>(h) << 16);
  };
  std::vector<double> want(128);
  for (int i = 0; i < 16; ++i) {
    for (int j = 0; j < 8; ++j) {
      double s = C[i * 8 + j];
      for (int k = 0; k < 16; ++k)
        s += static_cast<double>(value(A[i * 16 + k])) * value(B[k * 8 + j]);
      want[i * 8 + j] = s;
    }
  }
  // __float2bfloat16 rounds to nearest even: 1 + 2^-8 is a tie and goes down to 1.
  EXPECT_EQ(bf16_bits(1.f + 0x1p-8f), 0x3f80);
  EXPECT_EQ(bf16_bits(1.f + 3 * 0x1p-8f), 0x3f82);
  DeviceVector<uint16_t> a(A), b(B);
  DeviceVector<float> c(C), d(128);
  GE_LAUNCH(mma_bf16_kernel, dim3(1), dim3(32), 0, nullptr, a.data(), b.data(), c.data(), d.data());
  EXPECT_LE(max_error(d.get(), want), 66 * 0x1p-24);
}

TEST(EmuMatrix, MmaNeedsTheWholeWarp) {
  DeviceVector<float> d(32);
  const auto result =
      outcome_of([&] { GE_LAUNCH(partial_warp_mma, dim3(1), dim3(32), 0, nullptr, d.data()); });
  EXPECT_EQ(result.error, cudaErrorLaunchFailure);
  EXPECT_NE(result.message.find("mma.sync.m16n8k8.tf32"), std::string::npos) << result.message;
  EXPECT_NE(result.message.find("has exited"), std::string::npos) << result.message;
}

TEST(EmuMatrix, LdmatrixGivesEachLaneItsRowPairOrColumnPair) {
  DeviceVector<uint32_t> out(128);
  for (const bool trans : {false, true}) {
    GE_LAUNCH(ldmatrix_kernel, dim3(1), dim3(32), 512, nullptr, out.data(), trans, 0);
    const std::vector<uint32_t> got = out.get();
    for (uint32_t lane = 0; lane < 32; ++lane) {
      for (uint32_t m = 0; m < 4; ++m) {
        // Lane l holds row l/4, columns 2(l%4) and 2(l%4)+1 (.trans: the transposed matrix's).
        const uint32_t r = lane / 4, c = 2 * (lane % 4);
        const uint32_t lo = trans ? m * 64 + c * 8 + r : m * 64 + r * 8 + c;
        const uint32_t hi = trans ? lo + 8 : lo + 1;
        ASSERT_EQ(got[lane * 4 + m], lo | hi << 16) << "lane " << lane << " matrix " << m;
      }
    }
  }
}

TEST(EmuMatrix, LdmatrixRefusesAMisalignedRow) {
  DeviceVector<uint32_t> out(128);
  const auto result = outcome_of(
      [&] { GE_LAUNCH(ldmatrix_kernel, dim3(1), dim3(32), 512, nullptr, out.data(), false, 2); });
  EXPECT_EQ(result.error, cudaErrorLaunchFailure);
  EXPECT_NE(result.message.find("lane 5 gives row address"), std::string::npos) << result.message;
}

TEST(EmuMatrix, CpAsyncLandsWhenItsGroupIsWaitedFor) {
  const auto src = random_values(160, 8);
  DeviceVector<float> in(src), out(160);
  for (auto order : {emu::ThreadOrder::forward, emu::ThreadOrder::reverse}) {
    emu::ScopedSchedule scoped({order, 0});
    GE_LAUNCH(cp_async_kernel, dim3(1), dim3(32), 160 * sizeof(float), nullptr, in.data(),
              out.data(), 0, false);
    auto got = out.get();
    for (int e = 0; e < 160; ++e)
      ASSERT_EQ(got[e], src[e]) << e;
    GE_LAUNCH(cp_async_kernel, dim3(1), dim3(32), 160 * sizeof(float), nullptr, in.data(),
              out.data(), 0, true);
    got = out.get();
    for (int e = 128; e < 160; ++e)
      ASSERT_EQ(got[e], 0.f) << e;
  }
}

TEST(EmuMatrix, CpAsyncWithoutItsWaitLeavesSharedMemoryUnwritten) {
  const auto src = random_values(160, 9);
  DeviceVector<float> in(src), out(160);
  // wait_group 1: group 0 (the first 128 floats) has landed, group 1 has not.
  GE_LAUNCH(cp_async_kernel, dim3(1), dim3(32), 160 * sizeof(float), nullptr, in.data(), out.data(),
            1, false);
  auto got = out.get();
  for (int e = 0; e < 128; ++e)
    ASSERT_EQ(got[e], src[e]) << e;
  for (int e = 128; e < 160; ++e)
    ASSERT_TRUE(std::isnan(got[e])) << e;
  // No wait at all: nothing has landed.
  GE_LAUNCH(cp_async_kernel, dim3(1), dim3(32), 160 * sizeof(float), nullptr, in.data(), out.data(),
            2, false);
  got = out.get();
  for (int e = 0; e < 160; ++e)
    ASSERT_TRUE(std::isnan(got[e])) << e;
}

}  // namespace
}  // namespace ge::emu_test
