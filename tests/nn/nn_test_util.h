#pragma once
// Helpers for the nn module tests: writing known values into a module's tensors and plain-loop
// references (in double, row-major) for the layers. Nothing here calls an engine op to compute
// an expectation.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "ganengine/autograd.h"
#include "ganengine/error.h"
#include "ganengine/ops.h"
#include "ganengine/tensor.h"
#include "support/devices.h"
#include "support/reference.h"

namespace ge::nntest {

using ge::testing::all_close;
using ge::testing::count;
using ge::testing::error_of;
using ge::testing::lcg_values;

// Overwrites a module tensor in place (parameters require grad, so without history).
inline void set_values(Tensor& t, const std::vector<float>& values) {
  NoGradGuard no_grad;
  t.copy_(from_vector(values, t.shape(), t.device()));
}

// Fills t with lcg values in [lo, hi) and returns them.
inline std::vector<float> fill_lcg(Tensor& t, uint32_t seed, float lo = -1.f, float hi = 1.f) {
  std::vector<float> v = lcg_values(t.numel(), seed, lo, hi);
  set_values(t, v);
  return v;
}

inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

inline double leaky(double x, double slope) {
  return x >= 0.0 ? x : x * slope;
}

// y[n, o] = sum_i x[n, i] * w[o, i] + b[o]
inline std::vector<double> linear_ref(const std::vector<float>& x, const std::vector<float>& w,
                                      const std::vector<float>& b, int64_t n, int64_t in,
                                      int64_t out, double weight_scale = 1.0,
                                      double bias_scale = 1.0) {
  std::vector<double> y(static_cast<size_t>(n * out), 0.0);
  for (int64_t r = 0; r < n; ++r)
    for (int64_t o = 0; o < out; ++o) {
      double acc = 0.0;
      for (int64_t i = 0; i < in; ++i)
        acc += static_cast<double>(x[r * in + i]) * w[o * in + i] * weight_scale;
      y[r * out + o] = acc + (b.empty() ? 0.0 : b[o] * bias_scale);
    }
  return y;
}

struct ConvGeometry {
  int64_t n, c, h, w;  // input
  int64_t o, k;        // output channels, kernel
  int64_t stride = 1, pad = 0, output_padding = 0, groups = 1;
};

// conv2d: x [n, c, h, w], w [o, c/g, k, k] -> [n, o, ho, wo]
inline std::vector<double> conv2d_ref(const std::vector<float>& x, const std::vector<float>& wt,
                                      const std::vector<float>& b, const ConvGeometry& g,
                                      int64_t& ho, int64_t& wo) {
  ho = (g.h + 2 * g.pad - g.k) / g.stride + 1;
  wo = (g.w + 2 * g.pad - g.k) / g.stride + 1;
  const int64_t cg = g.c / g.groups, og = g.o / g.groups;
  std::vector<double> y(static_cast<size_t>(g.n * g.o * ho * wo), 0.0);
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t o = 0; o < g.o; ++o)
      for (int64_t i = 0; i < ho; ++i)
        for (int64_t j = 0; j < wo; ++j) {
          double acc = b.empty() ? 0.0 : b[o];
          const int64_t grp = o / og;
          for (int64_t ci = 0; ci < cg; ++ci)
            for (int64_t ki = 0; ki < g.k; ++ki)
              for (int64_t kj = 0; kj < g.k; ++kj) {
                const int64_t yy = i * g.stride - g.pad + ki, xx = j * g.stride - g.pad + kj;
                if (yy < 0 || yy >= g.h || xx < 0 || xx >= g.w) continue;
                const int64_t c = grp * cg + ci;
                acc += static_cast<double>(x[((n * g.c + c) * g.h + yy) * g.w + xx]) *
                       wt[((o * cg + ci) * g.k + ki) * g.k + kj];
              }
          y[((n * g.o + o) * ho + i) * wo + j] = acc;
        }
  return y;
}

// conv_transpose2d as a scatter: x [n, c, h, w], w [c, o/g, k, k] -> [n, o, ho, wo]
inline std::vector<double> conv_transpose2d_ref(const std::vector<float>& x,
                                                const std::vector<float>& wt,
                                                const std::vector<float>& b, const ConvGeometry& g,
                                                int64_t& ho, int64_t& wo) {
  ho = (g.h - 1) * g.stride - 2 * g.pad + g.k + g.output_padding;
  wo = (g.w - 1) * g.stride - 2 * g.pad + g.k + g.output_padding;
  const int64_t cg = g.c / g.groups, og = g.o / g.groups;
  std::vector<double> y(static_cast<size_t>(g.n * g.o * ho * wo), 0.0);
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t o = 0; o < g.o; ++o)
      for (int64_t i = 0; i < ho; ++i)
        for (int64_t j = 0; j < wo; ++j)
          y[((n * g.o + o) * ho + i) * wo + j] = b.empty() ? 0.0 : b[o];
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t c = 0; c < g.c; ++c) {
      const int64_t grp = c / cg;
      for (int64_t yy = 0; yy < g.h; ++yy)
        for (int64_t xx = 0; xx < g.w; ++xx)
          for (int64_t oi = 0; oi < og; ++oi)
            for (int64_t ki = 0; ki < g.k; ++ki)
              for (int64_t kj = 0; kj < g.k; ++kj) {
                const int64_t i = yy * g.stride - g.pad + ki, j = xx * g.stride - g.pad + kj;
                if (i < 0 || i >= ho || j < 0 || j >= wo) continue;
                const int64_t o = grp * og + oi;
                y[((n * g.o + o) * ho + i) * wo + j] +=
                    static_cast<double>(x[((n * g.c + c) * g.h + yy) * g.w + xx]) *
                    wt[((c * og + oi) * g.k + ki) * g.k + kj];
              }
    }
  return y;
}

inline std::vector<float> to_float(const std::vector<double>& v) {
  return std::vector<float>(v.begin(), v.end());
}

// The names of a named_parameters() / named_buffers() list, in order.
template <class Named>
std::vector<std::string> names_of(const Named& named) {
  std::vector<std::string> out;
  for (const auto& e : named)
    out.push_back(e.first);
  return out;
}

}  // namespace ge::nntest
