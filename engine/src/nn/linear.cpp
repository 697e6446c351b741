#include "ganengine/nn/linear.h"

#include "ganengine/error.h"
#include "ganengine/ops.h"
#include "nn/fused_act.h"

namespace ge::nn {

namespace {

int64_t checked_features(int64_t in_features, int64_t out_features) {
  GE_CHECK(in_features > 0 && out_features > 0,
           "Linear: expected positive in_features and out_features, got ", in_features, " and ",
           out_features);
  return in_features;
}

}  // namespace

Linear::Linear(int64_t in_features, int64_t out_features, const LayerOptions& options,
               Generator* generator)
    : WeightLayer({out_features, in_features}, out_features,
                  checked_features(in_features, out_features), options, generator, 0),
      in_features(in_features),
      out_features(out_features) {}

Tensor Linear::forward(const Tensor& x) {
  GE_CHECK(x.defined(), "Linear: expected a defined input");
  GE_CHECK(x.dim() >= 1 && x.size(-1) == in_features, "Linear: expected an input [..., ",
           in_features, "], got shape ", to_string(x.shape()));
  const BiasActOptions& act = options().act;
  if (!detail::needs_bias_act(act)) return linear(x, effective_weight(), effective_bias());
  BiasActOptions fused = act;
  fused.dim = -1;
  return bias_act(linear(x, effective_weight()), effective_bias(), fused);
}

}  // namespace ge::nn
