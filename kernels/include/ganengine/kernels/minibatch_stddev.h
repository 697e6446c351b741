#pragma once
// StyleGAN's minibatch standard deviation layer on a contiguous float32 [N, C, HW] tensor.
// The batch splits into G groups of M = N / G samples, sample n = g * M + m (so the members of
// slot m are the samples n with n % M == m), and the channels into F sets of C / F:
//   minibatch_stddev_stats   stats[m, f] = mean over the set's channels c and positions p of
//                                          sqrt(var_g(x[g * M + m, c, p]) + 1e-8)
//                            (var_g the biased variance over the G members)
//   minibatch_stddev_concat  out [N, C + F, HW] = x, then F constant channels
//                            out[n, C + f, p] = stats[n % M, f]
//   minibatch_stddev_backward_reduce  gstats[m, f] = sum over g, p of dout[g * M + m, C + f, p]
//   minibatch_stddev_backward_input   dx = dout[:, :C] + the stats' share:
//       dx[n, c, p] += gstats[m, f] / (C / F * HW) * (x[n, c, p] - mean_g) / (G * stddev)
// Sums have a fixed combine order: results are bitwise reproducible on a device. Every launcher
// is a no-op when the output [N, C + F, HW] is empty.
#include <cstdint>

#include "ganengine/kernels/types.h"

namespace ge::kernels {

inline constexpr float kMinibatchStdEps = 1e-8f;

// The size helpers are constexpr so that kernels can call them too (nvcc's relaxed constexpr).
struct MinibatchStdShape {
  int64_t n = 0;
  int64_t c = 0;
  int64_t hw = 0;
  int64_t group = 1;                                               // G; divides n
  int64_t channels = 1;                                            // F; divides c
  constexpr int64_t slots() const { return n / group; }            // M
  constexpr int64_t set_size() const { return c / channels; }      // C / F
  constexpr int64_t out_channels() const { return c + channels; }  // C + F
};

namespace cpu {
void minibatch_stddev_stats(const float* x, float* stats, const MinibatchStdShape& s);
void minibatch_stddev_concat(const float* x, const float* stats, float* out,
                             const MinibatchStdShape& s);
void minibatch_stddev_backward_reduce(const float* dout, float* gstats, const MinibatchStdShape& s);
void minibatch_stddev_backward_input(const float* dout, const float* x, const float* gstats,
                                     float* dx, const MinibatchStdShape& s);
}  // namespace cpu

namespace cuda {
GE_CUDA_LAUNCHER void minibatch_stddev_stats(const float* x, float* stats,
                                             const MinibatchStdShape& s, Stream stream);
GE_CUDA_LAUNCHER void minibatch_stddev_concat(const float* x, const float* stats, float* out,
                                              const MinibatchStdShape& s, Stream stream);
GE_CUDA_LAUNCHER void minibatch_stddev_backward_reduce(const float* dout, float* gstats,
                                                       const MinibatchStdShape& s, Stream stream);
GE_CUDA_LAUNCHER void minibatch_stddev_backward_input(const float* dout, const float* x,
                                                      const float* gstats, float* dx,
                                                      const MinibatchStdShape& s, Stream stream);
}  // namespace cuda

}  // namespace ge::kernels
