// The Classification Accuracy Score against two stand-in conditional GANs that draw typeset
// digits: one labels them right (the classifier trained on its samples reads the held-out
// digits well), one draws the next digit for each label (the score must collapse); and the
// refusals.
#include "ganengine/models/metrics/classification_accuracy_score.h"

#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "ganengine/models/data/dataset.h"
#include "ganengine/nn/sequential.h"
#include "ganengine/ops.h"
#include "models/gan_test_util.h"
#include "support/reference.h"

namespace ge::testing {
namespace {

using models::GanOptions;

// Draws, for label c, a typeset digit of class (c + shift) % 10 chosen by the latent.
class TypesetGan : public models::Gan {
 public:
  TypesetGan(std::shared_ptr<models::data::Dataset> digits, int64_t shift)
      : Gan(options()), digits_(std::move(digits)), shift_(shift) {
    for (int64_t i = 0; i < digits_->size(); ++i)
      by_class_[static_cast<size_t>(digits_->label(i))].push_back(i);
  }
  static GanOptions options() {
    GanOptions o;
    o.arch = "typeset";
    o.channels = 1;
    o.resolution = 32;
    o.num_classes = 10;
    o.latent_dim = 4;
    return o;
  }
  nn::Module& generator() override { return g_; }
  nn::Module& discriminator() override { return d_; }
  Tensor generate(const Tensor& z, const Tensor& labels, bool, float) override {
    const std::vector<float> zs = z.to_vector(), ys = labels.to_vector();
    const int64_t n = z.size(0);
    std::vector<float> out(static_cast<size_t>(n * 32 * 32));
    for (int64_t i = 0; i < n; ++i) {
      const auto c =
          static_cast<size_t>((static_cast<int64_t>(ys[static_cast<size_t>(i)]) + shift_) % 10);
      const auto& pool = by_class_[c];
      const auto pick =
          static_cast<size_t>(std::fabs(zs[static_cast<size_t>(i * 4)]) * 1000.f) % pool.size();
      digits_->get(pool[pick], out.data() + i * 32 * 32);
    }
    return from_vector(out, {n, 1, 32, 32}, z.device());
  }
  Tensor discriminate(const Tensor& x, const Tensor&) override { return x.flatten(1).mean({1}); }
  models::LossResult discriminator_loss(const Tensor&, const Tensor&,
                                        models::StepContext&) override {
    return {};
  }
  models::LossResult generator_loss(int64_t, const Tensor&, models::StepContext&) override {
    return {};
  }

 private:
  std::shared_ptr<models::data::Dataset> digits_;
  int64_t shift_;
  std::vector<int64_t> by_class_[10];
  nn::Sequential g_, d_;
};

TEST(ClassificationAccuracyScore, HighForRightLabelsAndCollapsesForWrongOnes) {
  const models::data::ImageFormat format{32, 1};
  const auto train = models::data::make_typeset_digits(format, 2000, 0, "train");
  const auto test = models::data::make_typeset_digits(format, 500, 0, "test");
  models::metrics::EvalOptions options;
  options.batch = 250;
  TypesetGan right(train, 0), shifted(train, 1);

  const auto samples = models::metrics::labelled_samples(right, 30, options);
  ASSERT_EQ(samples->size(), 30);
  for (int64_t i = 0; i < 30; ++i)
    EXPECT_EQ(samples->label(i), i % 10);

  const auto good =
      models::metrics::classification_accuracy_score(right, *test, 1000, 120, options);
  const auto bad =
      models::metrics::classification_accuracy_score(shifted, *test, 1000, 120, options);
  EXPECT_EQ(good.samples, 1000);
  EXPECT_EQ(good.classifier_steps, 120);
  EXPECT_GT(good.accuracy, 0.8) << "a classifier trained on rightly labelled digits";
  EXPECT_LT(bad.accuracy, 0.2) << "a classifier trained on digits labelled one off";
}

TEST(ClassificationAccuracyScore, RefusesModelsItCannotScore) {
  Generator g(1);
  GanOptions o = models::gantest::tiny_options("dcgan", kCPU);
  auto dcgan = models::make_gan(o, g);
  const auto digits = models::data::make_typeset_digits({32, 1}, 20, 0, "test");
  EXPECT_NE(
      error_of([&] { models::metrics::labelled_samples(*dcgan, 10, {}); }).find("is unconditional"),
      std::string::npos);
  EXPECT_NE(error_of([&] {
              models::metrics::classification_accuracy_score(*dcgan, *digits, 10, 10, {});
            }).find("expected a conditional model of 10 classes drawing [1, 32, 32] digits"),
            std::string::npos);
}

}  // namespace
}  // namespace ge::testing
