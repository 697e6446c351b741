#pragma once
// The trainer's mutable state and its one-step update, apart from the loop, checkpoint and
// output code in trainer.cpp.
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ganengine/optim.h"
#include "ganengine/models/data/loader.h"
#include "ganengine/models/gan.h"
#include "ganengine/models/train/trainer.h"
#include "ganengine/random.h"

namespace ge::models::train::detail {

using Clock = std::chrono::steady_clock;

// Running means of the values logged since the last log line.
class LogAccumulator {
 public:
  void add(const std::string& name, double value);
  // A loss step's logs plus its loss under `loss_name`, unless the logs already hold it.
  void add(const std::map<std::string, float>& logs, const std::string& loss_name, double loss);
  // d_loss and g_loss first, then the rest by name.
  std::vector<std::pair<std::string, double>> means() const;
  void clear() { values_.clear(); }

 private:
  std::map<std::string, std::pair<double, int64_t>> values_;
};

// An optimizer group and its Adam, with "<network>.<parameter>" names for messages.
struct GroupState {
  OptimizerGroup spec;
  std::unique_ptr<optim::Adam> opt;
  std::vector<std::string> param_names;
};

struct TrainerState {
  Generator rng;  // every random number of training: latents, noise, penalties' mixing, pools
  TrainSettings settings;
  std::vector<GroupState> groups;
  std::vector<Phase> phases;
  std::unique_ptr<Sampler> samples;
  double elapsed_before = 0;  // training seconds before this process's run() (resumed runs)
  std::optional<Clock::time_point> run_start;
  bool resumed = false;
  LogAccumulator logs;
};

// Training step `number` (1-based, as checkpoints count): every phase of the model's schedule in
// order, then the model's after_step. A NaN/Inf loss or gradient throws ge::Error naming the
// step, the group and the quantity before that update is applied.
void train_step(Model& model, const DataLoaders& loaders, TrainerState& state,
                const TrainOptions& options, int64_t number);

// The group named `name`; throws ge::Error naming the groups there are.
GroupState& find_group(TrainerState& state, const std::string& name);

}  // namespace ge::models::train::detail
