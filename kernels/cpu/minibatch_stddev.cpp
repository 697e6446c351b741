// CPU minibatch_stddev: column statistics in the order of memory (for each slot and channel, a
// run of HW positions), the copy and the appended channels as row copies and fills.
#include "common/minibatch_stddev.h"

#include <algorithm>
#include <cstring>

#include "ganengine/kernels/minibatch_stddev.h"

namespace ge::kernels::cpu {

void minibatch_stddev_stats(const float* x, float* stats, const MinibatchStdShape& s) {
  minibatch_stddev_check("minibatch_stddev_stats", s, {x, stats});
  const int64_t slots = s.slots(), set = s.set_size(), stride = slots * s.c * s.hw;
  if (s.n * s.out_channels() * s.hw == 0) return;
  for (int64_t m = 0; m < slots; ++m)
    for (int64_t f = 0; f < s.channels; ++f) {
      double total = 0.0;
      for (int64_t c = f * set; c < (f + 1) * set; ++c)
        for (int64_t p = 0; p < s.hw; ++p)
          total += minibatch_column(x + minibatch_at(s, m, c, p), stride, s.group).stddev;
      stats[m * s.channels + f] = static_cast<float>(total / static_cast<double>(set * s.hw));
    }
}

void minibatch_stddev_concat(const float* x, const float* stats, float* out,
                             const MinibatchStdShape& s) {
  minibatch_stddev_check("minibatch_stddev_concat", s, {x, stats, out});
  if (s.n * s.out_channels() * s.hw == 0) return;
  const int64_t in_row = s.c * s.hw, out_row = s.out_channels() * s.hw;
  for (int64_t n = 0; n < s.n; ++n) {
    std::memcpy(out + n * out_row, x + n * in_row, static_cast<size_t>(in_row) * sizeof(float));
    for (int64_t f = 0; f < s.channels; ++f) {
      float* plane = out + n * out_row + (s.c + f) * s.hw;
      std::fill(plane, plane + s.hw, stats[(n % s.slots()) * s.channels + f]);
    }
  }
}

void minibatch_stddev_backward_reduce(const float* dout, float* gstats,
                                      const MinibatchStdShape& s) {
  minibatch_stddev_check("minibatch_stddev_backward_reduce", s, {dout, gstats});
  const int64_t slots = s.slots(), out_row = s.out_channels() * s.hw;
  if (s.n * s.out_channels() * s.hw == 0) return;
  for (int64_t m = 0; m < slots; ++m)
    for (int64_t f = 0; f < s.channels; ++f) {
      double total = 0.0;
      for (int64_t g = 0; g < s.group; ++g) {
        const float* plane = dout + (g * slots + m) * out_row + (s.c + f) * s.hw;
        for (int64_t p = 0; p < s.hw; ++p)
          total += plane[p];
      }
      gstats[m * s.channels + f] = static_cast<float>(total);
    }
}

void minibatch_stddev_backward_input(const float* dout, const float* x, const float* gstats,
                                     float* dx, const MinibatchStdShape& s) {
  minibatch_stddev_check("minibatch_stddev_backward_input", s, {dout, x, gstats, dx});
  if (s.n * s.c * s.hw == 0) return;
  const int64_t slots = s.slots(), set = s.set_size(), stride = slots * s.c * s.hw;
  const int64_t out_row = s.out_channels() * s.hw;
  const float scale = 1.f / static_cast<float>(set * s.hw * s.group);
  for (int64_t m = 0; m < slots; ++m)
    for (int64_t c = 0; c < s.c; ++c) {
      const float k = gstats[m * s.channels + c / set] * scale;
      for (int64_t p = 0; p < s.hw; ++p) {
        const int64_t at = minibatch_at(s, m, c, p);
        const ColumnStats col = minibatch_column(x + at, stride, s.group);
        for (int64_t g = 0; g < s.group; ++g) {
          const int64_t n = g * slots + m;
          dx[at + g * stride] =
              dout[n * out_row + c * s.hw + p] + k * (x[at + g * stride] - col.mean) / col.stddev;
        }
      }
    }
}

}  // namespace ge::kernels::cpu
