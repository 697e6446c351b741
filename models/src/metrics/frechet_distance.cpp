#include "ganengine/models/metrics/frechet_distance.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <vector>

#include "ganengine/error.h"

namespace ge::models::metrics {
namespace {

// Off-diagonal Frobenius norm relative to the whole matrix's at which Jacobi stops; eigenvalue
// errors then sit near the square of it, far below what the metric reports.
constexpr double kTolerance = 1e-12;
constexpr int kMaxSweeps = 100;

void check_gaussian(const Gaussian& g, const char* which) {
  GE_CHECK(g.dim >= 1, "frechet_distance: expected Gaussian ", which, " of dimension >= 1, got ",
           g.dim);
  GE_CHECK(static_cast<int64_t>(g.mean.size()) == g.dim &&
               static_cast<int64_t>(g.cov.size()) == g.dim * g.dim,
           "frechet_distance: Gaussian ", which, " of dimension ", g.dim, " holds ", g.mean.size(),
           " mean and ", g.cov.size(), " covariance entries, expected ", g.dim, " and ",
           g.dim * g.dim);
}

// c = a b for row-major [n, n] matrices.
std::vector<double> matmul(const std::vector<double>& a, const std::vector<double>& b, int64_t n) {
  std::vector<double> c(static_cast<size_t>(n * n), 0.0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t k = 0; k < n; ++k) {
      const double aik = a[static_cast<size_t>(i * n + k)];
      const double* brow = b.data() + k * n;
      double* crow = c.data() + i * n;
      for (int64_t j = 0; j < n; ++j)
        crow[j] += aik * brow[j];
    }
  return c;
}

// The symmetric positive semi-definite square root V diag(sqrt(max(l, 0))) V^T.
std::vector<double> sqrt_psd(const std::vector<double>& a, int64_t n) {
  std::vector<double> values, vectors;
  symmetric_eigen(a, n, values, vectors);
  std::vector<double> out(static_cast<size_t>(n * n), 0.0);
  for (int64_t e = 0; e < n; ++e) {
    const double r = std::sqrt(std::max(values[static_cast<size_t>(e)], 0.0));
    if (r == 0) continue;
    for (int64_t i = 0; i < n; ++i) {
      const double vi = vectors[static_cast<size_t>(i * n + e)] * r;
      for (int64_t j = 0; j < n; ++j)
        out[static_cast<size_t>(i * n + j)] += vi * vectors[static_cast<size_t>(j * n + e)];
    }
  }
  return out;
}

}  // namespace

Gaussian fit_gaussian(const Tensor& features) {
  constexpr const char* op = "fit_gaussian";
  GE_CHECK(features.defined(), op, ": expected features [N, F], got an undefined tensor");
  GE_CHECK(features.dim() == 2 && features.size(0) >= 2 && features.size(1) >= 1, op,
           ": expected features [N, F] with N >= 2 and F >= 1, got shape ",
           to_string(features.shape()));
  const int64_t n = features.size(0), f = features.size(1);
  const std::vector<float> v = features.detach().to_vector();
  Gaussian g;
  g.dim = f;
  g.mean.assign(static_cast<size_t>(f), 0.0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < f; ++j) {
      const float x = v[static_cast<size_t>(i * f + j)];
      GE_CHECK(std::isfinite(x), op, ": expected finite features, got ", x, " at row ", i,
               ", column ", j);
      g.mean[static_cast<size_t>(j)] += x;
    }
  for (double& m : g.mean)
    m /= static_cast<double>(n);
  // Two passes (centre, then accumulate) keep the covariance accurate when the mean is large.
  g.cov.assign(static_cast<size_t>(f * f), 0.0);
  std::vector<double> c(static_cast<size_t>(f));
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < f; ++j)
      c[static_cast<size_t>(j)] =
          v[static_cast<size_t>(i * f + j)] - g.mean[static_cast<size_t>(j)];
    for (int64_t a = 0; a < f; ++a) {
      const double ca = c[static_cast<size_t>(a)];
      double* row = g.cov.data() + a * f;
      for (int64_t b = a; b < f; ++b)
        row[b] += ca * c[static_cast<size_t>(b)];
    }
  }
  for (int64_t a = 0; a < f; ++a)
    for (int64_t b = a; b < f; ++b) {
      const double x = g.cov[static_cast<size_t>(a * f + b)] / static_cast<double>(n - 1);
      g.cov[static_cast<size_t>(a * f + b)] = x;
      g.cov[static_cast<size_t>(b * f + a)] = x;
    }
  return g;
}

void symmetric_eigen(const std::vector<double>& a, int64_t n, std::vector<double>& values,
                     std::vector<double>& vectors) {
  constexpr const char* op = "symmetric_eigen";
  GE_CHECK(n >= 0 && static_cast<int64_t>(a.size()) == n * n, op, ": expected ", n, "x", n, " = ",
           n * n, " entries, got ", a.size());
  const auto at = [n](int64_t i, int64_t j) { return static_cast<size_t>(i * n + j); };
  // The symmetric part: rounding in how the caller built `a` must not make the result depend on
  // which triangle is read.
  std::vector<double> m(a.size());
  double norm2 = 0;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      GE_CHECK(std::isfinite(a[at(i, j)]), op, ": expected finite entries, got ", a[at(i, j)],
               " at (", i, ", ", j, ")");
      m[at(i, j)] = 0.5 * (a[at(i, j)] + a[at(j, i)]);
      norm2 += m[at(i, j)] * m[at(i, j)];
    }
  // Rows of `vt` are the eigenvectors, so each rotation touches two contiguous rows.
  std::vector<double> vt(a.size(), 0.0);
  for (int64_t i = 0; i < n; ++i)
    vt[at(i, i)] = 1.0;

  for (int sweep = 0;; ++sweep) {
    double off2 = 0;
    for (int64_t p = 0; p < n; ++p)
      for (int64_t q = p + 1; q < n; ++q)
        off2 += 2 * m[at(p, q)] * m[at(p, q)];
    if (off2 <= kTolerance * kTolerance * norm2) break;
    GE_CHECK(sweep < kMaxSweeps, op, ": no convergence after ", kMaxSweeps,
             " Jacobi sweeps (relative off-diagonal norm ", std::sqrt(off2 / norm2), ")");
    for (int64_t p = 0; p < n; ++p)
      for (int64_t q = p + 1; q < n; ++q) {
        const double apq = m[at(p, q)];
        if (apq == 0) continue;
        const double app = m[at(p, p)], aqq = m[at(q, q)];
        // The rotation angle that zeroes (p, q), taking the smaller root for stability.
        const double theta = (aqq - app) / (2 * apq);
        const double t =
            std::abs(theta) > 1e150
                ? 0.5 / theta
                : std::copysign(1.0, theta) / (std::abs(theta) + std::sqrt(theta * theta + 1));
        const double c = 1 / std::sqrt(t * t + 1), s = t * c;
        double* rp = m.data() + p * n;
        double* rq = m.data() + q * n;
        for (int64_t k = 0; k < n; ++k) {
          if (k == p || k == q) continue;
          const double x = rp[k], y = rq[k];
          rp[k] = c * x - s * y;
          rq[k] = s * x + c * y;
          m[at(k, p)] = rp[k];
          m[at(k, q)] = rq[k];
        }
        rp[p] = app - t * apq;
        rq[q] = aqq + t * apq;
        rp[q] = rq[p] = 0.0;
        double* vp = vt.data() + p * n;
        double* vq = vt.data() + q * n;
        for (int64_t k = 0; k < n; ++k) {
          const double x = vp[k], y = vq[k];
          vp[k] = c * x - s * y;
          vq[k] = s * x + c * y;
        }
      }
  }

  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), int64_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t i, int64_t j) { return m[at(i, i)] < m[at(j, j)]; });
  values.assign(static_cast<size_t>(n), 0.0);
  vectors.assign(a.size(), 0.0);
  for (int64_t e = 0; e < n; ++e) {
    const int64_t src = order[static_cast<size_t>(e)];
    values[static_cast<size_t>(e)] = m[at(src, src)];
    for (int64_t k = 0; k < n; ++k)
      vectors[at(k, e)] = vt[at(src, k)];
  }
}

double frechet_distance(const Gaussian& a, const Gaussian& b) {
  check_gaussian(a, "a");
  check_gaussian(b, "b");
  GE_CHECK(a.dim == b.dim, "frechet_distance: expected Gaussians of the same dimension, got ",
           a.dim, " and ", b.dim);
  const int64_t n = a.dim;
  double mean_term = 0, trace = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double d = a.mean[static_cast<size_t>(i)] - b.mean[static_cast<size_t>(i)];
    mean_term += d * d;
    trace += a.cov[static_cast<size_t>(i * n + i)] + b.cov[static_cast<size_t>(i * n + i)];
  }
  GE_CHECK(std::isfinite(mean_term), "frechet_distance: expected finite means");
  // tr((S_a S_b)^1/2) = tr((R S_b R)^1/2) with R = S_a^1/2: the latter is symmetric, so its
  // eigenvalues are real and a symmetric solver applies.
  const std::vector<double> r = sqrt_psd(a.cov, n);
  std::vector<double> inner = matmul(matmul(r, b.cov, n), r, n);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = i + 1; j < n; ++j) {
      const double s =
          0.5 * (inner[static_cast<size_t>(i * n + j)] + inner[static_cast<size_t>(j * n + i)]);
      inner[static_cast<size_t>(i * n + j)] = inner[static_cast<size_t>(j * n + i)] = s;
    }
  std::vector<double> values, vectors;
  symmetric_eigen(inner, n, values, vectors);
  double root_trace = 0;
  for (double l : values)
    root_trace += std::sqrt(std::max(l, 0.0));
  return std::max(mean_term + trace - 2 * root_trace, 0.0);
}

double frechet_distance(const Tensor& features_a, const Tensor& features_b) {
  GE_CHECK(features_a.defined() && features_b.defined() && features_a.dim() == 2 &&
               features_b.dim() == 2 && features_a.size(1) == features_b.size(1),
           "frechet_distance: expected features [N, F] and [M, F] with the same F, got ",
           features_a.defined() ? to_string(features_a.shape()) : "undefined", " and ",
           features_b.defined() ? to_string(features_b.shape()) : "undefined");
  return frechet_distance(fit_gaussian(features_a), fit_gaussian(features_b));
}

}  // namespace ge::models::metrics
