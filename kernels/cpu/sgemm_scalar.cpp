// The portable SGEMM micro-kernel: a 4 x 8 tile in plain C++, which the compiler vectorizes with
// the baseline's SSE2 (no FMA there: each term is a multiply and an add).
#include "cpu/sgemm_kernels.h"

namespace ge::kernels::cpu {
namespace {

constexpr int kMr = 4, kNr = 8;

void tile_scalar(int64_t kc, const float* a, int64_t a_row, int64_t a_step, const float* b,
                 float* c, int64_t ldc, float alpha, float beta, int rows, int cols) {
  float acc[kMr][kNr] = {};
  for (int64_t p = 0; p < kc; ++p) {
    for (int r = 0; r < kMr; ++r)
      for (int j = 0; j < kNr; ++j)
        acc[r][j] += a[r * a_row] * b[j];
    a += a_step;
    b += kNr;
  }
  for (int r = 0; r < rows; ++r) {
    float* const row = c + r * ldc;
    for (int j = 0; j < cols; ++j)
      row[j] = beta == 0.f ? alpha * acc[r][j] : alpha * acc[r][j] + beta * row[j];
  }
}

}  // namespace

const GemmKernel kGemmScalar{kMr, kNr, 256, 128, 2048, false, tile_scalar, nullptr};

}  // namespace ge::kernels::cpu
