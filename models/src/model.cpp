#include "ganengine/models/model.h"

#include <algorithm>

#include "ganengine/error.h"
#include "ganengine/ops.h"

namespace ge::models {

const data::Batch& StepContext::batch(const std::string& slot) const {
  auto it = batches.find(slot);
  GE_CHECK(it != batches.end(), "StepContext: no batch for data slot '", slot,
           "' (the schedule has not drawn one, or the model has no such slot)");
  return it->second;
}

OptimizerGroup adam_group(std::string name, std::string role, std::vector<std::string> networks,
                          float lr, const TrainSettings& settings) {
  OptimizerGroup g{std::move(name),
                   std::move(role),
                   std::move(networks),
                   {},
                   {settings.steps, settings.lr_decay_steps}};
  g.adam.lr = lr;
  g.adam.beta1 = settings.beta1;
  g.adam.beta2 = settings.beta2;
  return g;
}

OptimizerGroup rmsprop_group(std::string name, std::string role, std::vector<std::string> networks,
                             float lr, const TrainSettings& settings) {
  OptimizerGroup g =
      adam_group(std::move(name), std::move(role), std::move(networks), lr, settings);
  g.kind = OptimizerGroup::Kind::RMSprop;
  g.rmsprop.lr = lr;
  return g;
}

Tensor SamplerInputs::fixed_samples(const std::string& slot, int64_t n, const char* who) const {
  auto it = datasets.find(slot);
  GE_CHECK(it != datasets.end() && it->second != nullptr, who,
           ": the sampler needs the data set of slot '", slot, "'");
  const data::Dataset& ds = *it->second;
  const Shape shape = ds.sample_shape();
  const int64_t per = numel(shape), count = std::min<int64_t>(n, ds.size());
  std::vector<float> host(static_cast<size_t>(count * per));
  for (int64_t i = 0; i < count; ++i)
    ds.get(i * ds.size() / count, host.data() + i * per);
  Shape batch = shape;
  batch.insert(batch.begin(), count);
  return from_vector(host, batch, device);
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
