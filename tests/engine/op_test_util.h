#pragma once
// Shared helpers for the op tests: independent host references (plain loops in double over
// row-major data), tensor construction from lcg_values, and assertion wrappers around gradcheck
// and thrown errors. Nothing here calls an engine op to compute an expectation. The op tests
// live in ge::optest, so these names need no using-declarations there.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ganengine/autograd.h"
#include "ganengine/error.h"
#include "ganengine/gradcheck.h"
#include "ganengine/ops.h"
#include "ganengine/random.h"
#include "ganengine/shape.h"
#include "ganengine/tensor.h"
#include "support/devices.h"
#include "support/reference.h"

namespace ge::optest {

using ge::testing::all_close;
using ge::testing::broadcast_offset;
using ge::testing::count;
using ge::testing::error_of;
using ge::testing::lcg_values;

inline Shape row_major_strides(const Shape& shape) {
  Shape strides(shape.size(), 1);
  for (int64_t d = static_cast<int64_t>(shape.size()) - 2; d >= 0; --d)
    strides[d] = strides[d + 1] * shape[d + 1];
  return strides;
}

// Row-major flat index -> multi-index of `shape`.
inline std::vector<int64_t> unravel(int64_t flat, const Shape& shape) {
  std::vector<int64_t> idx(shape.size(), 0);
  for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) {
    idx[d] = flat % shape[d];
    flat /= shape[d];
  }
  return idx;
}

// The row-major contents of a strided view over `base` (the view's expected values).
inline std::vector<float> gather_strided(const std::vector<float>& base, const Shape& shape,
                                         const Shape& strides, int64_t offset) {
  std::vector<float> out(static_cast<size_t>(count(shape)));
  for (int64_t i = 0; i < count(shape); ++i) {
    const std::vector<int64_t> idx = unravel(i, shape);
    int64_t at = offset;
    for (size_t d = 0; d < idx.size(); ++d)
      at += idx[d] * strides[d];
    out[static_cast<size_t>(i)] = base[static_cast<size_t>(at)];
  }
  return out;
}

// Expected contents of permute(x, dims) for a row-major x of `shape`.
inline std::vector<float> permuted(const std::vector<float>& base, const Shape& shape,
                                   const std::vector<int64_t>& dims) {
  const Shape in_strides = row_major_strides(shape);
  Shape out_shape, out_strides;
  for (int64_t d : dims) {
    out_shape.push_back(shape[static_cast<size_t>(d)]);
    out_strides.push_back(in_strides[static_cast<size_t>(d)]);
  }
  return gather_strided(base, out_shape, out_strides, 0);
}

// NumPy broadcasting, written out independently of ge::broadcast_shapes.
inline Shape broadcast_shape(const Shape& a, const Shape& b) {
  const size_t n = std::max(a.size(), b.size());
  Shape out(n, 1);
  for (size_t i = 0; i < n; ++i) {
    const int64_t da = i < a.size() ? a[a.size() - 1 - i] : 1;
    const int64_t db = i < b.size() ? b[b.size() - 1 - i] : 1;
    out[n - 1 - i] = da == 1 ? db : da;
  }
  return out;
}

inline std::vector<float> map_unary(const std::vector<float>& x,
                                    const std::function<double(double)>& f) {
  std::vector<float> out(x.size());
  for (size_t i = 0; i < x.size(); ++i)
    out[i] = static_cast<float>(f(x[i]));
  return out;
}

inline std::vector<float> map_binary(const std::vector<float>& a, const Shape& as,
                                     const std::vector<float>& b, const Shape& bs,
                                     const std::function<double(double, double)>& f) {
  const Shape os = broadcast_shape(as, bs);
  std::vector<float> out(static_cast<size_t>(count(os)));
  for (int64_t i = 0; i < count(os); ++i) {
    const double va = a[static_cast<size_t>(broadcast_offset(as, os, i))];
    const double vb = b[static_cast<size_t>(broadcast_offset(bs, os, i))];
    out[static_cast<size_t>(i)] = static_cast<float>(f(va, vb));
  }
  return out;
}

enum class Reduce { Sum, Mean, Max };

struct Reduced {
  std::vector<float> values;
  Shape shape;
};

// Reduces `dims` (already non-negative; empty = all) of a row-major tensor.
inline Reduced reduce_ref(const std::vector<float>& x, const Shape& shape,
                          std::vector<int64_t> dims, bool keepdim, Reduce kind) {
  if (dims.empty())
    for (size_t d = 0; d < shape.size(); ++d)
      dims.push_back(static_cast<int64_t>(d));
  std::vector<bool> reduced(shape.size(), false);
  for (int64_t d : dims)
    reduced[static_cast<size_t>(d)] = true;
  Shape kept_shape;  // keepdim layout, used for indexing
  Reduced r;
  for (size_t d = 0; d < shape.size(); ++d) {
    kept_shape.push_back(reduced[d] ? 1 : shape[d]);
    if (!reduced[d] || keepdim) r.shape.push_back(reduced[d] ? 1 : shape[d]);
  }
  const int64_t nout = count(kept_shape);
  std::vector<double> acc(static_cast<size_t>(nout), kind == Reduce::Max ? -INFINITY : 0.0);
  const int64_t group = count(shape) / nout;
  const Shape out_strides = row_major_strides(kept_shape);
  for (int64_t i = 0; i < count(shape); ++i) {
    const std::vector<int64_t> idx = unravel(i, shape);
    int64_t o = 0;
    for (size_t d = 0; d < idx.size(); ++d)
      if (!reduced[d]) o += idx[d] * out_strides[d];
    double& a = acc[static_cast<size_t>(o)];
    const double v = x[static_cast<size_t>(i)];
    a = kind == Reduce::Max ? std::max(a, v) : a + v;
  }
  for (double a : acc)
    r.values.push_back(static_cast<float>(kind == Reduce::Mean ? a / group : a));
  return r;
}

// a [..., m, k] @ b [..., k, n] with broadcast batch dims, accumulated in double.
inline std::vector<float> matmul_ref(const std::vector<float>& a, const Shape& as,
                                     const std::vector<float>& b, const Shape& bs,
                                     Shape* out_shape = nullptr) {
  const int64_t m = as[as.size() - 2], k = as.back(), n = bs.back();
  const Shape abatch(as.begin(), as.end() - 2), bbatch(bs.begin(), bs.end() - 2);
  const Shape batch = broadcast_shape(abatch, bbatch);
  Shape os = batch;
  os.push_back(m);
  os.push_back(n);
  if (out_shape) *out_shape = os;
  std::vector<float> out(static_cast<size_t>(count(os)));
  for (int64_t bi = 0; bi < count(batch); ++bi) {
    const int64_t ao = broadcast_offset(abatch, batch, bi) * m * k;
    const int64_t bo = broadcast_offset(bbatch, batch, bi) * k * n;
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double s = 0;
        for (int64_t p = 0; p < k; ++p)
          s += static_cast<double>(a[static_cast<size_t>(ao + i * k + p)]) *
               b[static_cast<size_t>(bo + p * n + j)];
        out[static_cast<size_t>((bi * m + i) * n + j)] = static_cast<float>(s);
      }
  }
  return out;
}

// lcg values pushed at least `margin` away from 0, keeping their signs: for ops with a kink or
// singularity at 0 (abs, relu, sign) where a finite difference across 0 is meaningless.
inline std::vector<float> away_from_zero(int64_t n, uint32_t seed, float margin = 0.1f,
                                         float hi = 1.f) {
  std::vector<float> v = lcg_values(n, seed, -hi, hi);
  for (float& x : v)
    x = x < 0 ? x - margin : x + margin;
  return v;
}

// Distinct values spaced `gap` apart in a scrambled order: no ties and no near-ties, so max is
// differentiable and a perturbation of size eps < gap/2 cannot change the argmax.
inline std::vector<float> distinct_values(int64_t n, float gap = 0.1f, int64_t mult = 7) {
  std::vector<float> v(static_cast<size_t>(n));
  // mult must be coprime with n for a permutation; fall back to the identity order otherwise.
  int64_t a = mult, b = n;
  while (b != 0) {
    const int64_t t = a % b;
    a = b;
    b = t;
  }
  const int64_t step = a == 1 ? mult : 1;
  for (int64_t i = 0; i < n; ++i)
    v[static_cast<size_t>(i)] = static_cast<float>((i * step) % n) * gap - 0.5f * gap * n;
  return v;
}

inline Tensor make(const std::vector<float>& values, const Shape& shape, Device device,
                   bool requires_grad = false) {
  return ge::from_vector(values, shape, TensorOptions(device).requires_grad(requires_grad));
}

// Float32 finite differences: a central difference with eps = 1e-3 on values of size ~1 has
// round-off error ~ 2^-24 * |f| / eps ~ 1e-4 and truncation error ~ eps^2 * f''' ~ 1e-6, so
// 1e-2 absolute/relative leaves a wide margin while still catching wrong formulas (which are
// off by O(1)).
inline GradcheckOptions fd_options(double eps = 1e-3) {
  GradcheckOptions o;
  o.eps = eps;
  o.atol = 1e-2;
  o.rtol = 1e-2;
  o.raise = true;
  return o;
}

// gradcheck wrapped so that a thrown mismatch report becomes a readable test failure.
inline ::testing::AssertionResult grad_ok(const DifferentiableFn& fn,
                                          const std::vector<Tensor>& inputs,
                                          const GradcheckOptions& options = fd_options()) {
  try {
    if (ge::gradcheck(fn, inputs, options)) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "gradcheck returned false";
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure() << "gradcheck threw: " << e.what();
  }
}

inline ::testing::AssertionResult gradgrad_ok(const DifferentiableFn& fn,
                                              const std::vector<Tensor>& inputs,
                                              const GradcheckOptions& options = fd_options()) {
  try {
    if (ge::gradgradcheck(fn, inputs, Tensor(), options)) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "gradgradcheck returned false";
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure() << "gradgradcheck threw: " << e.what();
  }
}

// Sets (or unsets) an environment variable for a scope.
class EnvScope {
 public:
  EnvScope(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) saved_ = old;
    if (value != nullptr) {
      setenv(name, value, 1);
    } else {
      unsetenv(name);
    }
  }
  ~EnvScope() {
    if (saved_) {
      setenv(name_, saved_->c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }
  EnvScope(const EnvScope&) = delete;
  EnvScope& operator=(const EnvScope&) = delete;

 private:
  const char* name_;
  std::optional<std::string> saved_;
};

inline bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// A ge::Error thrown by call() whose message holds every one of `keys`.
inline ::testing::AssertionResult throws_with(const std::function<void()>& call,
                                              const std::vector<std::string>& keys) {
  try {
    call();
  } catch (const ge::Error& e) {
    for (const std::string& k : keys)
      if (!contains(e.what(), k))
        return ::testing::AssertionFailure() << "message lacks \"" << k << "\": " << e.what();
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "no ge::Error thrown";
}

inline Device other_device(Device d) {
  return d.is_cuda() ? kCPU : kCUDA;
}

}  // namespace ge::optest
