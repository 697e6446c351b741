// `gan sample`, `gan eval` and `train --eval-every`, run as a user would.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "ganengine/models/data/dataset.h"
#include "ganengine/models/npy.h"
#include "ganengine/models/train/checkpoint.h"
#include "models/app_test_util.h"
#include "models/train_test_util.h"

namespace ge::testing {
namespace {

namespace fs = std::filesystem;

// A 3-step gan-mlp run on ring8 with an evaluation every 2 steps.
std::string train_ring8(const std::string& name) {
  const std::string out = (fs::path(fresh_dir(name)) / "run").string();
  const AppResult r = run_gan("train --arch gan-mlp --data ring8 --out '" + out +
                              "' --steps 3 --batch 16 --width 8 --latent-dim 2 --eval-every 2 "
                              "--quiet");
  EXPECT_EQ(r.rc, 0) << r.output;
  return out;
}

TEST(GanEvalApp, TrainRecordsItsDataAndLogsEvaluations) {
  const std::string out = train_ring8("eval_every");
  EXPECT_EQ(models::train::read_checkpoint(out).train_options.data, "ring8");
  std::ifstream in(fs::path(out) / "eval.jsonl");
  std::string line;
  int lines = 0;
  while (std::getline(in, line)) {
    const auto j = nlohmann::json::parse(line);
    EXPECT_EQ(j["step"].get<int64_t>(), 2);
    EXPECT_EQ(j["eval"]["num_modes"].get<int64_t>(), 8);
    const int64_t captured = j["eval"]["modes_captured"].get<int64_t>();
    EXPECT_GE(captured, 0);
    EXPECT_LE(captured, 8);
    ++lines;
  }
  EXPECT_EQ(lines, 1);  // step 2 only; step 4 is past the run
}

TEST(GanEvalApp, EvalUsesTheCheckpointsDataAndWritesJson) {
  const std::string out = train_ring8("eval_cmd");
  const AppResult r = run_gan("eval --ckpt '" + out + "'");
  ASSERT_EQ(r.rc, 0) << r.output;
  EXPECT_NE(r.output.find("\"modes_captured\""), std::string::npos) << r.output;
  std::ifstream in(fs::path(out) / "eval.json");
  const auto j = nlohmann::json::parse(in);
  EXPECT_EQ(j["data"].get<std::string>(), "ring8");
  EXPECT_EQ(j["samples"].get<int64_t>(), 2500);
  // The real mixture captures every mode, with 1 - exp(-9/2) = 98.9% of its samples within 3
  // sigma of their mode (a 2-D Gaussian's radius is Rayleigh); 2,500 samples put the standard
  // error near 0.2%.
  EXPECT_EQ(j["modes_captured_real"].get<int64_t>(), 8);
  EXPECT_NEAR(j["high_quality_percent_real"].get<double>(), 98.89, 1.2);

  // Image metrics need the classifier: a clear error names the command that makes one.
  const AppResult bad = run_gan("eval --ckpt '" + out + "' --data mnist:/nonexistent");
  EXPECT_EQ(bad.rc, 1);
  EXPECT_NE(bad.output.find("error:"), std::string::npos) << bad.output;
}

TEST(GanEvalApp, SampleWritesNpyOfTheRequestedShape) {
  const std::string out = train_ring8("sample_cmd");
  const std::string npy = (fs::path(out) / "s.npy").string();
  AppResult r = run_gan("sample --ckpt '" + out + "' --n 700 --out '" + npy + "'");
  ASSERT_EQ(r.rc, 0) << r.output;
  const Tensor t = models::load_npy(npy);
  EXPECT_EQ(t.shape(), Shape({700, 2}));
  // Same seed, same samples; another seed, others.
  const std::string again = (fs::path(out) / "again.npy").string();
  ASSERT_EQ(run_gan("sample --ckpt '" + out + "' --n 700 --out '" + again + "'").rc, 0);
  EXPECT_EQ(models::load_npy(again).to_vector(), t.to_vector());
  const std::string other = (fs::path(out) / "other.npy").string();
  ASSERT_EQ(run_gan("sample --ckpt '" + out + "' --n 700 --seed 5 --out '" + other + "'").rc, 0);
  EXPECT_NE(models::load_npy(other).to_vector(), t.to_vector());

  r = run_gan("sample --ckpt '" + out + "/missing' --n 4");
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.output.find("checkpoint"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace ge::testing
