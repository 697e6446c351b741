// The batch_norm row loops (batch_norm_loops.h) compiled for AVX-512. The shared headers come
// first, compiled for the baseline; the loops after the target pragma.
#include "common/batch_norm.h"

#pragma GCC push_options
#pragma GCC target("avx512f,avx512dq,avx2,fma")
#include "cpu/batch_norm_loops.h"

namespace ge::kernels::cpu {

const BatchNormLoops kBatchNormAvx512{sum_row, sum_squares_row, sum_dy_row, apply_row,
                                      grad_input_row};

}  // namespace ge::kernels::cpu

#pragma GCC pop_options
