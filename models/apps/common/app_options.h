#pragma once
// Options every app shares: device, data set, output directory and the trainer's settings.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>

#include "ganengine/device.h"
#include "ganengine/error.h"
#include "ganengine/models/data/dataset.h"
#include "ganengine/models/gan.h"
#include "ganengine/models/train/trainer.h"

namespace ge::apps {

// --device: "cpu", "cuda" or "cuda:N"; CUDA without a device that can run it is refused here,
// before any work, rather than deep inside the first kernel launch.
// `prefix` goes before the "device: ..." line ("rank 1: " in a data-parallel run).
inline Device resolve_device(const std::string& text, const std::string& prefix = "") {
  const Device device = parse_device(text);
  GE_CHECK(!device.is_cuda() || cuda_is_available(), "--device ", text,
           ": CUDA is not available (this build has no CUDA backend, or no GPU is present); "
           "use --device cpu");
  GE_CHECK(!device.is_cuda() || device.index < cuda_device_count(), "--device ", text,
           ": there are only ", cuda_device_count(), " CUDA devices");
  std::fprintf(stderr, "%sdevice: %s\n", prefix.c_str(), describe_device(device).c_str());
  return device;
}

inline void add_device_option(CLI::App& cmd, std::string& device) {
  cmd.add_option("--device", device, "cpu or cuda (cuda:N for device N)")->capture_default_str();
}

// The image channels a data set spec implies: 1 for MNIST and typeset digits, 3 for Stacked
// MNIST and an image folder, 0 (2-D points) for the Gaussian mixtures.
inline int64_t channels_of(const std::string& data) {
  if (data == "ring8" || data == "grid25") return 0;
  if (data.starts_with("mnist:") || data.starts_with("typeset")) return 1;
  if (data.starts_with("stacked-mnist:")) return 3;
  if (!models::data::image_folder_of(data).empty()) return 3;
  // MNIST's IDX files in a bare directory; anything else is refused later by name.
  std::error_code ec;
  return std::filesystem::exists(std::filesystem::path(data) / "train-images-idx3-ubyte", ec) ? 1
                                                                                              : 3;
}

struct TrainArgs {
  models::train::TrainOptions train;
  std::string data, data_b;  // the first and second data slot (a GAN's data; domains A and B)
  std::string device = "cpu";
  bool quiet = false;
  int64_t eval_samples = 10000;                    // --eval-every: generated images per evaluation
  std::string classifier_dir = "data/classifier";  // --eval-every on image data
  CLI::App* command = nullptr;

  bool given(const std::string& option) const {
    return command != nullptr && command->get_option(option)->count() > 0;
  }
  // On --resume, the settings not given on the command line continue as the checkpoint's run
  // had them (so `train --out DIR --resume` finishes an interrupted run as it was started).
  void continue_from(const models::train::TrainOptions& saved) {
    auto& t = train;
    auto keep = [&](const char* option, auto& value, const auto& saved_value) {
      if (!given(option)) value = saved_value;
    };
    keep("--steps", t.steps, saved.steps);
    keep("--batch", t.batch, saved.batch);
    keep("--seed", t.seed, saved.seed);
    keep("--g-lr", t.g_lr, saved.g_lr);
    keep("--d-lr", t.d_lr, saved.d_lr);
    keep("--beta1", t.beta1, saved.beta1);
    keep("--beta2", t.beta2, saved.beta2);
    keep("--n-critic", t.n_critic, saved.n_critic);
    keep("--ema-beta", t.ema_beta, saved.ema_beta);
    keep("--lr-decay-steps", t.lr_decay_steps, saved.lr_decay_steps);
    keep("--label-smoothing", t.label_smoothing, saved.label_smoothing);
    keep("--clip-grad-norm", t.clip_grad_norm, saved.clip_grad_norm);
    keep("--log-grad-norm", t.log_grad_norm, saved.log_grad_norm);
    keep("--sync-bn", t.sync_bn, saved.sync_bn);
    keep("--instance-noise", t.instance_noise, saved.instance_noise);
    keep("--instance-noise-steps", t.instance_noise_steps, saved.instance_noise_steps);
    keep("--checkpoint-every", t.checkpoint_every, saved.checkpoint_every);
    keep("--sample-every", t.sample_every, saved.sample_every);
    keep("--log-every", t.log_every, saved.log_every);
    keep("--grid-size", t.grid_size, saved.grid_size);
    keep("--eval-every", t.eval_every, saved.eval_every);
  }
};

inline void add_train_options(CLI::App& cmd, TrainArgs& a) {
  a.command = &cmd;
  auto& t = a.train;
  cmd.add_option(
         "--data,--data-a", a.data,
         "data set (domain A of an image-to-image model): mnist:DIR, stacked-mnist:DIR, "
         "images:DIR (or folder:DIR), typeset[:FONTDIR] (digits typeset in the system's fonts; "
         "typeset-test[:FONTDIR] is the held-out split), ring8 or grid25")
      ->capture_default_str();
  cmd.add_option("--data-b", a.data_b,
                 "domain B of an image-to-image model (cyclegan), in the forms of --data");
  cmd.add_option("--out", t.out_dir, "output directory (checkpoint, samples, metrics)")
      ->capture_default_str();
  cmd.add_option("--steps", t.steps, "generator steps in all (a resumed run stops there too)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd.add_option("--batch", t.batch, "batch size")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd.add_option("--seed", t.seed, "seed of the initialisation, data order and training noise")
      ->capture_default_str();
  add_device_option(cmd, a.device);
  cmd.add_option("--init", t.init,
                 "a training directory whose checkpoint gives this fresh run the networks it "
                 "shares by name (srgan: G from a trained srresnet)");
  cmd.add_flag("--resume", t.resume,
               "continue from OUT/checkpoint.json: its model, and its settings unless given");
  cmd.add_option("--g-lr", t.g_lr, "generator learning rate (default: the architecture's)");
  cmd.add_option("--d-lr", t.d_lr, "discriminator learning rate (default: the architecture's)");
  cmd.add_option("--beta1", t.beta1, "Adam beta1 (default: the architecture's)");
  cmd.add_option("--beta2", t.beta2, "Adam beta2 (default: the architecture's)");
  cmd.add_option("--n-critic", t.n_critic, "D steps per G step (default: the architecture's)");
  cmd.add_option("--ema-beta", t.ema_beta, "G EMA decay per step (models with an EMA)");
  cmd.add_option("--lr-decay-steps", t.lr_decay_steps,
                 "last steps over which the learning rates decay linearly (0: constant; default: "
                 "the architecture's)");
  cmd.add_option("--label-smoothing", t.label_smoothing,
                 "one-sided label smoothing: real target 1 - this (non-saturating losses)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 0.99));
  cmd.add_option("--clip-grad-norm", t.clip_grad_norm,
                 "clip each network's gradient norm to this (0: off)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd.add_flag("--log-grad-norm", t.log_grad_norm,
               "log each network's gradient norm before clipping (g_grad_norm, d_grad_norm)");
  cmd.add_flag("--sync-bn", t.sync_bn,
               "under mpirun: batch norm over the global batch (SyncBatchNorm), not each "
               "process's part");
  cmd.add_option("--instance-noise", t.instance_noise,
                 "std of Gaussian noise on D's real and fake inputs, annealed linearly to 0 "
                 "(0: off)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd.add_option("--instance-noise-steps", t.instance_noise_steps,
                 "steps over which the instance noise anneals to 0 (0: the whole run)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd.add_option("--checkpoint-every", t.checkpoint_every, "steps between checkpoints (0: end)")
      ->capture_default_str();
  cmd.add_option("--sample-every", t.sample_every, "steps between sample grids (0: end)")
      ->capture_default_str();
  cmd.add_option("--log-every", t.log_every, "steps between metrics.jsonl lines")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd.add_option("--grid-size", t.grid_size, "samples in each grid")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd.add_option("--eval-every", t.eval_every,
                 "steps between `gan eval` reports in OUT/eval.jsonl (0: none)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd.add_option("--eval-samples", a.eval_samples, "generated images per evaluation")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd.add_option("--classifier", a.classifier_dir,
                 "MNIST classifier for the evaluations (`gan classifier train`)")
      ->capture_default_str();
  cmd.add_flag("--quiet", a.quiet, "no progress display");
}

}  // namespace ge::apps
