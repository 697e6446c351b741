#pragma once
// Bicubic resize from its definition, in double: one dense out x in matrix per axis (PyTorch's
// bicubic: Keys' kernel with a = -0.75 at the four taps around the source point, indices clamped;
// antialiased: PIL's a = -0.5 kernel stretched by the scale over the window around the centre,
// normalised), then y = M_h X M_w^T per plane and, for the adjoint, dx = M_h^T dY M_w. Shared by
// the kernel tests and the op tests. Header-only and engine-free.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace ge::testing {

// Keys' cubic convolution kernel at distance d.
inline double keys(double d, double a) {
  d = std::abs(d);
  if (d < 1) return (a + 2) * d * d * d - (a + 3) * d * d + 1;
  if (d < 2) return a * d * d * d - 5 * a * d * d + 8 * a * d - 4 * a;
  return 0;
}

// Row-major [out][in]: the weight with which output o reads input i along one axis.
inline std::vector<double> resize_matrix(int64_t in, int64_t out, bool align_corners,
                                         bool antialias) {
  std::vector<double> m(static_cast<size_t>(in * out), 0.0);
  const double scale = align_corners ? (out > 1 ? static_cast<double>(in - 1) / (out - 1) : 0.0)
                                     : static_cast<double>(in) / out;
  for (int64_t o = 0; o < out; ++o) {
    double* row = m.data() + o * in;
    if (!antialias) {
      const double src = align_corners ? scale * o : scale * (o + 0.5) - 0.5;
      const int64_t i0 = static_cast<int64_t>(std::floor(src));
      for (int64_t i = i0 - 1; i <= i0 + 2; ++i)
        row[std::clamp<int64_t>(i, 0, in - 1)] += keys(static_cast<double>(i) - src, -0.75);
      continue;
    }
    const double stretch = std::max(scale, 1.0), support = 2 * stretch;
    const double center = scale * (o + 0.5);
    const int64_t lo = std::max<int64_t>(static_cast<int64_t>(center - support + 0.5), 0);
    const int64_t hi = std::min<int64_t>(static_cast<int64_t>(center + support + 0.5), in);
    double total = 0;
    for (int64_t i = lo; i < hi; ++i)
      total += row[i] = keys((i + 0.5 - center) / stretch, -0.5);
    for (int64_t i = lo; i < hi; ++i)
      row[i] /= total;
  }
  return m;
}

struct ResizeRef {
  std::vector<double> y;   // [P, OH, OW] = R x
  std::vector<double> dx;  // [P, H, W] = R^T dy
};

inline ResizeRef resize_reference(const std::vector<float>& x, const std::vector<float>& dy,
                                  int64_t planes, int64_t h, int64_t w, int64_t oh, int64_t ow,
                                  bool align_corners, bool antialias) {
  const std::vector<double> mh = resize_matrix(h, oh, align_corners, antialias);
  const std::vector<double> mw = resize_matrix(w, ow, align_corners, antialias);
  ResizeRef r;
  r.y.assign(static_cast<size_t>(planes * oh * ow), 0.0);
  r.dx.assign(static_cast<size_t>(planes * h * w), 0.0);
  for (int64_t p = 0; p < planes; ++p)
    for (int64_t a = 0; a < oh; ++a)
      for (int64_t b = 0; b < ow; ++b)
        for (int64_t i = 0; i < h; ++i) {
          const double kh = mh[static_cast<size_t>(a * h + i)];
          if (kh == 0) continue;
          for (int64_t j = 0; j < w; ++j) {
            const double k = kh * mw[static_cast<size_t>(b * w + j)];
            const size_t in_at = static_cast<size_t>((p * h + i) * w + j);
            const size_t out_at = static_cast<size_t>((p * oh + a) * ow + b);
            if (!x.empty()) r.y[out_at] += k * x[in_at];
            if (!dy.empty()) r.dx[in_at] += k * dy[out_at];
          }
        }
  return r;
}

}  // namespace ge::testing
