// The elementwise ops' inner loops (elementwise_rows.h) compiled for AVX-512. The shared headers
// come first, compiled for the baseline; the loops and their instances after the target pragma,
// all with internal linkage except the two entry points.
#include "common/elementwise.h"
#include "cpu/cpu_isa.h"
#include "cpu/avx512_region.h"

GE_BEGIN_AVX512
#include "cpu/elementwise_rows.h"

namespace ge::kernels::cpu {

void binary_row_avx512(BinaryOp op, const float* a, int64_t sa, const float* b, int64_t sb,
                       float* out, int64_t n) {
  dispatch_binary(op, [&]<BinaryOp Op>() { binary_row<Op>(a, sa, b, sb, out, n); });
}

void unary_run_avx512(UnaryOp op, UnaryParams p, const float* x, float* y, int64_t n) {
  dispatch_unary(op, [&]<UnaryOp Op>() { unary_run<Op>(x, y, n, p); });
}

}  // namespace ge::kernels::cpu

GE_END_AVX512
