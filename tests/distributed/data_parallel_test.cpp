// The trainer's data-parallel path in one process per rank: the start from rank 0's networks,
// sharded loaders, output written by rank 0 only, a NaN on one rank stopping all of them, and
// SyncBatchNorm against batch norm over the whole global batch. Run alone, each test sees a
// world of one (some then skip); under mpirun -np 2 every rank runs it.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "ganengine/autograd.h"
#include "ganengine/batch_norm.h"
#include "ganengine/distributed.h"
#include "ganengine/error.h"
#include "ganengine/models/train/checkpoint.h"
#include "ganengine/nn/batch_norm.h"
#include "ganengine/ops.h"
#include "models/tiny_gan.h"
#include "models/train_test_util.h"
#include "support/reference.h"

namespace ge {
namespace {

namespace dist = ge::distributed;
namespace fs = std::filesystem;
using models::data::DataLoader;
using models::data::Shard;
using testing::TinyDataset;
using testing::TinyGan;
using testing::TinyGanConfig;

Shard this_shard() {
  return {dist::get_rank(), dist::get_world_size()};
}

// rank 0's out_dir is shared by name; each rank gets its own scratch parent, so that a write by
// any other rank would show.
std::string rank_dir(const std::string& name) {
  return testing::fresh_dir(name + "_rank" + std::to_string(dist::get_rank())) + "/run";
}

::testing::AssertionResult same_on_every_rank(const Tensor& t) {
  const std::vector<Tensor> all = dist::all_gather(t);
  for (size_t r = 0; r < all.size(); ++r)
    if (all[r].to_vector() != all[0].to_vector())
      return ::testing::AssertionFailure() << "rank " << r << " differs from rank 0";
  return ::testing::AssertionSuccess();
}

TEST(DataParallelLoader, RanksTakeTheirRowsOfTheGlobalBatch) {
  const Shard shard = this_shard();
  const int64_t batch = 3;
  auto data = std::make_shared<TinyDataset>(40, false);
  DataLoader mine(data, batch, 11, kCPU, 0, shard);
  DataLoader global(data, batch * shard.count, 11, kCPU, 0);
  EXPECT_EQ(mine.batches_per_epoch(), global.batches_per_epoch());
  // Two epochs' worth: the shards follow the one-process order across epoch boundaries too.
  for (int64_t i = 0; i < 2 * global.batches_per_epoch(); ++i) {
    const Tensor x = mine.next().x;
    const Tensor want = global.next().x.slice(0, shard.index * batch, (shard.index + 1) * batch);
    ASSERT_EQ(x.to_vector(), want.contiguous().to_vector()) << "batch " << i;
  }
}

TEST(DataParallelLoader, ALoaderOfAnotherShardIsRefused) {
  TinyGan gan(TinyGanConfig{});
  const int world = dist::get_world_size();
  DataLoader loader(std::make_shared<TinyDataset>(64, false), 4, 5, kCPU, 0, Shard{0, world + 1});
  const std::string msg = testing::error_of([&] {
    models::train::Trainer trainer(gan, loader, testing::quiet_run(rank_dir("refused"), 1, 4, 5));
  });
  EXPECT_NE(msg.find("loader reads shard 0 of " + std::to_string(world + 1)), std::string::npos)
      << msg;
}

TEST(DataParallelTrainer, NetworksStartAsRankZeros) {
  // Every rank initialises with its own seed; the trainer starts all of them from rank 0's.
  TinyGan gan(TinyGanConfig{}, 100 + static_cast<uint64_t>(dist::get_rank()));
  TinyGan rank0(TinyGanConfig{}, 100);
  DataLoader loader(std::make_shared<TinyDataset>(64, false), 4, 5, kCPU, 0, this_shard());
  models::train::Trainer trainer(gan, loader, testing::quiet_run(rank_dir("start"), 1, 4, 5));
  const auto want = rank0.generator().named_parameters();
  const auto got = gan.generator().named_parameters();
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i)
    EXPECT_EQ(got[i].second.to_vector(), want[i].second.to_vector()) << got[i].first;
  for (const auto& [name, p] : gan.discriminator().named_parameters())
    EXPECT_TRUE(same_on_every_rank(p)) << name;
}

TEST(DataParallelTrainer, OnlyRankZeroWritesAndEveryRankEndsTheSame) {
  TinyGan gan(TinyGanConfig{.image = false, .nan_loss_at = -1, .n_critic = 2});
  DataLoader loader(std::make_shared<TinyDataset>(64, false), 4, 5, kCPU, 0, this_shard());
  const std::string dir = rank_dir("writes");
  models::train::TrainOptions o = testing::quiet_run(dir, 6, 4, 5);
  o.log_every = 2;
  models::train::Trainer trainer(gan, loader, o);
  trainer.run();
  EXPECT_EQ(trainer.step(), 6);
  if (dist::get_rank() == 0) {
    EXPECT_TRUE(fs::exists(dir + "/checkpoint.json"));
    EXPECT_TRUE(fs::exists(dir + "/samples/final.png"));
    const std::string metrics = testing::read_text(dir + "/metrics.jsonl");
    EXPECT_EQ(std::count(metrics.begin(), metrics.end(), '\n'), 3) << metrics;
  } else {
    EXPECT_FALSE(fs::exists(dir)) << "rank " << dist::get_rank() << " wrote " << dir;
  }
  // The gradients were averaged and the buffers follow rank 0: the networks agree everywhere.
  for (nn::Module* net : {&gan.generator(), &gan.discriminator()})
    for (const auto& [name, t] : net->state_dict())
      EXPECT_TRUE(same_on_every_rank(t)) << name;
}

TEST(DataParallelTrainer, ANanOnOneRankStopsEveryRank) {
  const int world = dist::get_world_size();
  if (world < 2) GTEST_SKIP() << "needs two ranks";
  // Only the last rank's generator loss turns NaN, at step index 1 (the second step).
  TinyGanConfig config;
  config.nan_loss_at = dist::get_rank() == world - 1 ? 1 : -1;
  TinyGan gan(config);
  DataLoader loader(std::make_shared<TinyDataset>(64, false), 4, 5, kCPU, 0, this_shard());
  const std::string dir = rank_dir("nan");
  models::train::TrainOptions o = testing::quiet_run(dir, 5, 4, 5);
  o.checkpoint_every = 1;
  models::train::Trainer trainer(gan, loader, o);
  const std::string msg = testing::error_of([&] { trainer.run(); });
  EXPECT_NE(msg.find("step 2: generator loss is nan"), std::string::npos) << msg;
  EXPECT_EQ(trainer.step(), 1);
  if (dist::get_rank() == 0) {
    // The last good checkpoint stays: step 1's.
    const models::train::CheckpointRecord r = models::train::read_checkpoint(dir);
    EXPECT_EQ(r.step, 1);
    EXPECT_EQ(r.world_size, world);
  }
}

// Rank r's input to the batch-norm tests: [2 + r, 3, 2, 2], rank-dependent sizes and values.
Tensor bn_input(int rank) {
  Generator g(40 + static_cast<uint64_t>(rank));
  return randn({2 + rank, 3, 2, 2}, {}, &g) * (1.f + static_cast<float>(rank)) +
         static_cast<float>(rank);
}

Tensor bn_weighting(int rank) {
  Generator g(70 + static_cast<uint64_t>(rank));
  return randn({2 + rank, 3, 2, 2}, {}, &g);
}

TEST(SyncBatchNorm, MatchesBatchNormOverTheGlobalBatchToSecondOrder) {
  const int rank = dist::get_rank(), world = dist::get_world_size();
  // This rank's part, through the synchronised layer.
  nn::BatchNorm2d sync_bn(3);
  EXPECT_EQ(nn::convert_sync_batchnorm(sync_bn), 1);
  {
    NoGradGuard no_grad;
    sync_bn.weight.copy_(from_vector({0.5f, 1.5f, -1.f}, {3}));
    sync_bn.bias.copy_(from_vector({0.1f, -0.2f, 0.3f}, {3}));
  }
  Tensor x = bn_input(rank).requires_grad_(true);
  const Tensor y = sync_bn.forward(x);
  // A second-order loss: the squared input gradient of sum(y * c), differentiated again.
  Tensor gx = grad({sum(y * bn_weighting(rank))}, {x}, {}, true)[0];
  const Tensor second = sum(square(gx));
  const std::vector<Tensor> gw = grad({second}, {sync_bn.weight}, {}, false);
  Tensor gw_sum = gw[0].clone();
  dist::all_reduce(gw_sum);

  // The reference: plain batch norm (the fused kernel) over every rank's rows at once.
  nn::BatchNorm2d plain(3);
  {
    NoGradGuard no_grad;
    plain.weight.copy_(sync_bn.weight);
    plain.bias.copy_(sync_bn.bias);
  }
  std::vector<Tensor> xs, cs;
  int64_t first = 0;
  for (int r = 0; r < world; ++r) {
    xs.push_back(bn_input(r));
    cs.push_back(bn_weighting(r));
    if (r < rank) first += 2 + r;
  }
  Tensor all_x = cat(xs, 0).requires_grad_(true);
  const Tensor all_y = plain.forward(all_x);
  Tensor all_gx = grad({sum(all_y * cat(cs, 0))}, {all_x}, {}, true)[0];
  const Tensor all_gw = grad({sum(square(all_gx))}, {plain.weight}, {}, false)[0];

  const int64_t rows = 2 + rank;
  EXPECT_TRUE(testing::all_close(y, all_y.slice(0, first, first + rows), 1e-5, 1e-5));
  EXPECT_TRUE(testing::all_close(gx, all_gx.slice(0, first, first + rows), 1e-5, 1e-4));
  EXPECT_TRUE(testing::all_close(gw_sum, all_gw, 1e-4, 1e-4));
  EXPECT_TRUE(testing::all_close(sync_bn.running_mean, plain.running_mean, 1e-6, 1e-5));
  EXPECT_TRUE(testing::all_close(sync_bn.running_var, plain.running_var, 1e-6, 1e-5));
}

TEST(AllReduceSum, ItsGradientIsTheSumOfEveryRanksGradient) {
  const int rank = dist::get_rank(), world = dist::get_world_size();
  Tensor x = from_vector({1.f, 2.f, 3.f}, {3}).requires_grad_(true);
  const Tensor a = full({3}, static_cast<float>(rank + 1));
  const Tensor y = dist::all_reduce_sum(x * a);  // sum_r (r + 1) * x
  EXPECT_EQ(y.to_vector(), (x * static_cast<float>(world * (world + 1) / 2)).to_vector());
  // d/dx_r sum(y * b) with b = (1, 2, 3) on every rank: (r + 1) * world * b.
  const Tensor b = from_vector({1.f, 2.f, 3.f}, {3});
  Tensor g = grad({sum(y * b)}, {x}, {}, true)[0];
  EXPECT_EQ(g.to_vector(), (b * static_cast<float>((rank + 1) * world)).to_vector());
  // Second order: d/dx sum(g * x) = g (g does not depend on x), through the all-reduce's backward.
  const Tensor gg = grad({sum(g * x)}, {x}, {}, false)[0];
  EXPECT_EQ(gg.to_vector(), g.to_vector());
}

}  // namespace
}  // namespace ge
