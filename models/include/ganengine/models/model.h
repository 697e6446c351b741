#pragma once
// What every architecture declares so that one trainer runs it: its named networks, its
// optimizer groups (each with its own Adam settings and learning-rate schedule), its step
// schedule (which loss updates which group, in which order, how often), the data slots a batch
// holds, the extra state it keeps between steps, what it samples and how it is evaluated.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "ganengine/models/data/loader.h"
#include "ganengine/models/gan_options.h"
#include "ganengine/nn/module.h"
#include "ganengine/optim.h"
#include "ganengine/random.h"
#include "ganengine/tensor.h"

namespace ge::models {

// What a loss returns: the scalar to differentiate and the values to log ("d_real", ...).
struct LossResult {
  Tensor loss;
  std::map<std::string, float> logs;
};

// Per-update inputs the losses need.
struct StepContext {
  int64_t step = 0;                // 0-based training step
  Generator* generator = nullptr;  // latents, interpolation, noise, pools: the trainer's stream
  float real_label = 1.f;          // < 1: one-sided label smoothing (non-saturating losses)
  int64_t batch_size = 0;          // samples per data slot and per update
  // The std of the Gaussian instance noise on what D sees this step (0: none); only models whose
  // supports_instance_noise() is true get a nonzero value.
  float instance_noise = 0.f;
  // The current batch of each data slot (see Model::data_slots), on the training device.
  std::map<std::string, data::Batch> batches;
  // This process's part of the global batch in a data-parallel run. The generator's stream is
  // the same in every process: batch-shaped draws are made for the whole global batch and each
  // process keeps its rows (distributed::shard_rows), so N processes see the numbers that one
  // process with the global batch would.
  data::Shard shard;

  // The batch of `slot`; throws ge::Error naming the slot when there is none.
  const data::Batch& batch(const std::string& slot) const;
};

// Learning rate multiplier per step: 1 for the first steps, then a linear decay over the last
// `decay_steps` steps of a `total_steps` run, as CycleGAN's "linear" policy does per epoch:
// factor(s) = 1 - max(0, s - (total - decay) + 1) / (decay + 1), so the last step runs at
// 1 / (decay + 1) of the base rate. decay_steps 0: constant.
struct LrSchedule {
  int64_t total_steps = 0;
  int64_t decay_steps = 0;
  float factor(int64_t step) const;
  bool operator==(const LrSchedule&) const = default;
};

// An optimizer over the parameters of `networks` (in that order): Adam, or RMSprop; checkpoint
// keys opt.<name>.<buffer>.<index>. clip_weights > 0 clips the parameters to [-c, c] after
// each update (the original WGAN's critic); the model clips them at construction.
struct OptimizerGroup {
  enum class Kind { Adam, RMSprop };
  std::string name;
  std::string role;  // for messages: "generator", "discriminators"
  std::vector<std::string> networks;
  optim::AdamOptions adam;  // Kind::Adam
  LrSchedule schedule;
  Kind kind = Kind::Adam;
  optim::RmspropOptions rmsprop{};  // Kind::RMSprop
  float clip_weights = 0.f;
  float lr() const { return kind == Kind::Adam ? adam.lr : rmsprop.lr; }
};

// One phase of a training step: `repeats` updates of optimizer group `group`, each minimising
// `loss`. The parameters of every other group are frozen during the phase. With `draws_batch`,
// every repeat first draws the next batch of every data slot; otherwise it sees the batches the
// last drawing phase left.
struct Phase {
  std::string group;
  int64_t repeats = 1;
  bool draws_batch = false;
  std::string loss_name;  // the log key of the loss ("d_loss", "g_loss")
  std::function<LossResult(StepContext&)> loss;
};

// A data slot: what one loader feeds ("real" for a GAN; "A" and "B" for two unpaired domains).
struct DataSlot {
  std::string name;
  std::string role;    // for messages: "real images", "domain A", ...
  Shape sample_shape;  // [C, H, W] or [2]
  bool needs_labels = false;
  // Random crops of the images at the sample side (data::open_patch_dataset), not whole images
  // resized to it: super-resolution trains on crops of photographs.
  bool crops = false;
};

// Settings resolved from the trainer's options and the architecture's defaults.
struct TrainSettings {
  int64_t steps = 0;
  float g_lr = 2e-4f, d_lr = 2e-4f;
  float beta1 = 0.5f, beta2 = 0.999f;
  int64_t n_critic = 1;
  float ema_beta = 0.f;
  int64_t lr_decay_steps = 0;
};

// Learning-rate and schedule defaults an architecture is known to train with; the trainer's
// options start from them. lr_decay_steps < 0: half of the run.
struct TrainDefaults {
  float g_lr = 2e-4f, d_lr = 2e-4f;
  float beta1 = 0.5f, beta2 = 0.999f;
  int64_t n_critic = 1;
  float ema_beta = 0.f;  // G EMA decay per step; 0: no EMA
  int64_t lr_decay_steps = 0;
  int64_t batch = 0;  // the batch the apps train with unless told; 0: theirs
};

// Adam over `networks` at `lr` with the settings' betas and learning-rate schedule (linear decay
// over the last settings.lr_decay_steps of settings.steps).
OptimizerGroup adam_group(std::string name, std::string role, std::vector<std::string> networks,
                          float lr, const TrainSettings& settings);
// RMSprop (PyTorch's defaults but `lr`) over `networks` with the settings' schedule.
OptimizerGroup rmsprop_group(std::string name, std::string role, std::vector<std::string> networks,
                             float lr, const TrainSettings& settings);

// Writes a PNG of what a model draws at this point of training (fixed inputs, so images of one
// run compare step to step). Sampling must not change training state.
class Sampler {
 public:
  virtual ~Sampler() = default;
  virtual void write(const std::string& path) = 0;
};

// What a sampler may draw from: the data sets of the model's slots and the grid size.
struct SamplerInputs {
  std::map<std::string, const data::Dataset*> datasets;
  int64_t grid_size = 64;
  uint64_t seed = 0;
  Device device = kCPU;

  // Up to `n` samples of slot `slot` spread evenly over its data set, as one batch on `device`;
  // a missing slot throws ge::Error naming `who` and the slot.
  Tensor fixed_samples(const std::string& slot, int64_t n, const char* who) const;
};

class Model {
 public:
  virtual ~Model() = default;
  const GanOptions& options() const { return options_; }

  // Every network by name, in checkpoint order (tensors <name>.<state-dict key>), averaged
  // copies such as G_ema included.
  virtual std::vector<std::pair<std::string, nn::Module*>> networks() = 0;
  nn::Module& network(const std::string& name);
  virtual TrainDefaults train_defaults() const { return {}; }
  virtual std::vector<OptimizerGroup> optimizer_groups(const TrainSettings& settings) = 0;
  virtual std::vector<Phase> schedule(const TrainSettings& settings) = 0;
  virtual std::vector<DataSlot> data_slots() const = 0;
  // Whether the losses add StepContext::instance_noise to the discriminator's inputs.
  virtual bool supports_instance_noise() const { return false; }
  // Runs after every training step (parameter averages).
  virtual void after_step(const StepContext& /*ctx*/, const TrainSettings& /*settings*/) {}
  // State other than network tensors that a resumed run needs (image pools); keys are
  // checkpoint tensor names under "state.".
  virtual std::map<std::string, Tensor> extra_state() const { return {}; }
  // Checks every entry before changing anything; a missing or misshapen entry throws ge::Error
  // naming `file` and the key.
  virtual void load_extra_state(const std::map<std::string, Tensor>& /*state*/,
                                const std::string& /*file*/) {}
  virtual std::unique_ptr<Sampler> make_sampler(const SamplerInputs& inputs) = 0;

  void to(Device device);
  Device device();

 protected:
  explicit Model(GanOptions options) : options_(std::move(options)) {}
  GanOptions options_;
};

// Puts every network of a model in eval mode for a scope and restores each after.
class ModelEvalGuard {
 public:
  explicit ModelEvalGuard(Model& model);
  ~ModelEvalGuard();
  ModelEvalGuard(const ModelEvalGuard&) = delete;
  ModelEvalGuard& operator=(const ModelEvalGuard&) = delete;

 private:
  std::vector<std::pair<nn::Module*, bool>> modes_;
};

// Builds options.arch (any registered architecture); parameters drawn from `generator`. Unknown
// arch or impossible options throw ge::Error naming the option, the value and what is accepted.
std::unique_ptr<Model> make_model(const GanOptions& options, Generator& generator);
// The registered architecture names, in registration order.
std::vector<std::string> architecture_names();
// The image side `arch` trains at unless told (32 for the GANs and CycleGAN, 96 for super-
// resolution); an unknown arch throws as make_model does.
int64_t default_resolution(const std::string& arch);

}  // namespace ge::models
