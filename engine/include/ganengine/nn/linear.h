#pragma once
#include "ganengine/nn/weight_layer.h"

namespace ge::nn {

// y = bias_act(x @ W^T, b, act); x [N, in] -> [N, out]. weight [out, in], bias [out].
class Linear : public WeightLayer {
 public:
  Linear(int64_t in_features, int64_t out_features, const LayerOptions& options = {},
         Generator* generator = nullptr);
  std::string name() const override { return "Linear"; }
  Tensor forward(const Tensor& x) override;
  const int64_t in_features, out_features;
};

}  // namespace ge::nn
