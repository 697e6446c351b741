#pragma once
// Training of any Model: its step schedule over its optimizer groups, checkpoints with bitwise
// resume, NaN guards, progress, a JSONL metrics log, sample grids and a loss-curve plot.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "ganengine/models/data/loader.h"
#include "ganengine/models/gan.h"
#include "ganengine/models/model.h"

namespace ge::models::train {

// The loaders of a model's data slots, by slot name (Model::data_slots).
using DataLoaders = std::map<std::string, data::DataLoader*>;

struct TrainOptions {
  std::string out_dir = "runs/run";
  int64_t steps = 1000;  // generator steps in all (a resumed run stops at the same total)
  int64_t batch = 32;
  uint64_t seed = 0;
  Device device = kCPU;
  // From the architecture's TrainDefaults unless set (negative: use the default).
  float g_lr = -1.f, d_lr = -1.f, beta1 = -1.f, beta2 = -1.f, ema_beta = -1.f;
  int64_t n_critic = -1;  // D steps per G step
  // Steps at the end of the run over which every learning rate decays linearly (CycleGAN's
  // schedule); -1: the architecture's default, 0: constant rates.
  int64_t lr_decay_steps = -1;
  float label_smoothing = 0.f;  // real target 1 - label_smoothing (one-sided)
  float clip_grad_norm = 0.f;   // > 0: clip each network's total gradient norm
  bool log_grad_norm = false;   // log each group's gradient norm ("g_grad_norm", ...)
  // Data parallel: batch norm over the global batch (torch.nn.SyncBatchNorm) instead of each
  // process's shard (DDP's default). No effect with one process.
  bool sync_bn = false;
  // Instance noise (Sønderby et al. 2016; Arjovsky & Bottou 2017): Gaussian noise of this std on
  // D's real and fake inputs, annealed linearly to 0 over the first instance_noise_steps steps
  // (0: the whole run). 0: none.
  float instance_noise = 0.f;
  int64_t instance_noise_steps = 0;
  int64_t checkpoint_every = 500;  // <= 0: only at the end
  int64_t sample_every = 500;      // <= 0: only samples/final.png
  int64_t log_every = 10;
  int64_t grid_size = 64;  // samples in each grid (a fixed latent batch from the seed)
  bool resume = false;     // continue from out_dir/checkpoint.json
  bool progress = true;    // progress bar on stderr
  int64_t eval_every = 0;  // > 0 with an evaluator set: a line of eval.jsonl every this many steps
  // The data set specs ("mnist:DIR", "ring8", ...) of the model's first and second data slot
  // (a GAN's real data; the two domains of an image-to-image model), recorded so --resume and
  // `gan eval` find the data the run trained on; the trainer itself reads the loaders it is given.
  std::string data, data_b;
  // The training directory whose checkpoint a fresh run took its shared networks from
  // (init_networks_from; SRGAN starts from a trained SRResNet), recorded for reference.
  std::string init;
};

// Files in out_dir: checkpoint.json + checkpoint.safetensors (the last good checkpoint; both
// written atomically, the JSON last, naming the tensor file's checksum), metrics.jsonl,
// samples/step_000500.png, ..., samples/final.png, loss_curve.png, eval.jsonl with an
// evaluator, and train.lock: run() and save_checkpoint() hold it (flock), so a second trainer on
// the same out_dir is refused naming the holder's process id; the kernel drops it when the holder
// dies. Reading a checkpoint (load_model) takes no lock.
//
// Data parallel: when ge::distributed's default group has several processes, each process runs
// the same Trainer on its shard of every global batch (its loaders are made with
// data::Shard{rank, world size}; options.batch is the batch of one process). The networks start
// as rank 0's, gradients are averaged before every update, buffers follow rank 0 after every
// step, and only rank 0 writes out_dir and shows progress. Resuming reads out_dir on every rank
// (a shared file system across machines) and needs the world size the checkpoint was made with.
class Trainer {
 public:
  // Returns a JSON object's text (metrics::evaluate); runs with the networks in eval mode and
  // must not draw from the training streams.
  using Evaluator = std::function<std::string(Model&)>;

  // One loader per data slot of the model, each with batch size options.batch.
  Trainer(Model& model, DataLoaders loaders, TrainOptions options);
  // A model with one data slot.
  Trainer(Model& model, data::DataLoader& loader, TrainOptions options);
  void set_evaluator(Evaluator evaluator) { evaluator_ = std::move(evaluator); }
  // Trains to options.steps. NaN/Inf in a loss or gradient throws ge::Error naming the step,
  // the network and the quantity, after leaving the last good checkpoint as it was.
  void run();
  int64_t step() const { return step_; }
  void save_checkpoint();  // at the current step; rank 0 writes, other ranks do nothing
  // Restores the model, its extra state, optimizers, RNG and loader states; a corrupt or
  // mismatched checkpoint throws ge::Error naming the file and the defect, leaving everything as
  // it was.
  void load_checkpoint();

 private:
  struct State;
  Model& model_;
  DataLoaders loaders_;
  TrainOptions options_;
  int64_t step_ = 0;
  std::shared_ptr<State> state_;
  Evaluator evaluator_;
};

// The G EMA decay of 0-based generator step `step`: `ema_beta`, ramped up as StyleGAN2-ADA's
// ema_rampup 0.05 (the averaging horizon is at most 5% of the images seen so far, i.e. decay at
// most 0.5^(20 / (step + 1))), so the average follows the generator closely early in training.
float ema_decay(float ema_beta, int64_t step);

// The instance-noise std of 0-based step `step`: std * (1 - step / anneal_steps), 0 from step
// anneal_steps on.
float instance_noise_std(float std, int64_t anneal_steps, int64_t step);

// Rebuilds the model a checkpoint directory holds (its GanOptions and network tensors), on
// `device`.
std::unique_ptr<Model> load_model(const std::string& out_dir, Device device);
// load_model for a latent GAN; any other architecture throws ge::Error naming it.
std::unique_ptr<Gan> load_gan(const std::string& out_dir, Device device);

}  // namespace ge::models::train
