#pragma once
// Building blocks the architectures share: layers torch.nn has and the engine spells
// differently, the DCGAN initialisation and input checks.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "ganengine/models/model.h"
#include "ganengine/nn/batch_norm.h"
#include "ganengine/nn/module.h"
#include "ganengine/nn/weight_layer.h"
#include "ganengine/random.h"
#include "ganengine/tensor.h"

namespace ge::models::detail {

// torch.nn.ReLU: bias_act without a bias and with gain 1, so no tensors of its own and the
// neighbours keep PyTorch's Sequential indices.
std::shared_ptr<nn::Module> relu();

// torch.nn.BatchNorm1d on [N, C]: BatchNorm2d over [N, C, 1, 1], the same state dict keys.
class BatchNorm1d : public nn::BatchNorm2d {
 public:
  explicit BatchNorm1d(int64_t num_features) : nn::BatchNorm2d(num_features) {}
  std::string name() const override { return "BatchNorm1d"; }
  Tensor forward(const Tensor& x) override;
};

// The DCGAN paper's initialisation (PyTorch DCGAN example's weights_init): weights N(0, 0.02),
// biases 0; batch norm weight N(1, 0.02), bias 0.
void dcgan_init(nn::WeightLayer& layer, Generator& generator);
void dcgan_init(nn::BatchNorm2d& layer, Generator& generator);

// Throws unless x is [N, channels, resolution, resolution] with N > 0.
void check_images(const char* who, const Tensor& x, int64_t channels, int64_t resolution);
// Throws unless x is [N, features] with N > 0.
void check_rows(const char* who, const Tensor& x, int64_t features);
// The step's random stream (latents, noise, interpolation); throws ge::Error naming `who` when
// the context has none.
Generator& step_generator(const char* who, const StepContext& ctx);
// distributed::shard_rows for ctx's shard: a batch-shaped random draw in a data-parallel step
// (see StepContext::shard).
Tensor shard_rows(const StepContext& ctx, int64_t n, const std::function<Tensor(int64_t)>& draw);
// Throws unless labels is [n] on `device` (values are checked by the embedding's one-hot).
void check_labels(const char* who, const Tensor& labels, int64_t n, Device device);

}  // namespace ge::models::detail
