// The batch_norm row loops (batch_norm_loops.h) compiled for AVX-512. The shared headers come
// first, compiled for the baseline; the loops after the target pragma.
#include "common/batch_norm.h"
#include "cpu/avx512_region.h"

GE_BEGIN_AVX512
#include "cpu/batch_norm_loops.h"

namespace ge::kernels::cpu {

const BatchNormLoops kBatchNormAvx512{sum_row, sum_squares_row, sum_dy_row, apply_row,
                                      grad_input_row};

}  // namespace ge::kernels::cpu

GE_END_AVX512
