// log_softmax, softmax and cross_entropy, composed of differentiable ops (max, exp, log, sum), so
// every order of derivative comes from theirs. The row maximum that keeps exp() in range is
// detached: log_softmax does not depend on the shift, and a constant shift keeps the backward
// free of max's tie handling.
#include <cstdint>
#include <string>
#include <vector>

#include "dispatch.h"
#include "ganengine/error.h"
#include "ganengine/loss.h"
#include "ganengine/ops.h"

namespace ge {

namespace {

// x minus its maximum along `dim` (kept), the maximum treated as a constant.
Tensor shifted(const Tensor& x, int64_t dim, const char* op) {
  detail::check_operand(x, op);
  GE_CHECK(x.dim() >= 1, op, ": expected a tensor with at least one dim, got a scalar");
  const int64_t d = wrap_dim(dim, x.dim(), op);
  GE_CHECK(x.size(d) >= 1, op, ": expected a non-empty dim ", dim, ", got shape ",
           to_string(x.shape()));
  return x - x.detach().max({d}, /*keepdim=*/true);
}

}  // namespace

Tensor log_softmax(const Tensor& x, int64_t dim) {
  const Tensor s = shifted(x, dim, "log_softmax");
  return s - log(sum(exp(s), {dim}, /*keepdim=*/true));
}

Tensor softmax(const Tensor& x, int64_t dim) {
  const Tensor e = exp(shifted(x, dim, "softmax"));
  return e / sum(e, {dim}, /*keepdim=*/true);
}

Tensor cross_entropy(const Tensor& logits, const std::vector<int64_t>& targets,
                     Reduction reduction) {
  const char* op = "cross_entropy";
  detail::check_operand(logits, op);
  GE_CHECK(logits.dim() == 2, op, ": expected logits [N, K], got shape ",
           to_string(logits.shape()));
  const int64_t n = logits.size(0), k = logits.size(1);
  GE_CHECK(n >= 1 && k >= 1, op, ": expected at least one sample and one class, got logits ",
           to_string(logits.shape()));
  GE_CHECK(static_cast<int64_t>(targets.size()) == n, op, ": expected ", n,
           " targets (one per row of the logits), got ", targets.size());
  GE_CHECK(
      reduction == Reduction::None || reduction == Reduction::Mean || reduction == Reduction::Sum,
      op, ": expected Reduction::None, Mean or Sum, got ", static_cast<int>(reduction));
  // Picking each row's target entry as a product with a one-hot mask keeps the op a plain
  // composition (no gather op needed), at O(N K), which is nothing beside the logits' producer.
  std::vector<float> mask(static_cast<size_t>(n * k), 0.f);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t t = targets[static_cast<size_t>(i)];
    GE_CHECK(t >= 0 && t < k, op, ": target ", t, " of sample ", i, " is out of range [0, ", k,
             ")");
    mask[static_cast<size_t>(i * k + t)] = 1.f;
  }
  const Tensor picked = from_vector(mask, {n, k}, logits.device());
  const Tensor losses = -sum(log_softmax(logits, 1) * picked, {1});
  switch (reduction) {
    case Reduction::None:
      return losses;
    case Reduction::Mean:
      return mean(losses);
    case Reduction::Sum:
      return sum(losses);
  }
  return losses;
}

}  // namespace ge
