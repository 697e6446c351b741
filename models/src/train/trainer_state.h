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
#include "samples.h"

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

struct TrainerState {
  Generator rng;  // every random number of training: latents, noise, penalties' mixing
  float ema_beta = 0.f;
  int64_t n_critic = 1;
  std::unique_ptr<optim::Adam> opt_g, opt_d;
  std::unique_ptr<SampleWriter> samples;
  double elapsed_before = 0;  // training seconds before this process's run() (resumed runs)
  std::optional<Clock::time_point> run_start;
  bool resumed = false;
  LogAccumulator logs;
};

// Generator step `number` (1-based, as checkpoints count): n_critic discriminator updates on
// loader batches, one generator update, then the EMA. A NaN/Inf loss or gradient throws
// ge::Error naming the step, the network and the quantity before that update is applied.
void train_step(Gan& gan, data::DataLoader& loader, TrainerState& state,
                const TrainOptions& options, int64_t number);

}  // namespace ge::models::train::detail
