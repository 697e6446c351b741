#pragma once
// The convolution launchers' references, from the definition in double: every multiply of
// conv2d visited once (for_each_tap), which gives conv2d as a gather, conv_transpose2d as the
// scatter of the same products and the weight gradient as their sum over samples and pixels;
// bias_act's epilogue on top. Shared by the cpu launcher tests and the cpu/cuda ones.
#include <cstdint>
#include <string>
#include <vector>

#include "ganengine/kernels/conv.h"
#include "support/act_reference.h"
#include "support/tf32_reference.h"

namespace ge::kernels::testing {

// ConvShape from the conv2d input side; out_h/out_w follow from the conv2d formula.
inline ConvShape conv_shape(int64_t batch, int64_t in_c, int64_t in_h, int64_t in_w, int64_t out_c,
                            int64_t k, int64_t stride, int64_t pad, int64_t groups = 1) {
  return {.batch = batch,
          .in_c = in_c,
          .in_h = in_h,
          .in_w = in_w,
          .out_c = out_c,
          .out_h = (in_h + 2 * pad - k) / stride + 1,
          .out_w = (in_w + 2 * pad - k) / stride + 1,
          .kh = k,
          .kw = k,
          .stride_h = stride,
          .stride_w = stride,
          .pad_h = pad,
          .pad_w = pad,
          .groups = groups};
}

// [2, 2, 7, 5] with a 3x2 kernel, stride 2x1 and padding 1x0: every size differs between the
// axes.
inline ConvShape non_square_conv_shape() {
  ConvShape s = conv_shape(2, 2, 7, 5, 3, 3, 1, 0);
  s.kw = 2;
  s.stride_h = 2;
  s.pad_h = 1;
  s.out_h = (s.in_h + 2 * s.pad_h - s.kh) / s.stride_h + 1;
  s.out_w = (s.in_w + 2 * s.pad_w - s.kw) / s.stride_w + 1;
  return s;
}

inline std::string describe(const ConvShape& s) {
  return "batch " + std::to_string(s.batch) + " in " + std::to_string(s.in_c) + "x" +
         std::to_string(s.in_h) + "x" + std::to_string(s.in_w) + " out " + std::to_string(s.out_c) +
         "x" + std::to_string(s.out_h) + "x" + std::to_string(s.out_w) + " k " +
         std::to_string(s.kh) + "x" + std::to_string(s.kw) + " stride " +
         std::to_string(s.stride_h) + "x" + std::to_string(s.stride_w) + " pad " +
         std::to_string(s.pad_h) + "x" + std::to_string(s.pad_w) + " groups " +
         std::to_string(s.groups);
}

inline int64_t x_count(const ConvShape& s) {
  return s.batch * s.in_c * s.in_h * s.in_w;
}
inline int64_t y_count(const ConvShape& s) {
  return s.batch * s.out_c * s.out_h * s.out_w;
}
inline int64_t w_count(const ConvShape& s) {
  return s.out_c * s.in_c / s.groups * s.kh * s.kw;
}

// clamp(act(v + b) * gain, -clamp, clamp).
inline double epilogue_ref(double v, double b, const BiasActParams& p) {
  return ::ge::testing::epilogue_ref(p.act, v + b, p.alpha, p.gain, p.clamp);
}

// Calls f(x_index, y_index, w_index) for every multiply of the convolution, by definition.
template <typename F>
void for_each_tap(const ConvShape& s, F&& f) {
  const int64_t cin_g = s.in_c / s.groups, cout_g = s.out_c / s.groups;
  for (int64_t n = 0; n < s.batch; ++n)
    for (int64_t o = 0; o < s.out_c; ++o)
      for (int64_t oy = 0; oy < s.out_h; ++oy)
        for (int64_t ox = 0; ox < s.out_w; ++ox)
          for (int64_t c = 0; c < cin_g; ++c)
            for (int64_t ki = 0; ki < s.kh; ++ki)
              for (int64_t kj = 0; kj < s.kw; ++kj) {
                const int64_t iy = oy * s.stride_h - s.pad_h + ki;
                const int64_t ix = ox * s.stride_w - s.pad_w + kj;
                if (iy < 0 || iy >= s.in_h || ix < 0 || ix >= s.in_w) continue;
                const int64_t ci = o / cout_g * cin_g + c;
                f(((n * s.in_c + ci) * s.in_h + iy) * s.in_w + ix,
                  ((n * s.out_c + o) * s.out_h + oy) * s.out_w + ox,
                  ((o * cin_g + c) * s.kh + ki) * s.kw + kj);
              }
}

// conv2d (in = x, gathered into y) or conv_transpose2d (in = y, scattered into x), then the
// epilogue with a bias entry per output channel (none when bias is null).
inline std::vector<double> conv_ref(bool transposed, const ConvShape& s,
                                    const std::vector<float>& in, const std::vector<float>& w,
                                    const float* bias, const BiasActParams& p) {
  std::vector<double> out(static_cast<size_t>(transposed ? x_count(s) : y_count(s)), 0.0);
  for_each_tap(s, [&](int64_t xi, int64_t yi, int64_t wi) {
    out[static_cast<size_t>(transposed ? xi : yi)] +=
        static_cast<double>(in[static_cast<size_t>(transposed ? yi : xi)]) *
        w[static_cast<size_t>(wi)];
  });
  const int64_t channels = transposed ? s.in_c : s.out_c;
  const int64_t plane = transposed ? s.in_h * s.in_w : s.out_h * s.out_w;
  for (size_t i = 0; i < out.size(); ++i) {
    const int64_t c = static_cast<int64_t>(i) / plane % channels;
    out[i] = epilogue_ref(out[i], bias != nullptr ? bias[c] : 0.0, p);
  }
  return out;
}

inline std::vector<double> conv2d_ref(const ConvShape& s, const std::vector<float>& x,
                                      const std::vector<float>& w, const float* bias,
                                      const BiasActParams& p) {
  return conv_ref(false, s, x, w, bias, p);
}

inline std::vector<double> conv_transpose2d_ref(const ConvShape& s, const std::vector<float>& y,
                                                const std::vector<float>& w, const float* bias,
                                                const BiasActParams& p) {
  return conv_ref(true, s, y, w, bias, p);
}

inline std::vector<double> conv2d_weight_ref(const ConvShape& s, const std::vector<float>& x,
                                             const std::vector<float>& dy) {
  std::vector<double> dw(static_cast<size_t>(w_count(s)), 0.0);
  for_each_tap(s, [&](int64_t xi, int64_t yi, int64_t wi) {
    dw[static_cast<size_t>(wi)] +=
        static_cast<double>(x[static_cast<size_t>(xi)]) * dy[static_cast<size_t>(yi)];
  });
  return dw;
}

}  // namespace ge::kernels::testing
