// A checkpoint written by the version-1 trainer (one G/D pair, one loader; committed under
// tests/models/data/checkpoint_v1) loads into today's models, and resuming it continues exactly
// as the version-1 trainer did (to rounding: it multiplied with OpenBLAS).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "ganengine/models/data/dataset.h"
#include "ganengine/models/data/loader.h"
#include "ganengine/models/train/checkpoint.h"
#include "ganengine/models/train/trainer.h"
#include "ganengine/safetensors.h"
#include "models/train_test_util.h"

namespace ge::testing {
namespace {

namespace fs = std::filesystem;
using models::train::read_checkpoint;

const fs::path kFixture = fs::path(GE_SOURCE_DIR) / "tests/models/data/checkpoint_v1";

std::string copy_of_step4() {
  const std::string dir = fresh_dir("v1");
  for (const char* f : {"checkpoint.json", "checkpoint.safetensors"})
    fs::copy_file(kFixture / "step4" / f, fs::path(dir) / f, fs::copy_options::overwrite_existing);
  return dir;
}

TEST(CheckpointV1, RecordReadsAsOneLoaderAndGroupsGAndD) {
  const auto r = read_checkpoint((kFixture / "step4").string());
  EXPECT_EQ(r.step, 4);
  EXPECT_EQ(r.gan_options.arch, "gan-mlp");
  EXPECT_EQ(r.batch, 16);
  ASSERT_EQ(r.loaders.size(), 1u);
  EXPECT_EQ(r.loaders.at("real").index, 4);
  ASSERT_EQ(r.optimizers.size(), 2u);
  EXPECT_EQ(r.optimizers.at("G").steps, 4);
  EXPECT_EQ(r.optimizers.at("D").steps, 4);
  EXPECT_FALSE(r.optimizers.at("G").schedule.has_value());
}

TEST(CheckpointV1, LoadsIntoTheModel) {
  const auto gan = models::train::load_gan((kFixture / "step4").string(), kCPU);
  const auto file = load_safetensors((kFixture / "step4" / "checkpoint.safetensors").string());
  for (auto& [prefix, module] : {std::pair{std::string("G."), &gan->generator()},
                                 std::pair{std::string("D."), &gan->discriminator()}})
    for (const auto& [key, t] : module->state_dict()) {
      const Tensor& saved = file.at(prefix + key);
      EXPECT_EQ(t.to_vector(), saved.to_vector()) << prefix << key;
    }
}

TEST(CheckpointV1, ResumesAsTheVersion1TrainerContinued) {
  const std::string dir = copy_of_step4();
  const auto r = read_checkpoint(dir);
  models::train::TrainOptions o = r.train_options;
  o.out_dir = dir;
  o.steps = 6;
  o.resume = true;
  o.progress = false;
  Generator init(123);  // the checkpoint replaces every weight
  const auto model = models::make_model(r.gan_options, init);
  const auto dataset = models::data::open_dataset(o.data, {r.gan_options.resolution, 1});
  models::data::DataLoader loader(dataset, o.batch, o.seed, kCPU);
  models::train::Trainer trainer(*model, loader, o);
  trainer.run();

  EXPECT_EQ(read_checkpoint(dir).step, 6);
  const auto ours = load_safetensors((fs::path(dir) / "checkpoint.safetensors").string());
  const auto theirs = load_safetensors((kFixture / "step6.safetensors").string());
  // The fixture's steps 5 and 6 were multiplied by OpenBLAS, today's by the kernels' own GEMM,
  // which rounds differently: every tensor must land within 0.1% of how far those two steps moved
  // it (a lost optimizer state, loader position or random stream moves it by the whole step).
  const auto step4 = load_safetensors((kFixture / "step4" / "checkpoint.safetensors").string());
  ASSERT_EQ(ours.size(), theirs.size());
  for (const auto& [key, t] : theirs) {
    ASSERT_TRUE(ours.count(key)) << key;
    const auto x = ours.at(key).to_vector(), y = t.to_vector(), z = step4.at(key).to_vector();
    ASSERT_EQ(x.size(), y.size()) << key;
    double off = 0, moved = 0;
    for (size_t i = 0; i < y.size(); ++i) {
      off = std::max(off, std::fabs(static_cast<double>(x[i]) - y[i]));
      moved = std::max(moved, std::fabs(static_cast<double>(z[i]) - y[i]));
    }
    EXPECT_GT(moved, 0.0) << key;
    EXPECT_LE(off, 1e-3 * moved) << key;
  }
  // Rewritten in today's format, it reads back with its loader and groups by name.
  const auto text = read_text((fs::path(dir) / "checkpoint.json").string());
  const auto j = nlohmann::json::parse(text);
  EXPECT_EQ(j.at("version"), 2);
  EXPECT_EQ(j.at("loaders").at("real").at("index"), 6);
  EXPECT_EQ(j.at("optimizers").at("G").at("steps"), 6);
}

}  // namespace
}  // namespace ge::testing
