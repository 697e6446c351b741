#pragma once
// StyleGAN2-ADA's MinibatchStdLayer, differentiable to any order.
#include <cstdint>

#include "ganengine/tensor.h"

namespace ge {

// x [N, C, H, W] -> [N, C + F, H, W] with G = min(group_size, N) (must divide N) and
// F = num_channels (must divide C):
//   y = x.reshape(G, N / G, F, C / F, H, W); y -= y.mean(0);
//   y = sqrt(mean(y^2, 0) + 1e-8).mean over (C / F, H, W)           -> [N / G, F]
//   out[n, :C] = x[n];  out[n, C + f, h, w] = y[n % (N / G), f].
Tensor minibatch_stddev(const Tensor& x, int64_t group_size = 4, int64_t num_channels = 1);

}  // namespace ge
