// CPU regression losses: flat loops. A reduction sums fixed chunks of kChunk elements in double
// (spread over the threads) and then the chunks' sums in index order, so its bits depend on n
// alone, never on the thread count.
#include "common/regression_loss.h"

#include <algorithm>
#include <vector>

#include "cpu/parallel.h"
#include "ganengine/kernels/regression_loss.h"

namespace ge::kernels {

const char* name(RegressionLoss kind) {
  switch (kind) {
    case RegressionLoss::Squared:
      return "squared";
    case RegressionLoss::Absolute:
      return "absolute";
  }
  return "unknown_regression_loss";
}

namespace cpu {
namespace {

constexpr int64_t kChunk = int64_t{1} << 14;

float target_at(const RegressionLossArgs& a, int64_t i) {
  return a.target != nullptr ? a.target[i] : a.target_value;
}

template <RegressionLoss K>
void forward(LossReduction reduction, const RegressionLossArgs& a, float* out) {
  const bool parallel = a.n >= kParallelGrain;
  if (reduction == LossReduction::None) {
    parallel_for((a.n + kChunk - 1) / kChunk, parallel, [&](int64_t c) {
      const int64_t end = std::min(a.n, (c + 1) * kChunk);
      for (int64_t i = c * kChunk; i < end; ++i)
        out[i] = regression_loss_value<K>(a.x[i], target_at(a, i));
    });
    return;
  }
  std::vector<double> partial(static_cast<size_t>((a.n + kChunk - 1) / kChunk), 0.0);
  parallel_for(static_cast<int64_t>(partial.size()), parallel, [&](int64_t c) {
    const int64_t end = std::min(a.n, (c + 1) * kChunk);
    double acc = 0.0;
    for (int64_t i = c * kChunk; i < end; ++i)
      acc += regression_loss_value<K>(a.x[i], target_at(a, i));
    partial[static_cast<size_t>(c)] = acc;
  });
  double sum = 0.0;
  for (double p : partial)
    sum += p;
  out[0] = reduction == LossReduction::Mean ? static_cast<float>(sum / static_cast<double>(a.n))
                                            : static_cast<float>(sum);
}

template <RegressionLoss K>
void backward(LossReduction reduction, const RegressionLossArgs& a, const float* grad, float* dx) {
  const bool elementwise = reduction == LossReduction::None;
  const float g = elementwise                        ? 0.f
                  : reduction == LossReduction::Mean ? grad[0] / static_cast<float>(a.n)
                                                     : grad[0];
  parallel_for((a.n + kChunk - 1) / kChunk, a.n >= kParallelGrain, [&](int64_t c) {
    const int64_t end = std::min(a.n, (c + 1) * kChunk);
    for (int64_t i = c * kChunk; i < end; ++i)
      dx[i] = regression_loss_grad<K>(a.x[i], target_at(a, i), elementwise ? grad[i] : g);
  });
}

}  // namespace

void regression_loss(RegressionLoss kind, LossReduction reduction, const RegressionLossArgs& a,
                     float* out) {
  regression_loss_forward_check(kind, reduction, a, out);
  if (kind == RegressionLoss::Squared) {
    forward<RegressionLoss::Squared>(reduction, a, out);
  } else {
    forward<RegressionLoss::Absolute>(reduction, a, out);
  }
}

void regression_loss_backward(RegressionLoss kind, LossReduction reduction,
                              const RegressionLossArgs& a, const float* grad, float* dx) {
  regression_loss_backward_check(kind, reduction, a, grad, dx);
  if (a.n == 0) return;
  if (kind == RegressionLoss::Squared) {
    backward<RegressionLoss::Squared>(reduction, a, grad, dx);
  } else {
    backward<RegressionLoss::Absolute>(reduction, a, grad, dx);
  }
}

}  // namespace cpu
}  // namespace ge::kernels
