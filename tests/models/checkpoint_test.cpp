// Checkpoint pairs: damaged, mismatched or missing files are refused with messages naming the
// file and the defect; a refused load changes nothing.
#include "ganengine/models/train/checkpoint.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "ganengine/models/data/loader.h"
#include "ganengine/safetensors.h"
#include "models/tiny_gan.h"
#include "models/train_test_util.h"
#include "support/reference.h"

namespace ge::testing {
namespace {

namespace fs = std::filesystem;
using models::train::read_checkpoint;
using models::train::Trainer;
using models::train::TrainOptions;

TrainOptions options_for(const std::string& dir, int64_t steps, uint64_t seed = 3) {
  TrainOptions o;
  o.out_dir = dir;
  o.steps = steps;
  o.batch = 8;
  o.seed = seed;
  o.sample_every = 0;
  o.grid_size = 4;
  o.progress = false;
  return o;
}

void train(const std::string& dir, int64_t steps, uint64_t seed, bool resume = false) {
  TinyGan gan(TinyGanConfig{}, seed);
  models::data::DataLoader loader(std::make_shared<TinyDataset>(32, false), 8, seed);
  TrainOptions o = options_for(dir, steps, seed);
  o.resume = resume;
  Trainer trainer(gan, loader, o);
  trainer.run();
}

class Checkpoint : public ::testing::Test {
 protected:
  void SetUp() override {
    good_ = fresh_dir("good");
    other_ = fresh_dir("other");
    train(good_, 2, 3);
    train(other_, 2, 4);
  }
  // A copy of the good checkpoint to damage.
  std::string copy() {
    const std::string dir = fresh_dir("copy" + std::to_string(copies_++));
    for (const char* f : {"checkpoint.json", "checkpoint.safetensors"})
      fs::copy_file(fs::path(good_) / f, fs::path(dir) / f, fs::copy_options::overwrite_existing);
    return dir;
  }
  static std::string json_of(const std::string& dir) {
    return (fs::path(dir) / "checkpoint.json").string();
  }
  static std::string tensors_of(const std::string& dir) {
    return (fs::path(dir) / "checkpoint.safetensors").string();
  }
  std::string good_, other_;
  int copies_ = 0;
};

#define EXPECT_MESSAGE(message, part)                \
  EXPECT_NE((message).find(part), std::string::npos) \
      << "expected \"" << (part) << "\" in: " << (message)

TEST_F(Checkpoint, ReadsTheGoodPair) {
  const auto r = read_checkpoint(good_);
  EXPECT_EQ(r.step, 2);
  EXPECT_EQ(r.gan_options.arch, "tiny");
  EXPECT_EQ(r.train_options.seed, 3u);
  EXPECT_EQ(r.tensors_bytes, fs::file_size(tensors_of(good_)));
  EXPECT_EQ(r.tensors_fnv1a64, models::train::fnv1a64_file(tensors_of(good_)));
  // The tensors PyTorch would see: G., D. state dicts and the Adam moments.
  const auto t = load_safetensors(tensors_of(good_));
  for (const char* key :
       {"G.w1", "G.running_mean", "D.b2", "opt.G.exp_avg.0", "opt.D.exp_avg_sq.3"})
    EXPECT_EQ(t.count(key), 1u) << key;
  EXPECT_EQ(load_safetensors_metadata(tensors_of(good_)).at("step"), "2");
}

TEST_F(Checkpoint, RefusesATruncatedTensorFile) {
  const std::string dir = copy();
  fs::resize_file(tensors_of(dir), fs::file_size(tensors_of(dir)) - 10);
  const std::string m = error_of([&] { read_checkpoint(dir); });
  EXPECT_MESSAGE(m, tensors_of(dir));
  EXPECT_MESSAGE(m, "truncated");
}

TEST_F(Checkpoint, RefusesAFlippedByte) {
  const std::string dir = copy();
  std::string bytes = read_text(tensors_of(dir));
  bytes[bytes.size() - 5] ^= 0x10;
  write_text(tensors_of(dir), bytes);
  const std::string m = error_of([&] { read_checkpoint(dir); });
  EXPECT_MESSAGE(m, tensors_of(dir));
  EXPECT_MESSAGE(m, "checksum");
}

TEST_F(Checkpoint, RefusesAPairFromTwoCheckpoints) {
  const std::string dir = copy();
  fs::copy_file(tensors_of(other_), tensors_of(dir), fs::copy_options::overwrite_existing);
  const std::string m = error_of([&] { read_checkpoint(dir); });
  EXPECT_MESSAGE(m, tensors_of(dir));
  EXPECT_MESSAGE(m, "different checkpoints");
}

TEST_F(Checkpoint, RefusesBadJson) {
  const std::string dir = copy();
  write_text(json_of(dir), read_text(json_of(dir)).substr(0, 40));
  const std::string m = error_of([&] { read_checkpoint(dir); });
  EXPECT_MESSAGE(m, json_of(dir));
  EXPECT_MESSAGE(m, "not valid JSON");
}

TEST_F(Checkpoint, RefusesMissingAndMistypedFields) {
  const std::string dir = copy();
  auto j = nlohmann::json::parse(read_text(json_of(dir)));
  j.erase("rng");
  write_text(json_of(dir), j.dump());
  EXPECT_MESSAGE(error_of([&] { read_checkpoint(dir); }), "missing field 'rng'");
  j = nlohmann::json::parse(read_text(json_of(good_)));
  j["loaders"]["real"]["index"] = "three";
  write_text(json_of(dir), j.dump());
  EXPECT_MESSAGE(error_of([&] { read_checkpoint(dir); }),
                 "field 'loaders.real.index' has the wrong type");
  j = nlohmann::json::parse(read_text(json_of(good_)));
  j["train_options"]["learning_rate"] = 1;
  write_text(json_of(dir), j.dump());
  EXPECT_MESSAGE(error_of([&] { read_checkpoint(dir); }), "unknown key 'learning_rate'");
}

TEST_F(Checkpoint, RefusesMissingFiles) {
  const std::string no_tensors = copy(), no_json = copy();
  fs::remove(tensors_of(no_tensors));
  fs::remove(json_of(no_json));
  std::string m = error_of([&] { read_checkpoint(no_tensors); });
  EXPECT_MESSAGE(m, tensors_of(no_tensors));
  EXPECT_MESSAGE(m, "missing");
  m = error_of([&] { read_checkpoint(no_json); });
  EXPECT_MESSAGE(m, json_of(no_json));
  EXPECT_MESSAGE(m, "no checkpoint here");
}

TEST_F(Checkpoint, ResumeRefusesADamagedPairAndKeepsIt) {
  const std::string dir = copy();
  fs::resize_file(tensors_of(dir), 100);
  EXPECT_MESSAGE(error_of([&] { train(dir, 4, 3, /*resume=*/true); }), "truncated");
  EXPECT_EQ(fs::file_size(tensors_of(dir)), 100u);  // left for inspection, not overwritten
}

TEST_F(Checkpoint, ResumeRefusesOtherModelOptionsAndBatch) {
  const std::string dir = copy();
  auto j = nlohmann::json::parse(read_text(json_of(dir)));
  j["gan_options"]["width"] = 9;  // the tensor file is untouched, so only the options differ
  write_text(json_of(dir), j.dump());
  EXPECT_MESSAGE(error_of([&] { train(dir, 4, 3, true); }), "model options");

  TinyGan gan(TinyGanConfig{}, 3);
  models::data::DataLoader loader(std::make_shared<TinyDataset>(32, false), 4, 3);
  TrainOptions o = options_for(good_, 4);
  o.batch = 4;
  o.resume = true;
  Trainer trainer(gan, loader, o);
  EXPECT_MESSAGE(error_of([&] { trainer.run(); }), "trained with batch 8, this run has batch 4");
}

// A pair that checks out but whose tensors do not fit the model: refused by key and shape, and
// nothing is copied into the model.
TEST_F(Checkpoint, ShapeMismatchLoadsNothing) {
  const std::string dir = copy();
  auto tensors = load_safetensors(tensors_of(dir));
  tensors["D.w2"] = zeros({1, 5});
  models::train::write_checkpoint(dir, tensors, read_checkpoint(dir));

  TinyGan gan(TinyGanConfig{}, 99);
  const auto before = gan.generator().state_dict();
  std::map<std::string, Tensor> snapshot;
  for (const auto& [k, t] : before)
    snapshot[k] = t.clone();
  models::data::DataLoader loader(std::make_shared<TinyDataset>(32, false), 8, 3);
  TrainOptions o = options_for(dir, 4);
  o.resume = true;
  Trainer trainer(gan, loader, o);
  const std::string m = error_of([&] { trainer.load_checkpoint(); });
  EXPECT_MESSAGE(m, "tensor 'D.w2' has shape [1, 5], the model expects [1, 8]");
  EXPECT_TRUE(bitwise_equal(gan.generator().state_dict(), snapshot));
  EXPECT_EQ(trainer.step(), 0);
}

TEST(CheckpointFiles, Fnv1a64KnownAnswers) {
  const std::string dir = fresh_dir("fnv");
  const std::pair<const char*, uint64_t> cases[] = {
      {"", 0xcbf29ce484222325ull}, {"a", 0xaf63dc4c8601ec8cull}, {"foobar", 0x85944171f73967e8ull}};
  for (const auto& [text, hash] : cases) {
    const std::string path = (fs::path(dir) / "f").string();
    write_text(path, text);
    EXPECT_EQ(models::train::fnv1a64_file(path), hash) << "'" << text << "'";
  }
}

TEST(CheckpointFiles, TrainOptionsRoundTrip) {
  TrainOptions o;
  o.out_dir = "runs/x";
  o.steps = 123;
  o.batch = 7;
  o.seed = 0xfedcba9876543210ull;
  o.device = kCUDA;
  o.g_lr = 0.5f;
  o.n_critic = 5;
  o.clip_grad_norm = 2.5f;
  o.log_grad_norm = true;
  o.instance_noise = 0.25f;
  o.instance_noise_steps = 40;
  o.resume = true;
  o.progress = false;
  const TrainOptions r =
      models::train::train_options_from_json(models::train::train_options_to_json(o));
  EXPECT_EQ(r.out_dir, o.out_dir);
  EXPECT_EQ(r.steps, 123);
  EXPECT_EQ(r.batch, 7);
  EXPECT_EQ(r.seed, o.seed);
  EXPECT_TRUE(r.device == kCUDA);
  EXPECT_EQ(r.g_lr, 0.5f);
  EXPECT_EQ(r.d_lr, -1.f);
  EXPECT_EQ(r.n_critic, 5);
  EXPECT_EQ(r.clip_grad_norm, 2.5f);
  EXPECT_TRUE(r.log_grad_norm);
  EXPECT_EQ(r.instance_noise, 0.25f);
  EXPECT_EQ(r.instance_noise_steps, 40);
  EXPECT_TRUE(r.resume);
  EXPECT_FALSE(r.progress);
  EXPECT_MESSAGE(error_of([] { models::train::train_options_from_json(R"({"stepz": 1})"); }),
                 "unknown key 'stepz'");
  EXPECT_MESSAGE(error_of([] { models::train::train_options_from_json(R"({"steps": "x"})"); }),
                 "key 'steps' has the wrong type");
}

}  // namespace
}  // namespace ge::testing
