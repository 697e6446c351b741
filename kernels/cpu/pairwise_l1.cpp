// CPU pairwise_l1: one row i per task, spread over the threads by parallel_for. The distances
// and the tangent walk the pairs (i, j) and, per b, the C contiguous values of both rows; the
// adjoint adds, for j ascending, each pair's weighted signs into row i's B * C contiguous
// outputs. Each task writes only its own row of the output.
#include "common/pairwise_l1.h"

#include <algorithm>

#include "cpu/parallel.h"
#include "ganengine/kernels/pairwise_l1.h"

namespace ge::kernels::cpu {
namespace {

// Every launcher does about N^2 B C element steps.
bool worth_threads(const PairwiseL1Shape& s) {
  return s.n * s.n * s.b * std::max<int64_t>(s.c, 1) >= kParallelGrain;
}

}  // namespace

void pairwise_l1(const float* m, float* d, const PairwiseL1Shape& s) {
  pairwise_l1_check("pairwise_l1", s, pairwise_l1_pairs_numel(s), d, {m});
  if (pairwise_l1_pairs_numel(s) == 0) return;
  parallel_for(s.n, worth_threads(s), [&](int64_t i) {
    const float* mi = m + pairwise_l1_row(s, i);
    for (int64_t j = 0; j < s.n; ++j) {
      const float* mj = m + pairwise_l1_row(s, j);
      float* out = d + pairwise_l1_pair(s, i, j);
      for (int64_t b = 0; b < s.b; ++b) {
        const float* x = mi + b * s.c;
        const float* y = mj + b * s.c;
        float acc = 0.f;
        for (int64_t c = 0; c < s.c; ++c)
          acc += pairwise_l1_term(x[c], y[c]);
        out[b] = acc;
      }
    }
  });
}

void pairwise_l1_adjoint(const float* m, const float* g, float* out, const PairwiseL1Shape& s) {
  pairwise_l1_check("pairwise_l1_adjoint", s, pairwise_l1_rows_numel(s), out, {m, g});
  if (pairwise_l1_rows_numel(s) == 0) return;
  parallel_for(s.n, worth_threads(s), [&](int64_t i) {
    const float* mi = m + pairwise_l1_row(s, i);
    float* oi = out + pairwise_l1_row(s, i);
    std::fill(oi, oi + s.b * s.c, 0.f);
    for (int64_t j = 0; j < s.n; ++j) {
      const float* mj = m + pairwise_l1_row(s, j);
      const float* gij = g + pairwise_l1_pair(s, i, j);
      const float* gji = g + pairwise_l1_pair(s, j, i);
      for (int64_t b = 0; b < s.b; ++b) {
        const float w = gij[b] + gji[b];
        const float* x = mi + b * s.c;
        const float* y = mj + b * s.c;
        float* o = oi + b * s.c;
        for (int64_t c = 0; c < s.c; ++c)
          o[c] += w * pairwise_l1_sign(x[c], y[c]);
      }
    }
  });
}

void pairwise_l1_tangent(const float* m, const float* h, float* out, const PairwiseL1Shape& s) {
  pairwise_l1_check("pairwise_l1_tangent", s, pairwise_l1_pairs_numel(s), out, {m, h});
  if (pairwise_l1_pairs_numel(s) == 0) return;
  parallel_for(s.n, worth_threads(s), [&](int64_t i) {
    const float* mi = m + pairwise_l1_row(s, i);
    const float* hi = h + pairwise_l1_row(s, i);
    for (int64_t j = 0; j < s.n; ++j) {
      const float* mj = m + pairwise_l1_row(s, j);
      const float* hj = h + pairwise_l1_row(s, j);
      float* o = out + pairwise_l1_pair(s, i, j);
      for (int64_t b = 0; b < s.b; ++b) {
        const int64_t at = b * s.c;
        float acc = 0.f;
        for (int64_t c = 0; c < s.c; ++c)
          acc += pairwise_l1_tangent_term(mi[at + c], mj[at + c], hi[at + c], hj[at + c]);
        o[b] = acc;
      }
    }
  });
}

}  // namespace ge::kernels::cpu
