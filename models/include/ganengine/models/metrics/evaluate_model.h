#pragma once
// `gan eval` and the trainer's --eval-every: the report that fits a model.
#include <string>

#include "ganengine/models/metrics/evaluate.h"
#include "ganengine/models/model.h"

namespace ge::models::metrics {

// evaluate() on `data` for a latent GAN, evaluate_cyclegan on `data` and `data_b` for CycleGAN,
// evaluate_super_resolution on `data` for SRResNet and SRGAN (`data_b` must be empty but for
// CycleGAN). Any other model throws ge::Error naming its arch.
std::string evaluate_model(Model& model, const std::string& data, const std::string& data_b,
                           const EvalOptions& options);

}  // namespace ge::models::metrics
