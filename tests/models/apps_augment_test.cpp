// `gan augment` run as a user would: a cGAN trained on a balanced subset of a small MNIST-format
// directory, the synthetic digits it writes, the three classifier accuracies, drawing from the
// trained cGAN again with --ckpt, and the inputs it refuses.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "data_test_util.h"
#include "ganengine/models/npy.h"
#include "ganengine/models/train/checkpoint.h"
#include "models/app_test_util.h"
#include "models/train_test_util.h"

namespace ge::testing {
namespace {

namespace fs = std::filesystem;

TEST(GanAugment, TrainsACganWritesDigitsAndScoresThreeClassifiers) {
  datatest::ScratchDir mnist, out;
  datatest::write_block_mnist(mnist, "train", 40, 1);
  datatest::write_block_mnist(mnist, "t10k", 20, 2);
  const std::string run = out.file("a");
  AppResult r = run_gan("augment --data '" + mnist.str() + "' --real 20 --synthetic 30 " +
                        "--gan-steps 2 --classifier-steps 3 --out '" + run + "' --quiet");
  ASSERT_EQ(r.rc, 0) << r.output;
  EXPECT_OUTPUT(r, "real only");
  const auto report = nlohmann::json::parse(read_text(run + "/augment.json"));
  EXPECT_EQ(report.at("real"), 20);
  EXPECT_EQ(report.at("synthetic"), 30);
  EXPECT_EQ(report.at("test_samples"), 20);
  EXPECT_EQ(report.at("gan_steps"), 2);
  EXPECT_EQ(report.at("instance_noise"), 1.0);
  for (const char* key :
       {"accuracy_real", "accuracy_real_synthetic", "classification_accuracy_score"}) {
    const double a = report.at(key).get<double>();
    EXPECT_TRUE(a >= 0.0 && a <= 1.0) << key << " " << a;
  }
  const auto record = models::train::read_checkpoint(run + "/cgan");
  EXPECT_EQ(record.gan_options.arch, "cgan");
  EXPECT_EQ(record.gan_options.num_classes, 10);
  EXPECT_EQ(record.step, 2);
  EXPECT_EQ(record.train_options.batch, 20);
  EXPECT_EQ(record.train_options.instance_noise, 1.f);
  const Tensor images = models::load_npy(run + "/synthetic_images.npy");
  const Tensor labels = models::load_npy(run + "/synthetic_labels.npy");
  EXPECT_EQ(images.shape(), (Shape{30, 1, 32, 32}));
  ASSERT_EQ(labels.shape(), (Shape{30}));
  const std::vector<float> ids = labels.to_vector();
  for (size_t i = 0; i < ids.size(); ++i)
    EXPECT_EQ(ids[i], static_cast<float>(i % 10));
  for (float v : images.to_vector())
    ASSERT_TRUE(v >= -1.f && v <= 1.f);

  // Again from the trained cGAN: no training, the same digits.
  const std::string again = out.file("b");
  r = run_gan("augment --data '" + mnist.str() + "' --real 20 --synthetic 30 --ckpt '" + run +
              "/cgan' --classifier-steps 3 --out '" + again + "' --quiet");
  ASSERT_EQ(r.rc, 0) << r.output;
  const auto second = nlohmann::json::parse(read_text(again + "/augment.json"));
  EXPECT_FALSE(second.contains("gan_steps") || second.contains("instance_noise"));
  EXPECT_FALSE(fs::exists(again + "/cgan"));
  EXPECT_EQ(models::load_npy(again + "/synthetic_images.npy").to_vector(), images.to_vector());
  EXPECT_EQ(second.at("accuracy_real"), report.at("accuracy_real"));

  r = run_gan("augment --data '" + mnist.str() + "' --real 15 --out '" + out.file("c") + "'");
  EXPECT_NE(r.rc, 0);
  EXPECT_OUTPUT(r, "--real 15: expected a positive multiple of 10");
  r = run_gan("augment --data '" + mnist.str() + "' --real 50 --out '" + out.file("d") + "'");
  EXPECT_NE(r.rc, 0);
  EXPECT_OUTPUT(r, "fewer than the 5 asked for");
}

}  // namespace
}  // namespace ge::testing
