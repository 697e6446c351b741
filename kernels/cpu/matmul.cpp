// CPU GEMM: the kernels' own single-threaded SGEMM (cpu/sgemm.h) spread over their OpenMP team.
//
// A large product is cut into blocks of rows of C (of columns when C is wider than tall), each
// block one sgemm that reads all of the other operand, and the team takes the blocks of every
// product of the batch. The blocks are a function of the shapes alone, never of the team: every
// element of C comes from the same call whatever the number of threads, so results are bitwise
// identical across thread counts.
#include <algorithm>
#include <cstdint>

#include "common/gemm.h"
#include "cpu/cpu_isa.h"
#include "cpu/parallel.h"
#include "cpu/sgemm.h"
#include "ganengine/kernels/matmul.h"

namespace ge::kernels::cpu {
namespace {

// Below this many multiply-adds (some 20 us on one core) one product runs as one call, and a
// batch on the calling thread: waking the team and joining it would cost about what the other
// cores give back. A block of a split product has at least this much work.
constexpr double kGemmGrain = double{1 << 20};
// Block edges fall on multiples of 16 rows or columns: a column block then starts on its own
// 64-byte line of C when C's rows are aligned (no false sharing between the threads).
constexpr int64_t kBlockAlign = 16;
// Each block packs the whole other operand again, which costs about 1 / (block edge) of the
// block's time: blocks stay at least this long, and a product is cut into at most kMaxBlocks.
constexpr int64_t kMinBlockLen = 128;
constexpr int64_t kMaxBlocks = 4;

// How a product of the batch is cut; the same for every product.
struct Split {
  bool by_rows = true;
  int64_t len = 0;     // rows (by_rows) or columns of C
  int64_t units = 0;   // len in kBlockAlign steps
  int64_t blocks = 1;  // blocks per product
};

Split make_split(const GemmArgs& g, double macs) {
  Split s;
  // Each block repacks the whole other operand, so the longer side is the one to cut.
  s.by_rows = g.m >= g.n;
  s.len = s.by_rows ? g.m : g.n;
  s.units = (s.len + kBlockAlign - 1) / kBlockAlign;
  // A batch of at least kMaxBlocks products has parallelism enough in whole products.
  if (g.k == 0 || g.batch >= kMaxBlocks) return s;
  const auto by_work = static_cast<int64_t>(std::min(macs / kGemmGrain, double{kMaxBlocks}));
  s.blocks = std::max<int64_t>(1, std::min({by_work, s.len / kMinBlockLen, s.units}));
  return s;
}

// Block `blk` of product `bi`.
void gemm_block(CpuIsa isa, const GemmArgs& g, const Split& s, int64_t bi, int64_t blk) {
  const float* a = g.a + bi * g.stride_a;
  const float* b = g.b + bi * g.stride_b;
  float* c = g.c + bi * g.stride_c;
  const int64_t begin = std::min(s.len, s.units * blk / s.blocks * kBlockAlign);
  const int64_t end = std::min(s.len, s.units * (blk + 1) / s.blocks * kBlockAlign);
  if (begin == end) return;
  if (s.by_rows) {
    sgemm(isa, g.trans_a, g.trans_b, end - begin, g.n, g.k, g.alpha,
          a + (g.trans_a ? begin : begin * g.lda), g.lda, b, g.ldb, g.beta, c + begin * g.ldc,
          g.ldc);
  } else {
    sgemm(isa, g.trans_a, g.trans_b, g.m, end - begin, g.k, g.alpha, a, g.lda,
          b + (g.trans_b ? begin * g.ldb : begin), g.ldb, g.beta, c + begin, g.ldc);
  }
}

}  // namespace

void gemm(const GemmArgs& g) {
  if (check_gemm_args(g)) return;
  // In double: three int-sized factors overflow int64.
  const double macs =
      static_cast<double>(g.m) * static_cast<double>(g.n) * static_cast<double>(g.k);
  const Split s = make_split(g, macs);
  const CpuIsa isa = active_isa();
  const int64_t items = g.batch * s.blocks;
  parallel_for(items, macs * static_cast<double>(g.batch) >= kGemmGrain,
               [&](int64_t i) { gemm_block(isa, g, s, i / s.blocks, i % s.blocks); });
}

}  // namespace ge::kernels::cpu
