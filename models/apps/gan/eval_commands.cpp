#include "eval_commands.h"

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "app_options.h"
#include "ganengine/error.h"
#include "ganengine/models/metrics/evaluate.h"
#include "ganengine/models/metrics/evaluate_model.h"
#include "ganengine/models/metrics/translation.h"
#include "ganengine/models/npy.h"
#include "ganengine/models/train/checkpoint.h"
#include "ganengine/models/train/trainer.h"
#include "ganengine/ops.h"

namespace ge::apps {
namespace {

struct EvalArgs {
  std::string ckpt, data, data_b, out, device = "cpu";
  models::metrics::EvalOptions options;
  bool no_ema = false;
};

struct SampleArgs {
  std::string ckpt, out = "samples.npy", device = "cpu";
  int64_t n = 10000;
  uint64_t seed = 0;
  float truncation = 1.f;
  bool no_ema = false;
};

// The checkpoint's model in eval mode (the EMA too, where there is one).
std::unique_ptr<models::Gan> load_for_sampling(const std::string& ckpt, const std::string& device) {
  auto gan = models::train::load_gan(ckpt, resolve_device(device));
  gan->generator().eval();
  if (nn::Module* ema = gan->generator_ema()) ema->eval();
  return gan;
}

void run_eval(EvalArgs a) {
  const models::train::CheckpointRecord record = models::train::read_checkpoint(a.ckpt);
  if (a.data.empty()) {
    a.data = record.train_options.data;
    GE_CHECK(!a.data.empty(), a.ckpt, "/", models::train::kCheckpointJson,
             " does not record its data set; pass --data (mnist:DIR, stacked-mnist:DIR, ring8 or "
             "grid25; an image-to-image model's domain A)");
  }
  if (a.data_b.empty()) a.data_b = record.train_options.data_b;
  const auto model = models::train::load_model(a.ckpt, resolve_device(a.device));
  a.options.ema = !a.no_ema;
  const std::string report = models::metrics::evaluate_model(*model, a.data, a.data_b, a.options);
  std::printf("%s\n", report.c_str());
  const std::string out =
      a.out.empty() ? (std::filesystem::path(a.ckpt) / "eval.json").string() : a.out;
  models::metrics::save_report(out, report);
  const std::string data = a.data_b.empty() ? a.data : a.data + " and " + a.data_b;
  std::fprintf(stderr, "%s: report of %s on %s\n", out.c_str(), a.ckpt.c_str(), data.c_str());
}

void run_sample(const SampleArgs& a) {
  const auto gan = load_for_sampling(a.ckpt, a.device);
  models::metrics::EvalOptions draw;
  draw.seed = a.seed;
  draw.ema = !a.no_ema;
  draw.truncation = a.truncation;
  std::vector<Tensor> parts;
  models::metrics::generate_samples(
      *gan, a.n, draw, [&](int64_t, const Tensor& batch) { parts.push_back(batch.to(kCPU)); });
  Tensor samples = parts.size() == 1 ? parts[0] : cat(parts, 0);
  if (samples.dim() == 4) samples = clamp(samples, -1.f, 1.f);
  models::save_npy(a.out, samples);
  std::fprintf(stderr, "%s: %s samples of %s\n", a.out.c_str(), to_string(samples.shape()).c_str(),
               a.ckpt.c_str());
}

}  // namespace

void add_eval_command(CLI::App& app) {
  auto a = std::make_shared<EvalArgs>();
  CLI::App* e = app.add_subcommand(
      "eval",
      "metrics of a checkpoint: classifier score, Frechet distance and class balance (MNIST), "
      "modes and KL (Stacked MNIST), modes and % high quality (2-D mixtures); for CycleGAN the "
      "cycle L1 of each domain and, between typeset digits and MNIST, label preservation and the "
      "Frechet distance of the translated digits to MNIST");
  e->add_option("--ckpt", a->ckpt, "training output directory")->required();
  e->add_option("--data,--data-a", a->data,
                "data set the metrics compare with (default: the checkpoint's): mnist:DIR, "
                "stacked-mnist:DIR, ring8 or grid25; domain A of an image-to-image model "
                "(typeset, mnist:DIR, images:DIR), read from its held-out split");
  e->add_option("--data-b", a->data_b,
                "domain B of an image-to-image model (default: the checkpoint's)");
  e->add_option("--n", a->options.num_samples,
                "generated images (2-D mixtures: always 2500); held-out images per domain "
                "(image-to-image)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  e->add_option("--classifier", a->options.classifier_dir,
                "MNIST classifier directory (`gan classifier train`)")
      ->capture_default_str();
  e->add_option("--cas-steps", a->options.cas_steps,
                "conditional MNIST models: updates of the classifier trained on the samples for "
                "the Classification Accuracy Score (0: no score)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  e->add_option("--seed", a->options.seed, "latent seed")->capture_default_str();
  e->add_option("--truncation", a->options.truncation, "truncation psi (models that support it)")
      ->capture_default_str();
  e->add_flag("--no-ema", a->no_ema, "sample the trained generator, not its EMA");
  e->add_option("--out", a->out, "JSON report to write (default: CKPT/eval.json)");
  add_device_option(*e, a->device);
  e->callback([a] { run_eval(*a); });
}

void add_sample_command(CLI::App& app) {
  auto a = std::make_shared<SampleArgs>();
  CLI::App* s = app.add_subcommand(
      "sample",
      "raw samples as a NumPy .npy array: N x 2 points, or N x C x H x W images in [-1, 1]");
  s->add_option("--ckpt", a->ckpt, "training output directory")->required();
  s->add_option("--n", a->n, "samples (conditional models: classes in turn)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  s->add_option("--out", a->out, ".npy file to write")->capture_default_str();
  s->add_option("--seed", a->seed, "latent seed")->capture_default_str();
  s->add_option("--truncation", a->truncation, "truncation psi (models that support it)")
      ->capture_default_str();
  s->add_flag("--no-ema", a->no_ema, "sample the trained generator, not its EMA");
  add_device_option(*s, a->device);
  s->callback([a] { run_sample(*a); });
}

}  // namespace ge::apps
