// The command-line apps, run as a user would: exit codes, messages and the files they write.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "ganengine/models/image_io.h"
#include "ganengine/models/train/checkpoint.h"
#include "ganengine/ops.h"
#include "ganengine/safetensors.h"
#include "models/app_test_util.h"
#include "models/train_test_util.h"

namespace ge::testing {
namespace {

namespace fs = std::filesystem;

TEST(GanApp, HelpListsCommandsAndOptions) {
  AppResult r = run_app("gan", "--help");
  EXPECT_EQ(r.rc, 0);
  EXPECT_OUTPUT(r, "train");
  EXPECT_OUTPUT(r, "generate");
  r = run_app("gan", "train --help");
  EXPECT_EQ(r.rc, 0);
  for (const char* option :
       {"--arch", "--data", "--out", "--steps", "--batch", "--seed", "--device", "--resume",
        "--g-lr", "--d-lr", "--n-critic", "--label-smoothing", "--clip-grad-norm",
        "--checkpoint-every", "--sample-every", "--loss", "--instance-noise",
        "--instance-noise-steps", "--log-grad-norm"})
    EXPECT_OUTPUT(r, option);
  r = run_app("gan", "generate --help");
  EXPECT_EQ(r.rc, 0);
  for (const char* option : {"--ckpt", "--n", "--out", "--truncation"})
    EXPECT_OUTPUT(r, option);
}

// The minimax loss, instance noise and gradient-norm logging from the command line, kept in
// the checkpoint; the minimax loss refused where the architecture has its own.
TEST(GanApp, MinimaxLossAndInstanceNoiseOptions) {
  const fs::path dir = fresh_dir("minimax");
  const std::string out = (dir / "run").string();
  AppResult r = run_app("gan", "train --arch gan-mlp --data ring8 --out '" + out +
                                   "' --steps 2 --batch 16 --width 8 --latent-dim 2 --loss "
                                   "minimax --instance-noise 0.2 --log-grad-norm --log-every 1 "
                                   "--quiet");
  ASSERT_EQ(r.rc, 0) << r.output;
  const auto record = models::train::read_checkpoint(out);
  EXPECT_EQ(record.gan_options.loss, "minimax");
  EXPECT_EQ(record.train_options.instance_noise, 0.2f);
  EXPECT_TRUE(record.train_options.log_grad_norm);
  EXPECT_NE(read_text((fs::path(out) / "metrics.jsonl").string()).find("\"g_grad_norm\""),
            std::string::npos);
  r = run_app("gan", "train --arch wgan-gp-mlp --data ring8 --out '" + (dir / "w").string() +
                         "' --steps 1 --loss minimax --quiet");
  EXPECT_NE(r.rc, 0);
  EXPECT_OUTPUT(r, "has its own loss");
  r = run_app("gan", "train --arch cyclegan --data typeset --data-b typeset --out '" +
                         (dir / "c").string() + "' --steps 1 --instance-noise 0.1 --quiet");
  EXPECT_NE(r.rc, 0);
  EXPECT_OUTPUT(r, "takes no instance noise");
}

// Progressive GAN from the command line: the growth options kept in the checkpoint with the
// stage reached, a resume, and a grid drawn from the grown model.
TEST(GanApp, ProganGrowsResumesAndGenerates) {
  const fs::path dir = fresh_dir("progan");
  const std::string out = (dir / "run").string();
  AppResult r = run_app("gan",
                        "train --arch progan --data typeset --resolution 8 --width 4 "
                        "--latent-dim 8 --batch 4 --stable-images 4 --fade-images 8 "
                        "--steps 2 --out '" +
                            out + "' --quiet");
  ASSERT_EQ(r.rc, 0) << r.output;
  auto record = models::train::read_checkpoint(out);
  EXPECT_EQ(record.gan_options.arch, "progan");
  EXPECT_EQ(record.gan_options.fade_images, 8);
  EXPECT_EQ(record.gan_options.stable_images, 4);
  r = run_app("gan", "train --out '" + out + "' --steps 3 --resume --quiet");
  ASSERT_EQ(r.rc, 0) << r.output;
  const auto tensors = load_safetensors(out + "/checkpoint.safetensors");
  EXPECT_EQ(tensors.at("state.progan.stage").item(), 1.f);
  EXPECT_EQ(tensors.at("state.progan.alpha").item(), 0.5f);  // step 3: 4 images into the fade
  EXPECT_EQ(tensors.at("state.progan.resolution").item(), 8.f);
  const std::string png = (dir / "gen.png").string();
  r = run_app("gan", "generate --ckpt '" + out + "' --n 16 --out '" + png + "'");
  ASSERT_EQ(r.rc, 0) << r.output;
  EXPECT_TRUE(fs::exists(png));
}

TEST(GanApp, TrainsResumesAndGeneratesOnRing8) {
  const fs::path dir = fresh_dir("ring8");
  const std::string out = (dir / "run").string();
  AppResult r = run_app("gan", "train --arch gan-mlp --data ring8 --out '" + out +
                                   "' --steps 2 --batch 16 --width 8 --latent-dim 2 --seed 1 "
                                   "--device cpu --quiet");
  ASSERT_EQ(r.rc, 0) << r.output;
  EXPECT_OUTPUT(r, "device: cpu\n");
  for (const char* f : {"checkpoint.json", "checkpoint.safetensors", "metrics.jsonl",
                        "loss_curve.png", "samples/final.png"})
    EXPECT_TRUE(fs::exists(fs::path(out) / f)) << f;
  EXPECT_EQ(models::train::read_checkpoint(out).step, 2);

  // Resuming takes the model and the unchanged settings from the checkpoint.
  r = run_app("gan", "train --out '" + out + "' --data ring8 --steps 3 --resume --quiet");
  ASSERT_EQ(r.rc, 0) << r.output;
  const auto record = models::train::read_checkpoint(out);
  EXPECT_EQ(record.step, 3);
  EXPECT_EQ(record.gan_options.arch, "gan-mlp");
  EXPECT_EQ(record.gan_options.width, 8);
  EXPECT_EQ(record.train_options.batch, 16);

  const std::string png = (dir / "gen.png").string();
  r = run_app("gan", "generate --ckpt '" + out + "' --n 32 --out '" + png + "'");
  ASSERT_EQ(r.rc, 0) << r.output;
  EXPECT_EQ(png_size(png), std::make_pair(560, 560));  // 2-D samples: a scatter plot
}

// A run on the CUDA device says what that device is: under the emulator, that it is one.
TEST(GanApp, AnnouncesTheCudaDevice) {
  if (!cuda_is_available()) GTEST_SKIP() << "no CUDA device (nor the emulator)";
  const fs::path dir = fresh_dir("cuda_device");
  const AppResult r =
      run_app("gan", "train --arch gan-mlp --data ring8 --out '" + (dir / "run").string() +
                         "' --steps 1 --batch 8 --width 8 --latent-dim 2 "
                         "--device cuda --quiet");
  ASSERT_EQ(r.rc, 0) << r.output;
  EXPECT_OUTPUT(r, "device: " + describe_device(kCUDA) + "\n");
  if (cuda_is_emulated()) {
    EXPECT_OUTPUT(r, "device: cuda:0 (CUDA emulator: a test tool");
  }
}

TEST(GanApp, ErrorsExitNonZeroWithAMessage) {
  const fs::path dir = fresh_dir("errors");
  AppResult r = run_app("gan", "train --arch nope --data ring8");
  EXPECT_NE(r.rc, 0);
  EXPECT_OUTPUT(r, "nope");
  r = run_app("gan", "generate --ckpt '" + (dir / "none").string() + "' --out x.png");
  EXPECT_EQ(r.rc, 1);
  EXPECT_OUTPUT(r, "error: ");
  EXPECT_OUTPUT(r, "checkpoint.json: no checkpoint here");
  r = run_app("gan",
              "train --arch dcgan --data ring8 --steps 1 --out '" + (dir / "x").string() + "'");
  EXPECT_EQ(r.rc, 1);
  EXPECT_OUTPUT(r, "--data ring8 holds 2-D points, but --arch dcgan models images");
  r = run_app("gan", "train --arch gan-mlp --data ring8 --steps 1 --device tpu --out '" +
                         (dir / "x").string() + "'");
  EXPECT_EQ(r.rc, 1);
  EXPECT_OUTPUT(r, "tpu");
  r = run_app("gan", "");
  EXPECT_NE(r.rc, 0);  // a subcommand is required
}

TEST(GanApp, CganGridsHaveOneRowPerClass) {
  const fs::path mnist = fs::path(GE_SOURCE_DIR) / "data" / "mnist";
  if (!fs::exists(mnist / "train-images-idx3-ubyte")) GTEST_SKIP() << "no MNIST in " << mnist;
  const fs::path dir = fresh_dir("cgan");
  AppResult r = run_app("gan", "train --arch cgan --data 'mnist:" + mnist.string() + "' --out '" +
                                   (dir / "run").string() +
                                   "' --steps 1 --batch 4 --width 4 --grid-size 20 --quiet");
  ASSERT_EQ(r.rc, 0) << r.output;
  // 20 samples over 10 classes: 10 rows of 2 images of 32x32, padding 2.
  EXPECT_EQ(png_size((dir / "run" / "samples" / "final.png").string()), std::make_pair(70, 342));
  r = run_app("gan", "generate --ckpt '" + (dir / "run").string() + "' --n 25 --out '" +
                         (dir / "g.png").string() + "'");
  ASSERT_EQ(r.rc, 0) << r.output;
  // 25 samples round up to 3 a class: 10 rows of 3.
  EXPECT_EQ(png_size((dir / "g.png").string()), std::make_pair(104, 342));
}

TEST(StyleganLiteApp, HelpNamesEveryCommand) {
  AppResult r = run_app("stylegan-lite", "--help");
  EXPECT_EQ(r.rc, 0);
  for (const char* command : {"train", "generate", "style-mix", "interpolate"})
    EXPECT_OUTPUT(r, command);
  r = run_app("stylegan-lite", "style-mix --help");
  EXPECT_EQ(r.rc, 0);
  for (const char* option : {"--ckpt", "--rows", "--cols", "--coarse-layers", "--out", "--device"})
    EXPECT_OUTPUT(r, option);
  r = run_app("stylegan-lite", "train --help");
  EXPECT_EQ(r.rc, 0);
  EXPECT_OUTPUT(r, "mnist:data/mnist");
  EXPECT_OUTPUT(r, "runs/stylegan-lite");
}

TEST(StyleganLiteApp, TrainsAndDrawsFigures) {
  const fs::path dir = fresh_dir("sg");
  // Four 8x8 RGB images as the data set.
  fs::create_directories(dir / "images");
  for (int i = 0; i < 4; ++i)
    models::save_image_grid((dir / "images" / ("im" + std::to_string(i) + ".png")).string(),
                            full({1, 3, 8, 8}, -0.5f + 0.25f * static_cast<float>(i)), 1, 0);
  const std::string run_dir = (dir / "run").string();
  AppResult r = run_app("stylegan-lite", "train --data 'images:" + (dir / "images").string() +
                                             "' --out '" + run_dir +
                                             "' --resolution 8 --width 4 --w-dim 8 --latent-dim 8 "
                                             "--mapping-layers 1 --batch 2 --steps 1 --grid-size 4 "
                                             "--quiet");
  ASSERT_EQ(r.rc, 0) << r.output;
  EXPECT_TRUE(fs::exists(fs::path(run_dir) / "samples" / "final.png"));

  const std::string ckpt = " --ckpt '" + run_dir + "' --out '";
  r = run_app("stylegan-lite",
              "generate --n 4 --truncation 0.7" + ckpt + (dir / "g.png").string() + "'");
  ASSERT_EQ(r.rc, 0) << r.output;
  EXPECT_EQ(png_size((dir / "g.png").string()), std::make_pair(22, 22));
  // (rows + 1) x (cols + 1) cells of 8x8 with padding 2.
  r = run_app("stylegan-lite",
              "style-mix --rows 2 --cols 3" + ckpt + (dir / "m.png").string() + "'");
  ASSERT_EQ(r.rc, 0) << r.output;
  EXPECT_EQ(png_size((dir / "m.png").string()), std::make_pair(42, 32));
  r = run_app("stylegan-lite",
              "interpolate --rows 2 --steps 3" + ckpt + (dir / "i.png").string() + "'");
  ASSERT_EQ(r.rc, 0) << r.output;
  EXPECT_EQ(png_size((dir / "i.png").string()), std::make_pair(32, 22));

  r = run_app("stylegan-lite",
              "style-mix --coarse-layers 99" + ckpt + (dir / "x.png").string() + "'");
  EXPECT_EQ(r.rc, 1);
  EXPECT_OUTPUT(r, "--coarse-layers 99 exceeds");

  // The default discriminator judges pairs, so an odd batch is refused, naming both numbers.
  r = run_app("stylegan-lite", "train --data 'images:" + (dir / "images").string() + "' --out '" +
                                   (dir / "odd").string() +
                                   "' --resolution 8 --width 4 --w-dim 8 --latent-dim 8 "
                                   "--mapping-layers 1 --batch 3 --steps 1 --quiet");
  EXPECT_EQ(r.rc, 1);
  EXPECT_OUTPUT(r, "multiple of 2; got 3 images");
}

TEST(StyleganLiteApp, RefusesOtherArchitectures) {
  const fs::path dir = fresh_dir("other");
  AppResult r =
      run_app("gan", "train --arch gan-mlp --data ring8 --steps 1 --batch 8 --width 4 --out '" +
                         (dir / "run").string() + "' --quiet");
  ASSERT_EQ(r.rc, 0) << r.output;
  r = run_app("stylegan-lite", "style-mix --ckpt '" + (dir / "run").string() + "' --out '" +
                                   (dir / "m.png").string() + "'");
  EXPECT_EQ(r.rc, 1);
  EXPECT_OUTPUT(r, "holds a gan-mlp checkpoint; this command needs stylegan-lite");
}

}  // namespace
}  // namespace ge::testing
