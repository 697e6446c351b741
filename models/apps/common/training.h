#pragma once
// `train` for every app: data set, model (fresh, or the checkpoint's when resuming), loader and
// trainer.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "app_options.h"
#include "ganengine/distributed.h"
#include "ganengine/models/data/dataset.h"
#include "ganengine/models/data/loader.h"
#include "ganengine/models/gan.h"
#include "ganengine/models/metrics/evaluate.h"
#include "ganengine/models/metrics/evaluate_model.h"
#include "ganengine/models/metrics/translation.h"
#include "ganengine/models/train/checkpoint.h"
#include "ganengine/models/train/trainer.h"

namespace ge::apps {

// The model's initial weights come from their own stream, apart from the trainer's (seed).
inline constexpr uint64_t kInitSeedOffset = 0x1f2e3d4c5b6a7988ull;

// The second data slot's loader shuffles apart from the first.
inline constexpr uint64_t kSecondLoaderSeedOffset = 0x51ed27a3c4b5d6e1ull;

// `model`: the architecture options from the command line. On --resume the checkpoint's model
// options are used; `arch_given` asks that they name the same architecture.
// The device of this process: under mpirun, plain "cuda" is the GPU of its local rank (each
// process has its own emulated GPU, cuda:0, under the emulator).
inline Device process_device(const std::string& text) {
  const int world = distributed::get_world_size(), rank = distributed::get_rank();
  if (world == 1) return resolve_device(text);
  const std::string prefix = "rank " + std::to_string(rank) + ": ";
  if (text != "cuda" || !cuda_is_available() || cuda_is_emulated())
    return resolve_device(text, prefix);
  const int local = distributed::get_local_rank();
  GE_CHECK(local < cuda_device_count(), "--device cuda: process ", rank, " is number ", local,
           " on its machine, which has ", cuda_device_count(),
           " GPUs: start at most one process per GPU");
  return resolve_device("cuda:" + std::to_string(local), prefix);
}

// `model`: the architecture options from the command line. On --resume the checkpoint's model
// options are used; `arch_given` asks that they name the same architecture. Under mpirun -np N
// every process runs this on its shard of each global batch (--batch per process); rank 0 writes.
inline void run_training(models::GanOptions model, TrainArgs args, bool arch_given) {
  distributed::init_process_group();
  const models::data::Shard shard{distributed::get_rank(), distributed::get_world_size()};
  const bool writer = shard.index == 0;
  models::train::TrainOptions& t = args.train;
  t.device = process_device(args.device);
  t.progress = !args.quiet;
  if (t.resume) {
    const models::train::CheckpointRecord r = models::train::read_checkpoint(t.out_dir);
    GE_CHECK(!arch_given || r.gan_options.arch == model.arch, "--resume: ", t.out_dir, " holds a ",
             r.gan_options.arch, " checkpoint, not ", model.arch);
    model = r.gan_options;
    args.continue_from(r.train_options);
    // The run's own data unless --data names another (older checkpoints do not record it).
    if (!args.given("--data") && !r.train_options.data.empty()) args.data = r.train_options.data;
    if (!args.given("--data-b") && !r.train_options.data_b.empty())
      args.data_b = r.train_options.data_b;
  }
  t.data = args.data;
  t.data_b = args.data_b;
  const int64_t data_channels = channels_of(args.data);
  GE_CHECK((model.channels == 0) == (data_channels == 0), "--data ", args.data, " holds ",
           data_channels == 0 ? "2-D points" : "images", ", but --arch ", model.arch, " models ",
           model.channels == 0 ? "2-D points (use ring8 or grid25)"
                               : "images (the -mlp architectures model 2-D points)");
  const models::data::ImageFormat format{model.resolution, std::max<int64_t>(model.channels, 1)};
  std::shared_ptr<models::data::Dataset> first;
  if (model.arch == "cgan" && model.num_classes == 0) {
    first = models::data::open_dataset(args.data, format);
    model.num_classes = first->num_classes();
  }
  Generator init(t.seed + kInitSeedOffset);
  const auto net = models::make_model(model, init);
  if (!t.resume && !t.init.empty()) {
    std::string names;
    for (const std::string& n : models::train::init_networks_from(*net, t.init))
      names += (names.empty() ? "" : ", ") + n;
    if (writer)
      std::fprintf(stderr, "%s: %s from %s\n", t.out_dir.c_str(), names.c_str(), t.init.c_str());
  }
  // A fresh run without --batch takes the architecture's batch where it has one.
  const int64_t default_batch = net->train_defaults().batch;
  if (!t.resume && !args.given("--batch") && default_batch > 0) t.batch = default_batch;
  const std::vector<models::DataSlot> slots = net->data_slots();
  const size_t given = args.data_b.empty() ? 1 : 2;
  GE_CHECK(slots.size() == given, "--arch ", model.arch, " reads ", slots.size(),
           slots.size() == 2 ? " domains: give --data-a and --data-b"
                             : " data set: give --data, not --data-b");
  std::vector<std::shared_ptr<models::data::Dataset>> datasets;
  for (size_t i = 0; i < slots.size(); ++i) {
    const std::string& spec = i == 0 ? args.data : args.data_b;
    if (i == 0 && first)
      datasets.push_back(first);
    else if (slots[i].crops)
      datasets.push_back(models::data::open_patch_dataset(spec, format));
    else
      datasets.push_back(models::data::open_dataset(spec, format));
  }
  std::vector<std::unique_ptr<models::data::DataLoader>> loaders;
  models::train::DataLoaders by_slot;
  for (size_t i = 0; i < slots.size(); ++i) {
    const uint64_t seed = t.seed + (i == 0 ? 0 : kSecondLoaderSeedOffset);
    loaders.push_back(std::make_unique<models::data::DataLoader>(
        datasets[i], t.batch, seed, t.device, models::data::kDefaultPrefetch, shard));
    by_slot[slots[i].name] = loaders.back().get();
  }
  models::train::Trainer trainer(*net, by_slot, t);
  if (t.eval_every > 0) {
    models::metrics::EvalOptions eval;
    eval.num_samples = args.eval_samples;
    eval.classifier_dir = args.classifier_dir;
    trainer.set_evaluator([eval, data = args.data, data_b = args.data_b](models::Model& m) {
      return models::metrics::evaluate_model(m, data, data_b, eval);
    });
  }
  if (writer && shard.count > 1)
    std::fprintf(stderr, "data parallel: %d processes (%s), global batch %lld; rank 0 writes %s\n",
                 shard.count, distributed::get_backend().c_str(),
                 static_cast<long long>(t.batch * shard.count), t.out_dir.c_str());
  trainer.run();
  if (writer)
    std::fprintf(stderr, "%s: %lld steps; checkpoint, samples/final.png, loss_curve.png\n",
                 t.out_dir.c_str(), static_cast<long long>(trainer.step()));
  distributed::destroy_process_group();
}

}  // namespace ge::apps
