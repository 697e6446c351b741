#pragma once
// The original Wasserstein GAN (Arjovsky et al. 2017) on the DCGAN layout, as the paper's
// reference code trains it: WGAN-GP's networks, but the critic keeps the DCGAN discriminator's
// batch norm (no penalty needs its samples judged one by one). Loss: the Wasserstein estimate
// without a penalty; the critic's weights are clipped to [-weight_clip, weight_clip] (0.01) from
// the start and after each of its updates. RMSprop lr 5e-5 for both networks, 5 critic steps per
// G step (the paper's Algorithm 1).
#include "ganengine/models/wgan_gp.h"

namespace ge::models {

// RMSprop lr 5e-5, n_critic 5: Algorithm 1's defaults (beta1, beta2 unused).
TrainDefaults wgan_defaults();

class Wgan : public WganGp {
 public:
  Wgan(const GanOptions& options, Generator& generator);
};

}  // namespace ge::models
