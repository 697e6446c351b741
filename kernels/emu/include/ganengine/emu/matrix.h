#pragma once
// The warp-level matrix instructions of sm_80+ as the emulator runs them: mma.sync on the tensor
// cores (TF32 m16n8k8 and BF16 m16n8k16, row.col, FP32 accumulators), ldmatrix, and cp.async
// with its commit and wait groups. Kernels reach them through kernels/cuda/mma.cuh, which issues
// the PTX instructions under nvcc and calls these functions under the emulator.
//
// Fragments are the per-thread registers in the layouts the PTX ISA documents ("Matrix
// Fragments for mma.m16n8k8" and "mma.m16n8k16"): a kernel that indexes them wrongly computes a
// wrong product here as on a GPU. mma.sync and ldmatrix are .aligned: all 32 lanes of the warp
// execute the same instruction together, which the emulator checks.
//
// Numerics. A TF32 operand is an FP32 bit pattern whose 13 low mantissa bits the tensor core
// does not read (they are dropped here): a kernel that wants round-to-nearest converts first with
// cvt.rna.tf32.f32 (tf32_round below). A BF16 operand is the upper half of an FP32 pattern. The
// products are exact in FP32; each output is c + the sum of its products, formed exactly and
// rounded once to FP32 (the hardware adds in an undocumented order: results may differ from it in
// the last bits, never by more than the FP32 rounding of the sums).
//
// cp.async is deferred, as the hardware allows: the source is read when the copy is issued, and
// the shared-memory destination is written only when the issuing thread waits for the copy's
// group (cp.async.wait_group / wait_all). A kernel that reads the destination without waiting
// reads the block's garbage fill, not the data.
#include <cstdint>
#include <source_location>

namespace ge::emu {

// cvt.rna.tf32.f32: round to the nearest TF32 (10 mantissa bits), ties away from zero; the
// result is an FP32 pattern with its 13 low bits clear. NaN stays NaN, overflow gives infinity.
std::uint32_t tf32_round(float x);

// mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 d, a, b, c
void mma_m16n8k8_tf32(float (&d)[4], const std::uint32_t (&a)[4], const std::uint32_t (&b)[2],
                      const float (&c)[4],
                      std::source_location where = std::source_location::current());

// mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 d, a, b, c (two bf16 per register, the
// lower column or row in the low half)
void mma_m16n8k16_bf16(float (&d)[4], const std::uint32_t (&a)[4], const std::uint32_t (&b)[2],
                       const float (&c)[4],
                       std::source_location where = std::source_location::current());

// ldmatrix.sync.aligned.m8n8.x{count}[.trans].shared.b16: `count` (1, 2 or 4) 8x8 matrices of
// 16-bit elements; lane 8*i + r gives the shared-memory address of row r of matrix i (16-byte
// aligned; lanes past 8*count give none that is read), and d[i] receives the lane's fragment of
// matrix i.
void ldmatrix(std::uint32_t* d, int count, bool trans, const void* row,
              std::source_location where = std::source_location::current());

// cp.async.{ca,cg}.shared.global [dst], [src], bytes, src_bytes: copies `bytes` (4, 8 or 16)
// from global to shared memory, the last bytes - src_bytes of them zeros (src is not read when
// src_bytes is 0).
void cp_async(void* dst, const void* src, int bytes, int src_bytes,
              std::source_location where = std::source_location::current());
// cp.async.commit_group: the copies issued since the last commit form a group.
void cp_async_commit_group();
// cp.async.wait_group n: completes every committed group but the n most recent.
void cp_async_wait_group(int n);

namespace detail {
// What one lane brings to, and takes from, a warp matrix operation.
struct MmaLane {
  std::uint32_t a[4];
  std::uint32_t b[2];
  float c[4];
  float d[4];
};
struct LdmatrixLane {
  const void* row;
  std::uint32_t d[4];
};
}  // namespace detail

}  // namespace ge::emu
