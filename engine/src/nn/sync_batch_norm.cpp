#include "nn/sync_batch_norm.h"

#include "ganengine/autograd.h"
#include "ganengine/distributed.h"
#include "ganengine/error.h"
#include "ganengine/ops.h"

namespace ge::nn::detail {

Tensor sync_batch_norm2d(const Tensor& x, const Tensor& weight, const Tensor& bias,
                         Tensor& running_mean, Tensor& running_var, float momentum, float eps) {
  const int64_t channels = x.size(1);
  const Shape per_channel = {1, channels, 1, 1};
  Tensor count = full({1}, static_cast<float>(x.numel() / channels), TensorOptions(x.device()));
  distributed::all_reduce(count);
  const float n = count.item();
  const Tensor mean = distributed::all_reduce_sum(sum(x, {0, 2, 3})) * (1.f / n);
  const Tensor centered = x - mean.view(per_channel);
  const Tensor var = distributed::all_reduce_sum(sum(square(centered), {0, 2, 3})) * (1.f / n);
  Tensor y = centered * rsqrt(var + eps).view(per_channel);
  if (weight.defined()) y = y * weight.view(per_channel) + bias.view(per_channel);
  {
    NoGradGuard no_grad;
    const float unbiased = n > 1.f ? n / (n - 1.f) : 1.f;
    running_mean.copy_(running_mean * (1.f - momentum) + mean.detach() * momentum);
    running_var.copy_(running_var * (1.f - momentum) + var.detach() * (momentum * unbiased));
  }
  return y;
}

}  // namespace ge::nn::detail
