#include "ganengine/models/wgan.h"

#include "ganengine/optim.h"

namespace ge::models {

TrainDefaults wgan_defaults() {
  TrainDefaults t;
  t.g_lr = t.d_lr = 5e-5f;
  t.n_critic = 5;
  return t;
}

Wgan::Wgan(const GanOptions& options, Generator& generator)
    : WganGp(options, generator, Objective::WassersteinClip, wgan_defaults(), true) {
  optim::clip_weights(critic->parameters(), options.weight_clip);  // the critic starts clipped
}

}  // namespace ge::models
