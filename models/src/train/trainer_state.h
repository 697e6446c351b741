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

#include "data_parallel.h"
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

// An optimizer group and its optimizer, with "<network>.<parameter>" names for messages.
struct GroupState {
  OptimizerGroup spec;
  std::unique_ptr<optim::Optimizer> opt;
  std::vector<std::string> param_names;
  std::vector<Tensor> others;  // every other group's parameters, frozen while this one trains
  std::string grad_norm_log;   // "<lower-case name>_grad_norm"
  std::unique_ptr<GradientReducer> reducer;  // data parallel only
};

// A phase of the schedule and the index of the group it updates.
struct PhaseState {
  Phase spec;
  size_t group = 0;
};

struct TrainerState {
  Generator rng;  // every random number of training: latents, noise, penalties' mixing, pools
  TrainSettings settings;
  std::vector<GroupState> groups;
  std::vector<PhaseState> phases;
  std::unique_ptr<Sampler> samples;
  double elapsed_before = 0;  // training seconds before this process's run() (resumed runs)
  std::optional<Clock::time_point> run_start;
  bool resumed = false;
  LogAccumulator logs;
  data::Shard shard;  // this process's part of a data-parallel run ({0, 1}: the only one)
};

// Training step `number` (1-based, as checkpoints count): every phase of the model's schedule in
// order, then the model's after_step. A NaN/Inf loss or gradient throws ge::Error naming the
// step, the group and the quantity before that update is applied.
void train_step(Model& model, const DataLoaders& loaders, TrainerState& state,
                const TrainOptions& options, int64_t number);

// Builds the model's optimizer groups and step schedule into `state`, each phase resolved to its
// group; a phase naming no group, or with no loss, throws ge::Error.
void build_schedule(Model& model, TrainerState& state);

}  // namespace ge::models::train::detail
