#include "gan_layers.h"

#include "ganengine/bias_act.h"
#include "ganengine/error.h"
#include "ganengine/nn/activation.h"
#include "ganengine/nn/init.h"

namespace ge::models::detail {

std::shared_ptr<nn::Module> relu() {
  BiasActOptions o;
  o.act = Activation::Relu;
  o.gain = 1.f;
  return std::make_shared<nn::BiasAct>(0, o);
}

Tensor BatchNorm1d::forward(const Tensor& x) {
  check_rows("BatchNorm1d", x, num_features);
  return nn::BatchNorm2d::forward(x.view({x.size(0), x.size(1), 1, 1})).view({x.size(0), -1});
}

void dcgan_init(nn::WeightLayer& layer, Generator& generator) {
  nn::init::normal_(layer.weight, 0.f, 0.02f, &generator);
  if (layer.bias.defined()) nn::init::zeros_(layer.bias);
}

void dcgan_init(nn::BatchNorm2d& layer, Generator& generator) {
  nn::init::normal_(layer.weight, 1.f, 0.02f, &generator);
  nn::init::zeros_(layer.bias);
}

void check_images(const char* who, const Tensor& x, int64_t channels, int64_t resolution) {
  GE_CHECK(x.defined(), who, ": expected images [N, ", channels, ", ", resolution, ", ", resolution,
           "], got an undefined tensor");
  GE_CHECK(x.dim() == 4 && x.size(0) > 0 && x.size(1) == channels && x.size(2) == resolution &&
               x.size(3) == resolution,
           who, ": expected images [N, ", channels, ", ", resolution, ", ", resolution,
           "], got shape ", to_string(x.shape()));
}

void check_rows(const char* who, const Tensor& x, int64_t features) {
  GE_CHECK(x.defined(), who, ": expected an input [N, ", features, "], got an undefined tensor");
  GE_CHECK(x.dim() == 2 && x.size(0) > 0 && x.size(1) == features, who, ": expected an input [N, ",
           features, "], got shape ", to_string(x.shape()));
}

void check_labels(const char* who, const Tensor& labels, int64_t n, Device device) {
  GE_CHECK(labels.defined(), who, ": expected class labels [", n,
           "] (a conditional model needs them), got an undefined tensor");
  GE_CHECK(labels.dim() == 1 && labels.size(0) == n, who, ": expected class labels [", n,
           "], got shape ", to_string(labels.shape()));
  GE_CHECK(labels.device() == device, who, ": expected labels on ", device.str(), ", got ",
           labels.device().str());
}

Generator& step_generator(const char* who, const StepContext& ctx) {
  GE_CHECK(ctx.generator != nullptr, who,
           ": expected StepContext.generator to be set (the step's latents and noise are drawn "
           "from it)");
  return *ctx.generator;
}

Tensor shard_rows(const StepContext& ctx, int64_t n, const std::function<Tensor(int64_t)>& draw) {
  return distributed::shard_rows(ctx.shard, n, draw);
}

}  // namespace ge::models::detail
