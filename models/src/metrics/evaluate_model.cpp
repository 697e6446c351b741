#include "ganengine/models/metrics/evaluate_model.h"

#include <string>

#include "ganengine/error.h"
#include "ganengine/models/cyclegan.h"
#include "ganengine/models/gan.h"
#include "ganengine/models/metrics/evaluate.h"
#include "ganengine/models/metrics/super_resolution.h"
#include "ganengine/models/metrics/translation.h"
#include "ganengine/models/srgan.h"

namespace ge::models::metrics {

std::string evaluate_model(Model& model, const std::string& data, const std::string& data_b,
                           const EvalOptions& options) {
  if (auto* cyclegan = dynamic_cast<CycleGan*>(&model))
    return evaluate_cyclegan(*cyclegan, data, data_b, options);
  if (auto* sr = dynamic_cast<SrGan*>(&model)) {
    GE_CHECK(data_b.empty(), "evaluate: arch ", model.options().arch,
             " reads one data set, but a second domain \"", data_b, "\" was given");
    return evaluate_super_resolution(*sr, data, options);
  }
  if (auto* gan = dynamic_cast<Gan*>(&model)) {
    GE_CHECK(data_b.empty(), "evaluate: arch ", model.options().arch,
             " reads one data set, but a second domain \"", data_b, "\" was given");
    return evaluate(*gan, data, options);
  }
  fail("evaluate: no metrics cover arch ", model.options().arch,
       " (expected a latent GAN, an image-to-image or a super-resolution model)");
}

}  // namespace ge::models::metrics
