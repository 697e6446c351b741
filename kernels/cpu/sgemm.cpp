// The SGEMM driver: the loops of Goto's algorithm around a micro-kernel (sgemm_kernels.h).
//
//   for each nc-wide block of columns of B and C
//     for each kc-deep block of the sum: pack B[kc x nc] into kc x nr panels
//       for each mc-tall block of rows of A and C: pack A[mc x kc] into kc x mr panels (unless
//       the micro-kernel reads A in place, GemmKernel::direct_a)
//         for each panel of B (in L1 while it lasts), for each panel of A (from L2):
//           the micro-kernel updates one mr x nr tile of C
//
// Panels are zero-padded to whole tiles; a tile cut by the edge of C runs an instance of the
// micro-kernel with only the rows and vectors it stores, whose sums are the same sequence of
// FMAs: every element of C is summed in the same order, wherever it lies. The first block of the
// sum applies beta, the later ones add to C.
#include "cpu/sgemm.h"

#include <algorithm>
#include <climits>
#include <cstddef>
#include <memory>
#include <new>

#include "cpu/sgemm_kernels.h"

namespace ge::kernels::cpu {
namespace {

const GemmKernel& kernel_for(CpuIsa isa) {
  switch (isa) {
    case CpuIsa::avx512:
      return kGemmAvx512;
    case CpuIsa::avx2:
      return kGemmAvx2;
    case CpuIsa::scalar:
      break;
  }
  return kGemmScalar;
}

// One thread's packing space, grown as needed and kept for its next products.
class PackBuffer {
 public:
  float* get(std::size_t floats) {
    if (floats > capacity_) {
      data_.reset(static_cast<float*>(::operator new[](floats * sizeof(float), kAlign)));
      capacity_ = floats;
    }
    return data_.get();
  }

 private:
  static constexpr std::align_val_t kAlign{64};
  struct Free {
    void operator()(float* p) const { ::operator delete[](p, kAlign); }
  };
  std::unique_ptr<float, Free> data_;
  std::size_t capacity_ = 0;
};

thread_local PackBuffer packed_a, packed_b;

// op(A)[i0 .. i0+mc, p0 .. p0+kc] as mc / mr panels, each kc steps of mr values.
void pack_a(const GemmKernel& g, bool trans, const float* a, int64_t lda, int64_t i0, int64_t mc,
            int64_t p0, int64_t kc, float* out) {
  const int mr = g.mr;
  for (int64_t ir = 0; ir < mc; ir += mr, out += kc * mr) {
    const int rows = static_cast<int>(std::min<int64_t>(mr, mc - ir));
    if (trans) {  // op(A)(i, p) = a[p * lda + i]: mr values in a row
      const float* src = a + p0 * lda + i0 + ir;
      for (int64_t p = 0; p < kc; ++p, src += lda) {
        float* const dst = out + p * mr;
        for (int r = 0; r < rows; ++r)
          dst[r] = src[r];
        for (int r = rows; r < mr; ++r)
          dst[r] = 0.f;
      }
    } else {  // op(A)(i, p) = a[i * lda + p]: one row of A per value of the step
      for (int r = 0; r < rows; ++r) {
        const float* const src = a + (i0 + ir + r) * lda + p0;
        for (int64_t p = 0; p < kc; ++p)
          out[p * mr + r] = src[p];
      }
      for (int r = rows; r < mr; ++r)
        for (int64_t p = 0; p < kc; ++p)
          out[p * mr + r] = 0.f;
    }
  }
}

// op(B)[p0 .. p0+kc, j0 .. j0+nc] as nc / nr panels, each kc steps of nr values.
void pack_b(const GemmKernel& g, bool trans, const float* b, int64_t ldb, int64_t j0, int64_t nc,
            int64_t p0, int64_t kc, float* out) {
  const int nr = g.nr;
  if (trans && g.pack_bt != nullptr && 15 * ldb <= INT_MAX) {
    g.pack_bt(b, ldb, j0, nc, p0, kc, out);
    return;
  }
  for (int64_t jr = 0; jr < nc; jr += nr, out += kc * nr) {
    const int cols = static_cast<int>(std::min<int64_t>(nr, nc - jr));
    if (trans) {  // op(B)(p, j) = b[j * ldb + p]: one row of B per value of the step
      for (int j = 0; j < cols; ++j) {
        const float* const src = b + (j0 + jr + j) * ldb + p0;
        for (int64_t p = 0; p < kc; ++p)
          out[p * nr + j] = src[p];
      }
      for (int j = cols; j < nr; ++j)
        for (int64_t p = 0; p < kc; ++p)
          out[p * nr + j] = 0.f;
    } else {  // op(B)(p, j) = b[p * ldb + j]: nr values in a row
      const float* src = b + p0 * ldb + j0 + jr;
      for (int64_t p = 0; p < kc; ++p, src += ldb) {
        float* const dst = out + p * nr;
        std::copy(src, src + cols, dst);
        std::fill(dst + cols, dst + nr, 0.f);
      }
    }
  }
}

void scale_c(int64_t m, int64_t n, float beta, float* c, int64_t ldc) {
  for (int64_t i = 0; i < m; ++i) {
    float* const row = c + i * ldc;
    for (int64_t j = 0; j < n; ++j)
      row[j] = beta == 0.f ? 0.f : beta * row[j];
  }
}

// The loops of Goto's algorithm; pack(jc, nc, pc, kc, out) packs op(B)'s block.
template <typename PackB>
void run(CpuIsa isa, bool trans_a, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
         int64_t lda, PackB&& pack, float beta, float* c, int64_t ldc) {
  if (m == 0 || n == 0) return;
  if (k == 0) {
    scale_c(m, n, beta, c, ldc);
    return;
  }
  const GemmKernel& g = kernel_for(isa);
  const int64_t kc_max = std::min(g.kc, k);
  const int64_t mc_max = std::min(g.mc, (m + g.mr - 1) / g.mr * g.mr);
  const int64_t nc_max = std::min(g.nc, (n + g.nr - 1) / g.nr * g.nr);
  float* const ap = g.direct_a ? nullptr : packed_a.get(static_cast<std::size_t>(mc_max * kc_max));
  float* const bp = packed_b.get(static_cast<std::size_t>(nc_max * kc_max));
  for (int64_t jc = 0; jc < n; jc += g.nc) {
    const int64_t nc = std::min(g.nc, n - jc);
    for (int64_t pc = 0; pc < k; pc += g.kc) {
      const int64_t kc = std::min(g.kc, k - pc);
      const float step_beta = pc == 0 ? beta : 1.f;
      pack(jc, nc, pc, kc, bp);
      for (int64_t ic = 0; ic < m; ic += g.mc) {
        const int64_t mc = std::min(g.mc, m - ic);
        // A(i, p) of this block at a_block[i * a_row + p * a_step], i and p from the block's
        // corner; the tiles of a packed block are kc * mr floats apart.
        const float* a_block = ap;
        int64_t a_row = 1, a_step = g.mr, a_tile = kc * g.mr;
        if (g.direct_a) {
          a_block = trans_a ? a + pc * lda + ic : a + ic * lda + pc;
          a_row = trans_a ? 1 : lda;
          a_step = trans_a ? lda : 1;
          a_tile = g.mr * a_row;
        } else {
          pack_a(g, trans_a, a, lda, ic, mc, pc, kc, ap);
        }
        for (int64_t jr = 0; jr < nc; jr += g.nr) {
          const int cols = static_cast<int>(std::min<int64_t>(g.nr, nc - jr));
          const float* const b_panel = bp + jr * kc;
          for (int64_t ir = 0; ir < mc; ir += g.mr) {
            const int rows = static_cast<int>(std::min<int64_t>(g.mr, mc - ir));
            g.tile(kc, a_block + ir / g.mr * a_tile, a_row, a_step, b_panel,
                   c + (ic + ir) * ldc + jc + jr, ldc, alpha, step_beta, rows, cols);
          }
        }
      }
    }
  }
}

}  // namespace

int sgemm_panel_width(CpuIsa isa) {
  return kernel_for(isa).nr;
}

void sgemm(CpuIsa isa, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
           const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
           int64_t ldc) {
  const GemmKernel& g = kernel_for(isa);
  run(
      isa, trans_a, m, n, k, alpha, a, lda,
      [&](int64_t j0, int64_t nc, int64_t p0, int64_t kc, float* out) {
        pack_b(g, trans_b, b, ldb, j0, nc, p0, kc, out);
      },
      beta, c, ldc);
}

void sgemm(CpuIsa isa, bool trans_a, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
           int64_t lda, const GemmPackB& b, float beta, float* c, int64_t ldc) {
  run(
      isa, trans_a, m, n, k, alpha, a, lda,
      [&](int64_t j0, int64_t nc, int64_t p0, int64_t kc, float* out) {
        b.pack(b.source, j0, nc, p0, kc, out);
      },
      beta, c, ldc);
}

}  // namespace ge::kernels::cpu
