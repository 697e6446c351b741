// `gan translate`, and `gan eval` and `train --eval-every` on a CycleGAN, run as a user would on
// a tiny run between typeset digits and a small MNIST directory.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data_test_util.h"
#include "ganengine/models/classifier.h"
#include "ganengine/models/train/checkpoint.h"
#include "models/app_test_util.h"
#include "models/train_test_util.h"

namespace ge::testing {
namespace {

namespace fs = std::filesystem;

std::string shell_quoted(const std::string& path) {
  return "'" + path + "'";
}

// One run shared by the tests: 20 MNIST-format digits (bright blocks) per split, a classifier
// with random weights, and a 3-step CycleGAN of width 4 with one residual block that evaluates
// at step 2.
class CycleGanApp : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // No test is running yet, so no ScratchDir: a directory of the process's own.
    root_ = fs::temp_directory_path() / ("ge_CycleGanApp_" + std::to_string(::getpid()));
    fs::remove_all(root_);
    const std::string mnist = file("mnist");
    fs::create_directories(mnist);
    for (const char* prefix : {"train", "t10k"}) {
      std::vector<unsigned char> pixels, labels;
      for (int i = 0; i < 20; ++i) {
        const int top = (i * 5) % 18, left = (i * 3) % 18;
        for (int y = 0; y < 28; ++y)
          for (int x = 0; x < 28; ++x)
            pixels.push_back(y >= top && y < top + 8 && x >= left && x < left + 6 ? 255 : 0);
        labels.push_back(static_cast<unsigned char>(i % 10));
      }
      datatest::write_bytes((fs::path(mnist) / (std::string(prefix) + "-images-idx3-ubyte")),
                            datatest::idx_images(pixels, 20));
      datatest::write_bytes((fs::path(mnist) / (std::string(prefix) + "-labels-idx1-ubyte")),
                            datatest::idx_labels(labels));
    }
    mnist_spec_ = "mnist:" + mnist;
    classifier_ = file("classifier");
    Generator g(1);
    models::MnistClassifier net(g);
    models::save_classifier(classifier_, net, {});
    run_ = file("run");
    train_ = run_gan("train --arch cyclegan --data-a typeset --data-b " +
                     shell_quoted(mnist_spec_) + " --out " + shell_quoted(run_) +
                     " --steps 3 --width 4 --resnet-blocks 1 --eval-every 2 --eval-samples 4 "
                     "--classifier " +
                     shell_quoted(classifier_) + " --quiet");
  }
  static void TearDownTestSuite() {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  static std::string file(const std::string& name) { return (root_ / name).string(); }
  void SetUp() override { ASSERT_EQ(train_.rc, 0) << train_.output; }

  static inline fs::path root_;
  static inline std::string mnist_spec_, classifier_, run_;
  static inline AppResult train_;
};

// A colour pattern, wider than tall, so that the crop, the resize and the conversion to gray
// all have work to do.
void write_pattern_png(const std::string& path, int seed) {
  const int w = 40, h = 24;
  std::vector<unsigned char> rgb(static_cast<size_t>(w * h * 3));
  for (int i = 0; i < w * h; ++i)
    for (int c = 0; c < 3; ++c)
      rgb[static_cast<size_t>(i * 3 + c)] = static_cast<unsigned char>((i * (c + 3) + seed) % 256);
  ASSERT_TRUE(stbi_write_png(path.c_str(), w, h, 3, rgb.data(), w * 3)) << path;
}

// Decodes a translated image and checks that it has the model's size and is not blank.
void expect_translation(const std::string& path) {
  const datatest::Decoded d = datatest::decode_png(path);
  EXPECT_EQ(d.width, 32) << path;
  EXPECT_EQ(d.height, 32) << path;
  EXPECT_EQ(d.channels, 1) << path;  // the run's domains are one-channel
  ASSERT_FALSE(d.pixels.empty()) << path;
  const auto [lo, hi] = std::minmax_element(d.pixels.begin(), d.pixels.end());
  EXPECT_LT(*lo, *hi) << path << " is one flat colour";
}

TEST_F(CycleGanApp, TranslatesOneFile) {
  const std::string in = file("one.png"), out = file("one_out");
  write_pattern_png(in, 1);
  for (const char* direction : {"a2b", "b2a"}) {
    const AppResult r =
        run_gan("translate --ckpt " + shell_quoted(run_) + " --direction " + direction + " --in " +
                shell_quoted(in) + " --out " + shell_quoted(out));
    ASSERT_EQ(r.rc, 0) << r.output;
    expect_translation((fs::path(out) / "one.png").string());
  }
}

TEST_F(CycleGanApp, TranslatesEveryImageOfADirectory) {
  const std::string in = file("dir_in"), out = file("dir_out");
  fs::create_directories(in);
  write_pattern_png((fs::path(in) / "b.png").string(), 2);
  write_pattern_png((fs::path(in) / "a.png").string(), 3);
  std::vector<unsigned char> gray(20 * 20);
  for (size_t i = 0; i < gray.size(); ++i)
    gray[i] = static_cast<unsigned char>(i * 7);
  ASSERT_TRUE(stbi_write_bmp((fs::path(in) / "c.bmp").string().c_str(), 20, 20, 1, gray.data()));
  write_text((fs::path(in) / "notes.txt").string(), "not an image");
  const AppResult r = run_gan("translate --ckpt " + shell_quoted(run_) + " --direction a2b --in " +
                              shell_quoted(in) + " --out " + shell_quoted(out));
  ASSERT_EQ(r.rc, 0) << r.output;
  EXPECT_OUTPUT(r, "3 images");
  std::vector<std::string> written;
  for (const auto& e : fs::directory_iterator(out))
    written.push_back(e.path().filename().string());
  std::sort(written.begin(), written.end());
  EXPECT_EQ(written, std::vector<std::string>({"a.png", "b.png", "c.png"}));
  for (const std::string& name : written)
    expect_translation((fs::path(out) / name).string());
  // Different inputs, different translations.
  EXPECT_NE(read_text((fs::path(out) / "a.png").string()),
            read_text((fs::path(out) / "b.png").string()));
}

TEST_F(CycleGanApp, TranslateErrorsNameTheCulprit) {
  const std::string in = file("err_in"), out = file("err_out");
  fs::create_directories(in);
  const std::string png = (fs::path(in) / "x.png").string();
  write_pattern_png(png, 4);
  const std::string args = " --in " + shell_quoted(png) + " --out " + shell_quoted(out);

  AppResult r =
      run_gan("translate --ckpt " + shell_quoted(file("nowhere")) + " --direction a2b" + args);
  EXPECT_EQ(r.rc, 1);
  EXPECT_OUTPUT(r, "nowhere");
  EXPECT_OUTPUT(r, "checkpoint");

  const std::string ring = file("ring");
  ASSERT_EQ(run_gan("train --arch gan-mlp --data ring8 --out " + shell_quoted(ring) +
                    " --steps 1 --batch 8 --width 8 --latent-dim 2 --quiet")
                .rc,
            0);
  r = run_gan("translate --ckpt " + shell_quoted(ring) + " --direction a2b" + args);
  EXPECT_EQ(r.rc, 1);
  EXPECT_OUTPUT(r, "gan-mlp");
  EXPECT_OUTPUT(r, "not an image-to-image model");

  r = run_gan("translate --ckpt " + shell_quoted(run_) + " --direction sideways" + args);
  EXPECT_EQ(r.rc, 1);
  EXPECT_OUTPUT(r, "sideways");
  EXPECT_OUTPUT(r, "a2b or b2a");

  const std::string broken = (fs::path(in) / "broken.png").string();
  write_text(broken, "not a png");
  r = run_gan("translate --ckpt " + shell_quoted(run_) + " --direction b2a --in " +
              shell_quoted(in) + " --out " + shell_quoted(out));
  EXPECT_EQ(r.rc, 1);
  EXPECT_OUTPUT(r, broken);
  EXPECT_OUTPUT(r, "cannot decode");

  const std::string empty = file("empty");
  fs::create_directories(empty);
  r = run_gan("translate --ckpt " + shell_quoted(run_) + " --direction a2b --in " +
              shell_quoted(empty) + " --out " + shell_quoted(out));
  EXPECT_EQ(r.rc, 1);
  EXPECT_OUTPUT(r, empty);
  EXPECT_OUTPUT(r, "holds no PNG, JPEG or BMP files");

  r = run_gan("translate --ckpt " + shell_quoted(run_) + " --direction a2b --in " +
              shell_quoted(file("missing.png")) + " --out " + shell_quoted(out));
  EXPECT_EQ(r.rc, 1);
  EXPECT_OUTPUT(r, "missing.png");
}

const char* const kReportKeys[] = {"arch",
                                   "data_a",
                                   "data_b",
                                   "eval_data_a",
                                   "eval_data_b",
                                   "samples",
                                   "cycle_l1_A",
                                   "cycle_samples_A",
                                   "cycle_l1_B",
                                   "cycle_samples_B",
                                   "label_direction",
                                   "label_samples",
                                   "label_preservation",
                                   "label_preservation_baseline",
                                   "frechet_distance",
                                   "frechet_distance_baseline",
                                   "mnist_test_samples",
                                   "classifier_test_accuracy"};

TEST_F(CycleGanApp, EvalReportsEveryTranslationMetric) {
  const AppResult r = run_gan("eval --ckpt " + shell_quoted(run_) + " --n 6 --classifier " +
                              shell_quoted(classifier_));
  ASSERT_EQ(r.rc, 0) << r.output;
  std::ifstream in(fs::path(run_) / "eval.json");
  const auto j = nlohmann::json::parse(in);
  for (const char* key : kReportKeys)
    EXPECT_TRUE(j.contains(key)) << key << " missing from " << j.dump(2);
  EXPECT_EQ(j["arch"], "cyclegan");
  EXPECT_EQ(j["data_a"], "typeset");
  EXPECT_EQ(j["data_b"], mnist_spec_);
  EXPECT_EQ(j["label_direction"], "a2b");
  EXPECT_EQ(j["label_samples"], 6);
  EXPECT_EQ(j["cycle_samples_A"], 6);
  EXPECT_EQ(j["cycle_samples_B"], 6);
  EXPECT_EQ(j["mnist_test_samples"], 20);
  for (const char* key : {"label_preservation", "label_preservation_baseline"}) {
    EXPECT_GE(j[key].get<double>(), 0.0) << key;
    EXPECT_LE(j[key].get<double>(), 1.0) << key;
  }
  for (const char* key : {"cycle_l1_A", "cycle_l1_B"}) {
    EXPECT_GT(j[key].get<double>(), 0.0) << key;
    EXPECT_LE(j[key].get<double>(), 2.0) << key;
  }
  EXPECT_GE(j["frechet_distance"].get<double>(), 0.0);

  // Deterministic: the same report again.
  const std::string first = read_text((fs::path(run_) / "eval.json").string());
  ASSERT_EQ(run_gan("eval --ckpt " + shell_quoted(run_) + " --n 6 --classifier " +
                    shell_quoted(classifier_))
                .rc,
            0);
  EXPECT_EQ(read_text((fs::path(run_) / "eval.json").string()), first);
}

TEST_F(CycleGanApp, TrainsOneImagePairAtATimeUnlessToldOtherwise) {
  // The run gave no --batch: CycleGAN's default (the reference's batch 1), not the app's 32.
  EXPECT_EQ(models::train::read_checkpoint(run_).batch, 1);
}

TEST_F(CycleGanApp, TrainingEvaluatesTheTranslations) {
  std::ifstream in(fs::path(run_) / "eval.jsonl");
  std::string line;
  int lines = 0;
  while (std::getline(in, line)) {
    const auto j = nlohmann::json::parse(line);
    EXPECT_EQ(j["step"].get<int64_t>(), 2);
    EXPECT_EQ(j["eval"]["cycle_samples_A"].get<int64_t>(), 4);
    EXPECT_TRUE(j["eval"].contains("label_preservation")) << line;
    ++lines;
  }
  EXPECT_EQ(lines, 1);
}

// Colour domains (image folders): a gray input is read as three channels, and the report has the
// cycles but no classifier metrics.
TEST(CycleGanColourApp, GrayInputsAndCyclesOnlyReport) {
  const std::string root = fresh_dir("colour"), images = root + "/images", run = root + "/run";
  fs::create_directories(images);
  write_pattern_png(images + "/p.png", 5);
  write_pattern_png(images + "/q.png", 6);
  const std::string domain = shell_quoted("images:" + images);
  AppResult r =
      run_gan("train --arch cyclegan --data-a " + domain + " --data-b " + domain + " --out " +
              shell_quoted(run) +
              " --steps 2 --width 4 --resnet-blocks 1 --resolution 16 --d-layers 1 --quiet");
  ASSERT_EQ(r.rc, 0) << r.output;

  std::vector<unsigned char> gray(24 * 24);
  for (size_t i = 0; i < gray.size(); ++i)
    gray[i] = static_cast<unsigned char>(i * 5);
  const std::string in = root + "/gray.png";
  ASSERT_TRUE(stbi_write_png(in.c_str(), 24, 24, 1, gray.data(), 24));
  r = run_gan("translate --ckpt " + shell_quoted(run) + " --direction b2a --in " +
              shell_quoted(in) + " --out " + shell_quoted(root + "/out"));
  ASSERT_EQ(r.rc, 0) << r.output;
  EXPECT_OUTPUT(r, "1 image translated");
  const datatest::Decoded d = datatest::decode_png(root + "/out/gray.png");
  EXPECT_EQ(d.width, 16);
  EXPECT_EQ(d.height, 16);
  EXPECT_EQ(d.channels, 3);

  r = run_gan("eval --ckpt " + shell_quoted(run) + " --n 5 --classifier " +
              shell_quoted(root + "/no_classifier"));
  ASSERT_EQ(r.rc, 0) << r.output;
  std::ifstream report(fs::path(run) / "eval.json");
  const auto j = nlohmann::json::parse(report);
  EXPECT_EQ(j["cycle_samples_A"], 2);  // the folder's two images, not 5
  EXPECT_GT(j["cycle_l1_B"].get<double>(), 0.0);
  EXPECT_TRUE(j.contains("classifier_metrics")) << j.dump(2);
  EXPECT_FALSE(j.contains("label_preservation")) << j.dump(2);
}

TEST_F(CycleGanApp, HelpDescribesTranslate) {
  AppResult r = run_gan("--help");
  EXPECT_EQ(r.rc, 0);
  EXPECT_OUTPUT(r, "translate");
  r = run_gan("translate --help");
  EXPECT_EQ(r.rc, 0);
  for (const char* part :
       {"--ckpt", "--direction", "--in", "--out", "--device", "a2b", "b2a", "Example"})
    EXPECT_OUTPUT(r, part);
  r = run_gan("eval --help");
  EXPECT_OUTPUT(r, "--data-b");
}

}  // namespace
}  // namespace ge::testing
