// `gan train --arch srresnet|srgan`, `gan upscale` and `gan eval` on super-resolution checkpoints,
// run as a user would: a tiny SRResNet on MNIST-format digits (7x7 to 28x28) and on a folder of
// photographs, SRGAN from it with --init, and the inputs upscale must refuse.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data_test_util.h"
#include "models/app_test_util.h"
#include "models/train_test_util.h"

namespace ge::testing {
namespace {

namespace fs = std::filesystem;

std::string sh_quoted(const std::string& path) {
  return "'" + path + "'";
}

// A colour pattern with edges, so an upscale has something to do.
void write_rgb(const std::string& path, int w, int h, int seed) {
  std::vector<unsigned char> px(static_cast<size_t>(w * h * 3));
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c)
        px[static_cast<size_t>((y * w + x) * 3 + c)] =
            static_cast<unsigned char>(((x / 3 + y / 2 + c + seed) % 4) * 70 + (x * y) % 30);
  ASSERT_TRUE(stbi_write_png(path.c_str(), w, h, 3, px.data(), w * 3));
}

void write_gray(const std::string& path, int w, int h) {
  std::vector<unsigned char> px(static_cast<size_t>(w * h));
  for (int i = 0; i < w * h; ++i)
    px[static_cast<size_t>(i)] = static_cast<unsigned char>((i * 53) % 256);
  ASSERT_TRUE(stbi_write_png(path.c_str(), w, h, 1, px.data(), w));
}

// One set of runs shared by the tests: a 2-step SRResNet of width 4 with one block on 20 MNIST-
// format digits (bright blocks), a 2-step RGB SRResNet on 24x24 crops of three photographs (test/
// beside train/), and a 2-step SRGAN initialised from it.
class SrApp : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = fs::temp_directory_path() / ("ge_SrApp_" + std::to_string(::getpid()));
    fs::remove_all(root_);
    const std::string mnist = file("mnist");
    fs::create_directories(mnist);
    datatest::write_block_mnist(mnist, "train", 20, 1);
    datatest::write_block_mnist(mnist, "t10k", 20, 2);
    digits_ = file("digits");
    digits_train_ = run_gan("train --arch srresnet --data mnist:" + sh_quoted(mnist) +
                            " --resolution 28 --width 4 --sr-blocks 1 --steps 2 --batch 4 --out " +
                            sh_quoted(digits_) + " --quiet");
    fs::create_directories(file("photos/train"));
    fs::create_directories(file("photos/test"));
    for (int i = 0; i < 2; ++i)
      write_rgb(file("photos/train/p" + std::to_string(i) + ".png"), 40 + 8 * i, 32, i);
    write_rgb(file("photos/test/t.png"), 33, 30, 5);  // cropped to 32x28 for the x4 pairs
    photos_ = file("srresnet");
    photos_train_ =
        run_gan("train --arch srresnet --data folder:" + sh_quoted(file("photos/train")) +
                " --resolution 24 --width 4 --sr-blocks 1 --steps 2 --batch 2 --out " +
                sh_quoted(photos_) + " --quiet");
    srgan_ = file("srgan");
    srgan_train_ = run_gan("train --arch srgan --data folder:" + sh_quoted(file("photos/train")) +
                           " --resolution 24 --width 4 --sr-blocks 1 --steps 2 --batch 2 --init " +
                           sh_quoted(photos_) + " --content-loss features --out " +
                           sh_quoted(srgan_) + " --quiet");
  }
  static void TearDownTestSuite() {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  static std::string file(const std::string& name) { return (root_ / name).string(); }
  void SetUp() override {
    ASSERT_EQ(digits_train_.rc, 0) << digits_train_.output;
    ASSERT_EQ(photos_train_.rc, 0) << photos_train_.output;
    ASSERT_EQ(srgan_train_.rc, 0) << srgan_train_.output;
  }

  static inline fs::path root_;
  static inline std::string digits_, photos_, srgan_;
  static inline AppResult digits_train_, photos_train_, srgan_train_;
};

TEST_F(SrApp, SrganStartsFromTheSrResNetGenerator) {
  EXPECT_OUTPUT(srgan_train_, "G from " + photos_);
  const nlohmann::json saved =
      nlohmann::json::parse(read_text((fs::path(srgan_) / "checkpoint.json").string()));
  EXPECT_EQ(saved["train_options"]["init"], photos_);
}

TEST_F(SrApp, UpscaleWritesFourTimesTheSizeAndTilesWithoutSeams) {
  const std::string in = file("odd.png");
  write_rgb(in, 9, 7, 3);
  const std::string whole = file("whole.png"), tiled = file("tiled.png");
  const AppResult a = run_gan("upscale --ckpt " + sh_quoted(photos_) + " --in " + sh_quoted(in) +
                              " --out " + sh_quoted(whole) + " --tile 0");
  ASSERT_EQ(a.rc, 0) << a.output;
  const AppResult b = run_gan("upscale --ckpt " + sh_quoted(photos_) + " --in " + sh_quoted(in) +
                              " --out " + sh_quoted(tiled) + " --tile 2");
  ASSERT_EQ(b.rc, 0) << b.output;
  const datatest::Decoded w = datatest::decode_png(whole), t = datatest::decode_png(tiled);
  EXPECT_EQ(w.width, 36);
  EXPECT_EQ(w.height, 28);
  EXPECT_EQ(w.channels, 3);
  ASSERT_EQ(w.pixels.size(), t.pixels.size());
  int worst = 0;
  for (size_t i = 0; i < w.pixels.size(); ++i)
    worst = std::max(worst, std::abs(static_cast<int>(w.pixels[i]) - t.pixels[i]));
  EXPECT_LE(worst, 1);  // float rounding may tip a value across a level
  // A directory in, a directory of <name>.png out.
  const std::string out_dir = file("up");
  const AppResult c = run_gan("upscale --ckpt " + sh_quoted(digits_) + " --in " +
                              sh_quoted(file("photos/test")) + " --out " + sh_quoted(out_dir));
  // The digits model is gray: an RGB photograph is refused rather than silently made gray.
  EXPECT_NE(c.rc, 0);
  EXPECT_OUTPUT(c, "t.png' has 3 channels (RGB), but the model upscales 1-channel images");
  const std::string gray = file("gray/g.png");
  fs::create_directories(file("gray"));
  write_gray(gray, 6, 5);
  const AppResult d = run_gan("upscale --ckpt " + sh_quoted(digits_) + " --in " +
                              sh_quoted(file("gray")) + " --out " + sh_quoted(out_dir));
  ASSERT_EQ(d.rc, 0) << d.output;
  const datatest::Decoded g = datatest::decode_png((fs::path(out_dir) / "g.png").string());
  EXPECT_EQ(g.width, 24);
  EXPECT_EQ(g.height, 20);
  EXPECT_EQ(g.channels, 1);
}

TEST_F(SrApp, UpscaleRefusesWhatIsNotAnImage) {
  const std::string junk = file("junk.png");
  datatest::write_bytes(junk, {'n', 'o', 't', ' ', 'a', 'n', ' ', 'i', 'm', 'a', 'g', 'e'});
  const AppResult a = run_gan("upscale --ckpt " + sh_quoted(photos_) + " --in " + sh_quoted(junk) +
                              " --out " + sh_quoted(file("x.png")));
  EXPECT_NE(a.rc, 0);
  EXPECT_OUTPUT(a, "cannot decode '" + junk + "'");
  const std::string tiny = file("tiny.png");
  write_rgb(tiny, 1, 1, 0);
  const AppResult b = run_gan("upscale --ckpt " + sh_quoted(photos_) + " --in " + sh_quoted(tiny) +
                              " --out " + sh_quoted(file("y.png")));
  EXPECT_NE(b.rc, 0);
  EXPECT_OUTPUT(b, "tiny.png' is 1x1; expected at least 4x4 pixels");
  EXPECT_FALSE(fs::exists(file("y.png")));
  // A checkpoint of another kind of model is refused by name.
  const std::string mlp = file("mlp");
  const AppResult t =
      run_gan("train --arch gan-mlp --data ring8 --steps 1 --batch 8 --width 8 --out " +
              sh_quoted(mlp) + " --quiet");
  ASSERT_EQ(t.rc, 0) << t.output;
  const AppResult c = run_gan("upscale --ckpt " + sh_quoted(mlp) + " --in " + sh_quoted(tiny) +
                              " --out " + sh_quoted(file("z.png")));
  EXPECT_NE(c.rc, 0);
  EXPECT_OUTPUT(c, "arch gan-mlp is not a super-resolution model");
}

TEST_F(SrApp, CropsSideBySide) {
  const std::string fig = file("crops.png");
  const std::string photo = file("photos/test/t.png");
  const AppResult a =
      run_gan("sr-crops --ckpt " + sh_quoted(photos_) + " --ckpt " + sh_quoted(srgan_) + " --in " +
              sh_quoted(photo) + " --crop 4,6,8 --zoom 2 --out " + sh_quoted(fig));
  ASSERT_EQ(a.rc, 0) << a.output;
  // Four panels (bicubic, two models, the original) of 8 px zoomed to 16, 4 px apart.
  const datatest::Decoded d = datatest::decode_png(fig);
  EXPECT_EQ(d.width, 4 * (16 + 4) + 4);
  EXPECT_EQ(d.height, 16 + 8);
  // The last panel is the original region, each pixel repeated 2x2.
  const datatest::Decoded original = datatest::decode_png(photo);
  for (int yy = 0; yy < 16; ++yy)
    for (int xx = 0; xx < 16; ++xx)
      for (int c = 0; c < 3; ++c)
        ASSERT_EQ(d.pixels[static_cast<size_t>(((4 + yy) * d.width + 3 * 20 + 4 + xx) * 3 + c)],
                  original.pixels[static_cast<size_t>(((6 + yy / 2) * 33 + 4 + xx / 2) * 3 + c)])
            << yy << " " << xx;
  const AppResult b = run_gan("sr-crops --ckpt " + sh_quoted(photos_) + " --in " +
                              sh_quoted(photo) + " --crop 30,0,8 --out " + sh_quoted(fig));
  EXPECT_NE(b.rc, 0);
  EXPECT_OUTPUT(b, "--crop 30,0,8: the region must lie in the 32x28 image");
}

TEST_F(SrApp, EvalReportsPsnrAndSsimBesideBicubic) {
  const std::string report = file("photos_eval.json");
  const AppResult a = run_gan("eval --ckpt " + sh_quoted(photos_) + " --out " + sh_quoted(report));
  ASSERT_EQ(a.rc, 0) << a.output;
  const nlohmann::json j = nlohmann::json::parse(read_text(report));
  // The held-out photographs: test/ beside the train/ folder the run trained on.
  EXPECT_EQ(j["eval_data"], file("photos/test"));
  EXPECT_EQ(j["images"], 1);
  ASSERT_EQ(j["per_image"].size(), 1u);
  EXPECT_EQ(j["per_image"][0]["name"], "t.png");
  EXPECT_EQ(j["per_image"][0]["width"], 33);
  for (const char* key : {"psnr", "bicubic_psnr"}) {
    EXPECT_GT(j[key].get<double>(), 3.0) << key;
    EXPECT_LT(j[key].get<double>(), 60.0) << key;
  }
  for (const char* key : {"ssim", "bicubic_ssim"}) {
    EXPECT_GT(j[key].get<double>(), -1.0) << key;
    EXPECT_LE(j[key].get<double>(), 1.0) << key;
  }
  const std::string digits_report = file("digits_eval.json");
  const AppResult b =
      run_gan("eval --ckpt " + sh_quoted(digits_) + " --n 5 --out " + sh_quoted(digits_report));
  ASSERT_EQ(b.rc, 0) << b.output;
  const nlohmann::json k = nlohmann::json::parse(read_text(digits_report));
  EXPECT_EQ(k["images"], 5);
  EXPECT_EQ(k["scale"], 4);
  EXPECT_NE(k["eval_data"].get<std::string>().find("(test split)"), std::string::npos);
}

}  // namespace
}  // namespace ge::testing
