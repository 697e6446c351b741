#pragma once
// The batch_norm loops over one contiguous row of a channel, written once and compiled per
// instruction set: batch_norm.cpp includes them for the baseline, batch_norm_avx512.cpp under an
// AVX-512 target pragma. Sums run in kLanes double accumulators (lane u takes elements j with
// j % kLanes == u, then the lanes are added in order), the same order on every set, so the
// results are the same bits. Internal linkage: no copy compiled for one set can stand in for
// another's at link time.
#include <cstdint>

#include "common/batch_norm.h"

namespace ge::kernels::cpu {
namespace {

constexpr int64_t kLanes = 8;

// acc[u] += row[j] for j % kLanes == u.
[[maybe_unused]] void sum_row(const float* __restrict row, int64_t n, double* __restrict acc) {
  int64_t j = 0;
  for (; j + kLanes <= n; j += kLanes)
    for (int64_t u = 0; u < kLanes; ++u)
      acc[u] += row[j + u];
  for (; j < n; ++j)
    acc[j % kLanes] += row[j];
}

// acc[u] += (row[j] - mean)^2 for j % kLanes == u.
[[maybe_unused]] void sum_squares_row(const float* __restrict row, int64_t n, double mean,
                                      double* __restrict acc) {
  int64_t j = 0;
  for (; j + kLanes <= n; j += kLanes)
    for (int64_t u = 0; u < kLanes; ++u) {
      const double d = row[j + u] - mean;
      acc[u] += d * d;
    }
  for (; j < n; ++j) {
    const double d = row[j] - mean;
    acc[j % kLanes] += d * d;
  }
}

// sd[u] += dy[j], sdx[u] += dy[j] * (x[j] - mean) for j % kLanes == u.
[[maybe_unused]] void sum_dy_row(const float* __restrict dy, const float* __restrict x, int64_t n,
                                 double mean, double* __restrict sd, double* __restrict sdx) {
  int64_t j = 0;
  for (; j + kLanes <= n; j += kLanes)
    for (int64_t u = 0; u < kLanes; ++u) {
      sd[u] += dy[j + u];
      sdx[u] += static_cast<double>(dy[j + u]) * (x[j + u] - mean);
    }
  for (; j < n; ++j) {
    sd[j % kLanes] += dy[j];
    sdx[j % kLanes] += static_cast<double>(dy[j]) * (x[j] - mean);
  }
}

[[maybe_unused]] void apply_row(const float* __restrict x, float mean, float scale, float bias,
                                float* __restrict y, int64_t n) {
  int64_t j = 0;
  for (; j + 16 <= n; j += 16)
    for (int64_t u = 0; u < 16; ++u)
      y[j + u] = batch_norm_apply(x[j + u], mean, scale, bias);
  for (; j < n; ++j)
    y[j] = batch_norm_apply(x[j], mean, scale, bias);
}

[[maybe_unused]] void grad_input_row(const float* __restrict dy, const float* __restrict x,
                                     float mean, float invstd, float weight, float mean_dy,
                                     float mean_dy_xhat, float* __restrict dx, int64_t n) {
  int64_t j = 0;
  for (; j + 16 <= n; j += 16)
    for (int64_t u = 0; u < 16; ++u)
      dx[j + u] =
          batch_norm_grad_input(dy[j + u], x[j + u], mean, invstd, weight, mean_dy, mean_dy_xhat);
  for (; j < n; ++j)
    dx[j] = batch_norm_grad_input(dy[j], x[j], mean, invstd, weight, mean_dy, mean_dy_xhat);
}

}  // namespace

// One instruction set's loops.
struct BatchNormLoops {
  void (*sum)(const float*, int64_t, double*);
  void (*sum_squares)(const float*, int64_t, double, double*);
  void (*sum_dy)(const float*, const float*, int64_t, double, double*, double*);
  void (*apply)(const float*, float, float, float, float*, int64_t);
  void (*grad_input)(const float*, const float*, float, float, float, float, float, float*,
                     int64_t);
};

extern const BatchNormLoops kBatchNormAvx512;  // batch_norm_avx512.cpp

}  // namespace ge::kernels::cpu
