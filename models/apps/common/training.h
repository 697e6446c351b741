#pragma once
// `train` for every app: data set, model (fresh, or the checkpoint's when resuming), loader and
// trainer.
#include <cstdio>
#include <string>

#include "app_options.h"
#include "ganengine/models/data/dataset.h"
#include "ganengine/models/data/loader.h"
#include "ganengine/models/gan.h"
#include "ganengine/models/metrics/evaluate.h"
#include "ganengine/models/train/checkpoint.h"
#include "ganengine/models/train/trainer.h"

namespace ge::apps {

// The model's initial weights come from their own stream, apart from the trainer's (seed).
inline constexpr uint64_t kInitSeedOffset = 0x1f2e3d4c5b6a7988ull;

// `model`: the architecture options from the command line. On --resume the checkpoint's model
// options are used; `arch_given` asks that they name the same architecture.
inline void run_training(models::GanOptions model, TrainArgs args, bool arch_given) {
  models::train::TrainOptions& t = args.train;
  t.device = resolve_device(args.device);
  t.progress = !args.quiet;
  if (t.resume) {
    const models::train::CheckpointRecord r = models::train::read_checkpoint(t.out_dir);
    GE_CHECK(!arch_given || r.gan_options.arch == model.arch, "--resume: ", t.out_dir, " holds a ",
             r.gan_options.arch, " checkpoint, not ", model.arch);
    model = r.gan_options;
    args.continue_from(r.train_options);
    // The run's own data unless --data names another (older checkpoints do not record it).
    if (!args.given("--data") && !r.train_options.data.empty()) args.data = r.train_options.data;
  }
  t.data = args.data;
  const int64_t data_channels = channels_of(args.data);
  GE_CHECK((model.channels == 0) == (data_channels == 0), "--data ", args.data, " holds ",
           data_channels == 0 ? "2-D points" : "images", ", but --arch ", model.arch, " models ",
           model.channels == 0 ? "2-D points (use ring8 or grid25)"
                               : "images (the -mlp architectures model 2-D points)");
  const auto dataset = models::data::open_dataset(
      args.data, {model.resolution, std::max<int64_t>(model.channels, 1)});
  if (model.arch == "cgan" && model.num_classes == 0) model.num_classes = dataset->num_classes();
  Generator init(t.seed + kInitSeedOffset);
  const auto net = models::make_model(model, init);
  models::data::DataLoader loader(dataset, t.batch, t.seed, t.device);
  models::train::Trainer trainer(*net, loader, t);
  if (t.eval_every > 0) {
    models::metrics::EvalOptions eval;
    eval.num_samples = args.eval_samples;
    eval.classifier_dir = args.classifier_dir;
    trainer.set_evaluator([eval, data = args.data](models::Model& m) {
      return models::metrics::evaluate(models::as_gan(m, "--eval-every"), data, eval);
    });
  }
  trainer.run();
  std::fprintf(stderr, "%s: %lld steps; checkpoint, samples/final.png, loss_curve.png\n",
               t.out_dir.c_str(), static_cast<long long>(trainer.step()));
}

}  // namespace ge::apps
