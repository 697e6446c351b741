#include "ganengine/nn/activation.h"

#include "ganengine/error.h"
#include "ganengine/minibatch_stddev.h"
#include "ganengine/ops.h"
#include "ganengine/pixel_norm.h"
#include "ganengine/upsample.h"

namespace ge::nn {

BiasAct::BiasAct(int64_t channels, const BiasActOptions& options) : options(options) {
  GE_CHECK(channels >= 0, "BiasAct: expected channels >= 0, got ", channels);
  if (channels > 0) {
    bias = zeros({channels});
    register_parameter("bias", bias);
  }
}

Tensor BiasAct::forward(const Tensor& x) {
  return bias_act(x, bias, options);
}

Tensor LeakyReLU::forward(const Tensor& x) {
  return leaky_relu(x, negative_slope);
}

Tensor Tanh::forward(const Tensor& x) {
  return tanh(x);
}

Tensor MinibatchStdDev::forward(const Tensor& x) {
  return minibatch_stddev(x, group_size, num_channels);
}

Tensor PixelNorm::forward(const Tensor& x) {
  return pixel_norm(x, dim, eps);
}

Upsample::Upsample(int64_t scale, const std::string& mode) : scale(scale), mode(mode) {
  GE_CHECK(scale >= 1, "Upsample: expected scale >= 1, got ", scale);
  GE_CHECK(mode == "nearest" || mode == "bilinear",
           "Upsample: expected mode \"nearest\" or \"bilinear\", got \"", mode, "\"");
}

Tensor Upsample::forward(const Tensor& x) {
  if (mode == "nearest") return upsample_nearest2d(x, scale);
  return upsample_bilinear2d(x, scale, false);
}

Tensor Flatten::forward(const Tensor& x) {
  GE_CHECK(x.defined() && x.dim() >= 1, "Flatten: expected an input with at least 1 dim");
  return x.flatten(1);
}

}  // namespace ge::nn
