// minibatch_discrimination: a matmul, the fused pairwise L1 distances (pairwise_l1: no
// [N, N, B, C] intermediate), exp and a sum, all differentiable ops, so gradients of every order
// come from theirs.
#include "ganengine/minibatch_discrimination.h"

#include "ganengine/error.h"
#include "ganengine/ops.h"
#include "ganengine/pairwise_l1.h"

namespace ge {

Tensor minibatch_discrimination(const Tensor& x, const Tensor& T) {
  GE_CHECK(x.defined() && T.defined(), "minibatch_discrimination: expected defined tensors");
  GE_CHECK(x.dim() == 2 && x.size(0) >= 1, "minibatch_discrimination: expected features [N, A] ",
           "with N >= 1, got shape ", to_string(x.shape()));
  GE_CHECK(T.dim() == 3 && T.size(0) == x.size(1) && T.size(1) >= 1 && T.size(2) >= 1,
           "minibatch_discrimination: expected T [A, B, C] with A = ", x.size(1),
           " (the features' width), got shape ", to_string(T.shape()));
  GE_CHECK(x.device() == T.device(), "minibatch_discrimination: expected x and T on one device, ",
           "got ", x.device().str(), " and ", T.device().str());
  const int64_t n = x.size(0), a = x.size(1), b = T.size(1), c = T.size(2);
  const Tensor m = matmul(x, T.reshape({a, b * c})).reshape({n, b, c});  // [N, B, C]
  const Tensor l1 = pairwise_l1(m);                                      // [N, N, B]
  // The diagonal's terms are exp(0) = 1 exactly, with zero gradient: subtracting 1 leaves the
  // sample itself out.
  return sum(exp(neg(l1)), {1}) - 1.f;  // [N, B]
}

}  // namespace ge
