#include "ganengine/nn/conv.h"

#include "ganengine/error.h"
#include "nn/fused_act.h"

namespace ge::nn {

namespace {

void check_channels(const char* layer, int64_t in_channels, int64_t out_channels,
                    int64_t kernel_size, const Conv2dOptions& conv) {
  GE_CHECK(in_channels > 0 && out_channels > 0 && kernel_size > 0, layer,
           ": expected positive in_channels, out_channels and kernel_size, got ", in_channels, ", ",
           out_channels, " and ", kernel_size);
  GE_CHECK(conv.groups > 0 && in_channels % conv.groups == 0 && out_channels % conv.groups == 0,
           layer, ": expected groups dividing in_channels ", in_channels, " and out_channels ",
           out_channels, ", got groups ", conv.groups);
}

// PyTorch's fan_in rule on the weight layout: size(1) * k * k.
int64_t conv_fan_in(const char* layer, int64_t in_channels, int64_t out_channels,
                    int64_t kernel_size, const Conv2dOptions& conv, bool transposed) {
  check_channels(layer, in_channels, out_channels, kernel_size, conv);
  return (transposed ? out_channels : in_channels) / conv.groups * kernel_size * kernel_size;
}

BiasActOptions along_channels(BiasActOptions act) {
  act.dim = 1;
  return act;
}

void check_input(const char* layer, const Tensor& x, int64_t in_channels) {
  GE_CHECK(x.defined(), layer, ": expected a defined input");
  GE_CHECK(x.dim() == 4 && x.size(1) == in_channels, layer, ": expected an input [N, ", in_channels,
           ", H, W], got shape ", to_string(x.shape()));
}

}  // namespace

Conv2d::Conv2d(int64_t in_channels, int64_t out_channels, int64_t kernel_size,
               const Conv2dOptions& conv, const LayerOptions& options, Generator* generator)
    : WeightLayer({out_channels, in_channels / (conv.groups > 0 ? conv.groups : 1), kernel_size,
                   kernel_size},
                  out_channels,
                  conv_fan_in("Conv2d", in_channels, out_channels, kernel_size, conv, false),
                  options, generator, 0),
      in_channels(in_channels),
      out_channels(out_channels),
      kernel_size(kernel_size),
      conv(conv) {}

Tensor Conv2d::forward(const Tensor& x) {
  check_input("Conv2d", x, in_channels);
  const BiasActOptions& act = options().act;
  if (!detail::needs_bias_act(act)) return conv2d(x, effective_weight(), effective_bias(), conv);
  return conv2d_bias_act(x, effective_weight(), effective_bias(), conv, along_channels(act));
}

ConvTranspose2d::ConvTranspose2d(int64_t in_channels, int64_t out_channels, int64_t kernel_size,
                                 const Conv2dOptions& conv, const LayerOptions& options,
                                 Generator* generator)
    : WeightLayer(
          {in_channels, out_channels / (conv.groups > 0 ? conv.groups : 1), kernel_size,
           kernel_size},
          out_channels,
          conv_fan_in("ConvTranspose2d", in_channels, out_channels, kernel_size, conv, true),
          options, generator, 1),
      in_channels(in_channels),
      out_channels(out_channels),
      kernel_size(kernel_size),
      conv(conv) {}

Tensor ConvTranspose2d::forward(const Tensor& x) {
  check_input("ConvTranspose2d", x, in_channels);
  const BiasActOptions& act = options().act;
  if (!detail::needs_bias_act(act))
    return conv_transpose2d(x, effective_weight(), effective_bias(), conv);
  return conv_transpose2d_bias_act(x, effective_weight(), effective_bias(), conv,
                                   along_channels(act));
}

}  // namespace ge::nn
