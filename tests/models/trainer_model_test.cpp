// The trainer on a model that is not a G/D pair: two data slots, optimizer groups named by the
// model, a learning-rate schedule, and extra state (a buffer of past fakes) that resume must
// restore. The model is written here, apart from the library's architectures.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "ganengine/autograd.h"
#include "ganengine/models/model.h"
#include "ganengine/models/train/checkpoint.h"
#include "ganengine/models/train/trainer.h"
#include "ganengine/ops.h"
#include "models/tiny_gan.h"
#include "models/train_test_util.h"
#include "support/devices.h"
#include "support/reference.h"

namespace ge::testing {
namespace {

namespace fs = std::filesystem;
using models::train::Trainer;
using models::train::TrainOptions;

// F maps domain A to B, D_B judges B. Group "F" trains F against D_B with a least-squares
// loss plus an identity term; group "D" trains D_B on real B and on the fakes F made on the
// previous step (held in `last_fake`, the extra state).
class TwoDomainModel : public models::Model {
 public:
  explicit TwoDomainModel(uint64_t seed = 1) : Model(options()) {
    Generator g(seed);
    f_ = std::make_shared<TinyMlp>(2, 8, 2, g);
    d_ = std::make_shared<TinyMlp>(2, 8, 1, g);
    last_fake_ = zeros({4, 2});
  }
  static models::GanOptions options() {
    models::GanOptions o;
    o.arch = "two-domain";
    o.channels = 0;
    return o;
  }
  std::vector<std::pair<std::string, nn::Module*>> networks() override {
    return {{"F", f_.get()}, {"D_B", d_.get()}};
  }
  models::TrainDefaults train_defaults() const override {
    models::TrainDefaults t;
    t.lr_decay_steps = -1;  // half of the run
    return t;
  }
  std::vector<models::OptimizerGroup> optimizer_groups(const models::TrainSettings& s) override {
    models::OptimizerGroup f{"F", "translator", {"F"}, {}, {s.steps, s.lr_decay_steps}};
    f.adam.lr = 0.01f;
    models::OptimizerGroup d{"D", "discriminator", {"D_B"}, {}, {s.steps, s.lr_decay_steps}};
    d.adam.lr = 0.02f;
    return {f, d};
  }
  std::vector<models::Phase> schedule(const models::TrainSettings&) override {
    models::Phase f{"F", 1, true, "g_loss", [this](models::StepContext& ctx) {
                      if (ctx.step == fail_at_) fail("killed at step ", ctx.step);
                      const Tensor a = ctx.batch("A").x;
                      if (last_fake_.device() != a.device()) last_fake_ = last_fake_.to(a.device());
                      const Tensor fake = f_->forward(a);
                      fake_ = fake.detach();
                      frozen_d_.push_back(!d_->parameters()[0].requires_grad());
                      const Tensor adv = square(d_->forward(fake) - 1.f).mean();
                      return models::LossResult{adv + abs(fake - a).mean(), {}};
                    }};
    models::Phase d{"D", 1, false, "d_loss", [this](models::StepContext& ctx) {
                      seen_b_.push_back(ctx.batch("B").x.to_vector());
                      const Tensor real = square(d_->forward(ctx.batch("B").x) - 1.f).mean();
                      const Tensor fake = square(d_->forward(last_fake_)).mean();
                      last_fake_ = fake_;
                      return models::LossResult{real + fake, {}};
                    }};
    return {f, d};
  }
  std::vector<models::DataSlot> data_slots() const override {
    return {{"A", "domain A", {2}, false}, {"B", "domain B", {2}, false}};
  }
  std::map<std::string, Tensor> extra_state() const override { return {{"last_fake", last_fake_}}; }
  void load_extra_state(const std::map<std::string, Tensor>& state,
                        const std::string& file) override {
    auto it = state.find("last_fake");
    GE_CHECK(it != state.end(), file, ": missing tensor 'state.last_fake'");
    GE_CHECK(it->second.shape() == last_fake_.shape(), file, ": 'state.last_fake' has shape ",
             to_string(it->second.shape()));
    last_fake_ = it->second.to(last_fake_.device());
  }
  class NoSampler : public models::Sampler {
    void write(const std::string&) override {}
  };
  std::unique_ptr<models::Sampler> make_sampler(const models::SamplerInputs& in) override {
    EXPECT_EQ(in.datasets.size(), 2u);
    return std::make_unique<NoSampler>();
  }

  int64_t fail_at_ = -1;
  std::vector<bool> frozen_d_;
  std::vector<std::vector<float>> seen_b_;

 private:
  std::shared_ptr<TinyMlp> f_, d_;
  Tensor last_fake_, fake_;
};

TrainOptions options_for(const std::string& dir, int64_t steps, Device device = kCPU) {
  TrainOptions o;
  o.out_dir = dir;
  o.steps = steps;
  o.batch = 4;
  o.seed = 5;
  o.device = device;
  o.sample_every = 0;
  o.progress = false;
  return o;
}

struct TwoDomainRun {
  std::shared_ptr<TinyDataset> a = std::make_shared<TinyDataset>(12, false);
  std::shared_ptr<TinyDataset> b = std::make_shared<TinyDataset>(20, false);
  TwoDomainModel model;
  void train(const TrainOptions& o) {
    models::data::DataLoader la(a, o.batch, o.seed, o.device), lb(b, o.batch, o.seed + 1, o.device);
    Trainer trainer(model, {{"A", &la}, {"B", &lb}}, o);
    trainer.run();
  }
};

std::map<std::string, Tensor> tensors_of(const std::string& dir) {
  return models::train::read_checkpoint_tensors(dir);
}

TEST(LrSchedule, DecaysLinearlyOverTheLastStepsAsCycleGan) {
  // CycleGAN's lambda_rule per epoch: 1 - max(0, epoch - n_epochs + 1) / (n_epochs_decay + 1),
  // with 6 constant and 4 decaying epochs.
  const models::LrSchedule s{10, 4};
  const float expected[10] = {1, 1, 1, 1, 1, 1, 0.8f, 0.6f, 0.4f, 0.2f};
  for (int64_t step = 0; step < 10; ++step)
    EXPECT_NEAR(s.factor(step), expected[step], 1e-6f) << step;
  EXPECT_EQ((models::LrSchedule{10, 0}.factor(9)), 1.f);
}

TEST(TrainerModel, DrawsEverySlotAndFreezesTheOtherGroup) {
  TwoDomainRun run;
  const std::string dir = fresh_dir("run");
  run.train(options_for(dir, 3));
  ASSERT_EQ(run.model.frozen_d_.size(), 3u);
  for (bool frozen : run.model.frozen_d_)
    EXPECT_TRUE(frozen) << "D_B's parameters required grad during group F's loss";
  // The D phase sees the batch the F phase drew: 3 distinct B batches of 4 points.
  ASSERT_EQ(run.model.seen_b_.size(), 3u);
  EXPECT_NE(run.model.seen_b_[0], run.model.seen_b_[1]);
  const auto r = models::train::read_checkpoint(dir);
  EXPECT_EQ(r.loaders.at("A").index, 0);  // 3 batches of 12: the next is batch 0 of epoch 1
  EXPECT_EQ(r.loaders.at("A").epoch, 1);
  EXPECT_EQ(r.loaders.at("B").index, 3);
  EXPECT_EQ(r.optimizers.at("F").steps, 3);
  EXPECT_EQ(r.optimizers.at("D").lr, 0.02f);
  ASSERT_TRUE(r.optimizers.at("D").schedule.has_value());
  EXPECT_EQ(r.optimizers.at("D").schedule->decay_steps, 1);  // half of 3 steps
  EXPECT_EQ(tensors_of(dir).count("state.last_fake"), 1u);
  EXPECT_EQ(tensors_of(dir).count("F.w1"), 1u);
  EXPECT_EQ(tensors_of(dir).count("opt.D.exp_avg.0"), 1u);
}

TEST(TrainerModel, FirstUpdateMovesByTheScheduledRate) {
  // Adam's first step moves each weight by lr * g / (|g| + eps), i.e. by lr where |g| >> eps.
  TwoDomainRun run;
  const std::string dir = fresh_dir("run");
  TrainOptions o = options_for(dir, 1);
  o.lr_decay_steps = 1;  // the only step runs at 1 / 2 of the base rate
  const std::vector<float> before = run.model.network("F").parameters()[0].to_vector();
  run.train(o);
  const std::vector<float> after = run.model.network("F").parameters()[0].to_vector();
  for (size_t i = 0; i < before.size(); ++i)
    EXPECT_NEAR(std::fabs(after[i] - before[i]), 0.005f, 1e-4f) << i;
}

TEST(TrainerModel, ResumeRefusesAnotherSchedule) {
  TwoDomainRun run;
  const std::string dir = fresh_dir("run");
  run.train(options_for(dir, 4));
  TrainOptions longer = options_for(dir, 8);
  longer.resume = true;
  TwoDomainRun resumed;
  const std::string m = error_of([&] { resumed.train(longer); });
  EXPECT_NE(m.find("decay over the last 2 of 4 steps"), std::string::npos) << m;
  EXPECT_NE(m.find("keep --steps and --lr-decay-steps"), std::string::npos) << m;
}

TEST(TrainerModel, RefusesMissingSlotsAndABadExtraState) {
  TwoDomainRun run;
  const std::string dir = fresh_dir("run");
  models::data::DataLoader la(run.a, 4, 0);
  std::string m = error_of([&] { Trainer(run.model, {{"A", &la}}, options_for(dir, 1)); });
  EXPECT_NE(m.find("reads data slots 'A', 'B' but 1 loader(s) were given"), std::string::npos) << m;
  m = error_of([&] { Trainer(run.model, {{"A", &la}, {"C", &la}}, options_for(dir, 1)); });
  EXPECT_NE(m.find("no loader for 'B' (domain B)"), std::string::npos) << m;

  run.train(options_for(dir, 2));
  auto tensors = tensors_of(dir);
  tensors.erase("state.last_fake");
  const auto record = models::train::read_checkpoint(dir);
  models::train::write_checkpoint(dir, tensors, record);
  TwoDomainRun resumed;
  const auto before = resumed.model.network("F").state_dict().at("w1").to_vector();
  TrainOptions o = options_for(dir, 2);
  o.resume = true;
  m = error_of([&] { resumed.train(o); });
  EXPECT_NE(m.find("missing tensor 'state.last_fake'"), std::string::npos) << m;
  EXPECT_EQ(resumed.model.network("F").state_dict().at("w1").to_vector(), before);
}

class TrainerModelResume : public DeviceTest {};

TEST_P(TrainerModelResume, IsBitwiseIdenticalToAStraightRunMidSchedule) {
  const Device device = GetParam();
  const std::string straight = fresh_dir("straight"), split = fresh_dir("split");
  TwoDomainRun a;
  a.train(options_for(straight, 6, device));
  // The same run, killed in its fifth step (inside the decay over the last 3 steps) after a
  // checkpoint at step 4, then resumed by a new process.
  TwoDomainRun b;
  b.model.fail_at_ = 4;
  TrainOptions o = options_for(split, 6, device);
  o.checkpoint_every = 4;
  EXPECT_NE(error_of([&] { b.train(o); }).find("killed"), std::string::npos);
  ASSERT_EQ(models::train::read_checkpoint(split).step, 4);
  TwoDomainRun c;
  o.resume = true;
  c.train(o);
  EXPECT_TRUE(bitwise_equal(tensors_of(straight), tensors_of(split)));
  EXPECT_EQ(models::train::read_checkpoint(split).rng_offset,
            models::train::read_checkpoint(straight).rng_offset);
}

GE_INSTANTIATE_DEVICE_TEST(TrainerModelResume);

}  // namespace
}  // namespace ge::testing
