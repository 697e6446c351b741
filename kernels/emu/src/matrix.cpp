// The warp matrix instructions of matrix.h. mma.sync and ldmatrix are warp operations: each lane
// parks a pointer to its operands in the scheduler (WarpOp::mma_*, ldmatrix) and run_matrix_op
// computes every lane's result once all 32 have arrived. cp.async is per thread: copies wait in
// the thread's slot until it waits for their group.
#include <bit>
#include <cstring>

#include "block.h"
#include "sanitizers.h"

namespace ge::emu {
namespace {

using detail::LdmatrixLane;
using detail::MmaLane;
using detail::WarpOp;

constexpr unsigned kFullWarp = 0xffffffffu;

float tf32_operand(std::uint32_t bits) {
  return std::bit_cast<float>(bits & 0xffffe000u);
}

float bf16_operand(std::uint32_t half) {
  return std::bit_cast<float>((half & 0xffffu) << 16);
}

template <class Lane>
Lane& lane_of(detail::ThreadSlot* const* lanes, unsigned l) {
  return *reinterpret_cast<Lane*>(static_cast<std::uintptr_t>(lanes[l]->value));
}

// D = A B + C for the 16 x 8 output, from A [16][K] and B [K][8] gathered out of the lanes.
template <int K>
void multiply(detail::ThreadSlot* const* lanes, const float (&A)[16][K], const float (&B)[K][8]) {
  for (unsigned l = 0; l < 32; ++l) {
    MmaLane& lane = lane_of<MmaLane>(lanes, l);
    const unsigned g = l >> 2, t = l & 3;
    for (unsigned r = 0; r < 4; ++r) {
      const unsigned row = g + (r >> 1) * 8, col = 2 * t + (r & 1);
      double sum = lane.c[r];
      for (int k = 0; k < K; ++k)
        sum += static_cast<double>(A[row][k]) * B[k][col];
      lane.d[r] = static_cast<float>(sum);
    }
  }
}

void mma_tf32(detail::ThreadSlot* const* lanes) {
  float A[16][8], B[8][8];
  for (unsigned l = 0; l < 32; ++l) {
    const MmaLane& lane = lane_of<MmaLane>(lanes, l);
    const unsigned g = l >> 2, t = l & 3;
    A[g][t] = tf32_operand(lane.a[0]);
    A[g + 8][t] = tf32_operand(lane.a[1]);
    A[g][t + 4] = tf32_operand(lane.a[2]);
    A[g + 8][t + 4] = tf32_operand(lane.a[3]);
    B[t][g] = tf32_operand(lane.b[0]);
    B[t + 4][g] = tf32_operand(lane.b[1]);
  }
  multiply<8>(lanes, A, B);
}

void mma_bf16(detail::ThreadSlot* const* lanes) {
  float A[16][16], B[16][8];
  for (unsigned l = 0; l < 32; ++l) {
    const MmaLane& lane = lane_of<MmaLane>(lanes, l);
    const unsigned g = l >> 2, t = l & 3;
    for (unsigned r = 0; r < 4; ++r) {
      const unsigned row = g + (r & 1) * 8, col = 2 * t + (r >> 1) * 8;
      A[row][col] = bf16_operand(lane.a[r]);
      A[row][col + 1] = bf16_operand(lane.a[r] >> 16);
    }
    for (unsigned r = 0; r < 2; ++r) {
      const unsigned k = 2 * t + r * 8;
      B[k][g] = bf16_operand(lane.b[r]);
      B[k + 1][g] = bf16_operand(lane.b[r] >> 16);
    }
  }
  multiply<16>(lanes, A, B);
}

std::string address_text(const void* p) {
  char text[32];
  std::snprintf(text, sizeof text, "%p", p);
  return text;
}

// arg = count | trans << 3
std::string load_matrices(detail::ThreadSlot* const* lanes, int arg) {
  const unsigned count = static_cast<unsigned>(arg) & 7u;
  const bool trans = (arg >> 3) & 1;
  std::uint16_t m[4][8][8];
  for (unsigned i = 0; i < count; ++i) {
    for (unsigned r = 0; r < 8; ++r) {
      const void* row = lane_of<LdmatrixLane>(lanes, 8 * i + r).row;
      if (reinterpret_cast<std::uintptr_t>(row) % 16 != 0 || !detail::in_shared_memory(row, 16)) {
        return "lane " + std::to_string(8 * i + r) + " gives row address " + address_text(row) +
               ", expected a 16-byte aligned row of 16 bytes in the block's shared memory";
      }
      std::memcpy(m[i][r], row, 16);
    }
  }
  for (unsigned l = 0; l < 32; ++l) {
    LdmatrixLane& lane = lane_of<LdmatrixLane>(lanes, l);
    const unsigned g = l >> 2, t = l & 3;
    for (unsigned i = 0; i < count; ++i) {
      const std::uint32_t lo = trans ? m[i][2 * t][g] : m[i][g][2 * t];
      const std::uint32_t hi = trans ? m[i][2 * t + 1][g] : m[i][g][2 * t + 1];
      lane.d[i] = lo | hi << 16;
    }
  }
  return {};
}

void warp_matrix(WarpOp op, void* operands, int arg, const std::source_location& where) {
  detail::warp_op(op, kFullWarp, reinterpret_cast<std::uintptr_t>(operands), arg, 32, where);
}

void mma(WarpOp op, float (&d)[4], const std::uint32_t (&a)[4], const std::uint32_t (&b)[2],
         const float (&c)[4], const std::source_location& where) {
  MmaLane lane;
  std::memcpy(lane.a, a, sizeof lane.a);
  std::memcpy(lane.b, b, sizeof lane.b);
  std::memcpy(lane.c, c, sizeof lane.c);
  warp_matrix(op, &lane, 0, where);
  std::memcpy(d, lane.d, sizeof lane.d);
}

std::string where_text(const std::source_location& where) {
  return std::string(where.file_name()) + ":" + std::to_string(where.line());
}

}  // namespace

std::uint32_t tf32_round(float x) {
  const std::uint32_t bits = std::bit_cast<std::uint32_t>(x);
  if ((bits & 0x7f800000u) == 0x7f800000u) {  // infinity stays, NaN stays a (quiet) NaN
    return (bits & 0x007fffffu) != 0 ? (bits | 0x00400000u) & 0xffffe000u : bits;
  }
  // Ties away from zero: add half a TF32 unit to the magnitude; a carry into the exponent is
  // the correct rounding, up to infinity.
  return (bits + 0x00001000u) & 0xffffe000u;
}

void mma_m16n8k8_tf32(float (&d)[4], const std::uint32_t (&a)[4], const std::uint32_t (&b)[2],
                      const float (&c)[4], std::source_location where) {
  mma(WarpOp::mma_tf32, d, a, b, c, where);
}

void mma_m16n8k16_bf16(float (&d)[4], const std::uint32_t (&a)[4], const std::uint32_t (&b)[2],
                       const float (&c)[4], std::source_location where) {
  mma(WarpOp::mma_bf16, d, a, b, c, where);
}

void ldmatrix(std::uint32_t* d, int count, bool trans, const void* row,
              std::source_location where) {
  if (count != 1 && count != 2 && count != 4) {
    detail::fail_running_thread(detail::running_thread("ldmatrix"),
                                "ldmatrix at " + where_text(where) + " loads " +
                                    std::to_string(count) + " matrices, expected 1, 2 or 4");
  }
  LdmatrixLane lane{row, {}};
  warp_matrix(WarpOp::ldmatrix, &lane, count | (trans ? 8 : 0), where);
  std::memcpy(d, lane.d, sizeof(std::uint32_t) * static_cast<unsigned>(count));
}

void cp_async(void* dst, const void* src, int bytes, int src_bytes, std::source_location where) {
  detail::ThreadSlot& t = detail::running_thread("cp.async");
  const auto misuse = [&](const std::string& why) {
    detail::fail_running_thread(t, "cp.async at " + where_text(where) + ": " + why);
  };
  if (bytes != 4 && bytes != 8 && bytes != 16) {
    misuse("copies " + std::to_string(bytes) + " bytes, expected 4, 8 or 16");
  }
  if (src_bytes < 0 || src_bytes > bytes) {
    misuse("reads " + std::to_string(src_bytes) + " source bytes of " + std::to_string(bytes) +
           ", expected 0 to " + std::to_string(bytes));
  }
  const auto ubytes = static_cast<unsigned>(bytes);
  if (reinterpret_cast<std::uintptr_t>(dst) % ubytes != 0 ||
      reinterpret_cast<std::uintptr_t>(src) % ubytes != 0) {
    misuse("source " + address_text(src) + " or destination " + address_text(dst) +
           " is not aligned to the copy's " + std::to_string(bytes) + " bytes");
  }
  if (!detail::in_shared_memory(dst, ubytes)) {
    misuse("destination " + address_text(dst) + " is not in the block's shared memory");
  }
  detail::AsyncCopy copy{dst, {}, ubytes, t.async_groups};
  if (src_bytes > 0) std::memcpy(copy.data, src, static_cast<unsigned>(src_bytes));
  t.async_copies.push_back(copy);
}

void cp_async_commit_group() {
  ++detail::running_thread("cp.async.commit_group").async_groups;
}

void cp_async_wait_group(int n) {
  detail::ThreadSlot& t = detail::running_thread("cp.async.wait_group");
  if (n < 0) {
    detail::fail_running_thread(
        t, "cp.async.wait_group " + std::to_string(n) + ": expected a count of at least 0");
  }
  // Groups [0, done) complete: all committed ones but the n most recent.
  const unsigned done =
      t.async_groups > static_cast<unsigned>(n) ? t.async_groups - static_cast<unsigned>(n) : 0;
  std::size_t kept = 0;
  for (const detail::AsyncCopy& copy : t.async_copies) {
    if (copy.group < done) {
      std::memcpy(copy.dst, copy.data, copy.bytes);
    } else {
      t.async_copies[kept++] = copy;
    }
  }
  t.async_copies.resize(kept);
}

namespace detail {

bool is_matrix_op(WarpOp op) {
  return op == WarpOp::mma_tf32 || op == WarpOp::mma_bf16 || op == WarpOp::ldmatrix;
}

std::string run_matrix_op(WarpOp op, ThreadSlot* const* lanes) {
  switch (op) {
    case WarpOp::mma_tf32:
      mma_tf32(lanes);
      return {};
    case WarpOp::mma_bf16:
      mma_bf16(lanes);
      return {};
    case WarpOp::ldmatrix:
      return load_matrices(lanes, lanes[0]->arg);
    default:
      return "not a matrix operation";
  }
}

}  // namespace detail
}  // namespace ge::emu
