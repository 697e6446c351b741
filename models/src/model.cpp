#include "ganengine/models/model.h"

#include <algorithm>

#include "ganengine/error.h"

namespace ge::models {

const data::Batch& StepContext::batch(const std::string& slot) const {
  auto it = batches.find(slot);
  GE_CHECK(it != batches.end(), "StepContext: no batch for data slot '", slot,
           "' (the schedule has not drawn one, or the model has no such slot)");
  return it->second;
}

float LrSchedule::factor(int64_t step) const {
  if (decay_steps <= 0) return 1.f;
  const int64_t into = std::max<int64_t>(0, step - (total_steps - decay_steps) + 1);
  return 1.f - static_cast<float>(into) / static_cast<float>(decay_steps + 1);
}

nn::Module& Model::network(const std::string& name) {
  std::string names;
  for (auto& [n, m] : networks()) {
    if (n == name) return *m;
    names += (names.empty() ? "" : ", ") + n;
  }
  fail("arch ", options_.arch, " has no network '", name, "'; it has ", names);
}

void Model::to(Device device) {
  for (auto& [name, m] : networks())
    m->to(device);
}

Device Model::device() {
  return networks().front().second->device();
}

ModelEvalGuard::ModelEvalGuard(Model& model) {
  for (auto& [name, m] : model.networks()) {
    modes_.emplace_back(m, m->is_training());
    m->eval();
  }
}

ModelEvalGuard::~ModelEvalGuard() {
  for (auto& [m, training] : modes_)
    m->train(training);
}

}  // namespace ge::models
