#include "ganengine/models/metrics/classifier_score.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "ganengine/error.h"

namespace ge::models::metrics {

ScoreStats classifier_score(const Tensor& probs, int64_t splits) {
  constexpr const char* op = "classifier_score";
  GE_CHECK(probs.defined(), op, ": expected probabilities [N, K], got an undefined tensor");
  GE_CHECK(probs.dim() == 2 && probs.size(1) >= 1, op,
           ": expected probabilities [N, K] with K >= 1, got shape ", to_string(probs.shape()));
  GE_CHECK(splits >= 1, op, ": expected splits >= 1, got ", splits);
  const int64_t n = probs.size(0), k = probs.size(1);
  GE_CHECK(n >= splits, op, ": expected at least as many rows as splits (", splits, "), got ", n);
  const std::vector<float> v = probs.detach().to_vector();

  // Rows renormalised in double, so float32 rounding of a softmax cannot push the score outside
  // [1, K].
  std::vector<double> p(v.size());
  for (int64_t i = 0; i < n; ++i) {
    double total = 0;
    for (int64_t j = 0; j < k; ++j) {
      const float x = v[static_cast<size_t>(i * k + j)];
      GE_CHECK(std::isfinite(x) && x >= 0.f, op, ": expected probabilities in [0, 1], got ", x,
               " at row ", i, ", class ", j);
      total += x;
    }
    GE_CHECK(std::abs(total - 1.0) <= 1e-3, op, ": expected each row to sum to 1, row ", i,
             " sums to ", total);
    for (int64_t j = 0; j < k; ++j)
      p[static_cast<size_t>(i * k + j)] = v[static_cast<size_t>(i * k + j)] / total;
  }

  const int64_t part = n / splits;
  std::vector<double> scores;
  std::vector<double> marginal(static_cast<size_t>(k));
  for (int64_t s = 0; s < splits; ++s) {
    const double* rows = p.data() + s * part * k;
    std::fill(marginal.begin(), marginal.end(), 0.0);
    for (int64_t i = 0; i < part; ++i)
      for (int64_t j = 0; j < k; ++j)
        marginal[static_cast<size_t>(j)] += rows[i * k + j];
    for (double& m : marginal)
      m /= static_cast<double>(part);
    double kl_sum = 0;
    for (int64_t i = 0; i < part; ++i)
      for (int64_t j = 0; j < k; ++j) {
        const double x = rows[i * k + j];
        // 0 log 0 = 0; x > 0 implies the marginal is > 0.
        if (x > 0) kl_sum += x * std::log(x / marginal[static_cast<size_t>(j)]);
      }
    scores.push_back(std::exp(kl_sum / static_cast<double>(part)));
  }

  ScoreStats stats;
  for (double s : scores)
    stats.mean += s;
  stats.mean /= static_cast<double>(splits);
  double var = 0;
  for (double s : scores)
    var += (s - stats.mean) * (s - stats.mean);
  stats.stddev = std::sqrt(var / static_cast<double>(splits));
  return stats;
}

}  // namespace ge::models::metrics
