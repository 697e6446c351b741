// DataLoader: seeded per-epoch shuffles, drop_last, exact resumption through state/set_state,
// and a prefetch thread that changes nothing the caller sees.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "ganengine/error.h"
#include "ganengine/models/data/loader.h"
#include "support/devices.h"
#include "support/reference.h"

namespace ge::models::data {
namespace {

using ge::testing::error_of;

// Sample i is [2, 3] with values i + k / 8 (exact in float); label i % 3.
class Counting : public Dataset {
 public:
  explicit Counting(int64_t n, bool labelled = true, int64_t poison = -1)
      : n_(n), labelled_(labelled), poison_(poison) {}
  std::string name() const override { return "counting"; }
  int64_t size() const override { return n_; }
  Shape sample_shape() const override { return {2, 3}; }
  int64_t num_classes() const override { return labelled_ ? 3 : 0; }
  void get(int64_t index, float* out) const override {
    if (index == poison_) fail("counting: sample ", index, " is unreadable");
    for (int k = 0; k < 6; ++k)
      out[k] = static_cast<float>(index) + static_cast<float>(k) / 8.f;
  }
  int64_t label(int64_t index) const override { return labelled_ ? index % 3 : -1; }

 private:
  int64_t n_;
  bool labelled_;
  int64_t poison_;
};

// The sample indices of a batch, checking that every element is the sample it claims to be.
std::vector<int64_t> indices(const Batch& b, bool labelled = true) {
  const Tensor x = b.x;
  EXPECT_EQ(x.dim(), 3);
  const std::vector<float> v = x.to_vector();
  const int64_t n = x.size(0);
  std::vector<float> labels;
  if (labelled) {
    EXPECT_TRUE(b.labels.defined());
    EXPECT_EQ(b.labels.shape(), (Shape{n}));
    labels = b.labels.to_vector();
  } else {
    EXPECT_FALSE(b.labels.defined());
  }
  std::vector<int64_t> out;
  for (int64_t i = 0; i < n; ++i) {
    const auto index = static_cast<int64_t>(v[static_cast<size_t>(6 * i)]);
    for (int k = 0; k < 6; ++k)
      EXPECT_EQ(v[static_cast<size_t>(6 * i + k)], static_cast<float>(index) + k / 8.f);
    if (labelled) {
      EXPECT_EQ(labels[static_cast<size_t>(i)], static_cast<float>(index % 3));
    }
    out.push_back(index);
  }
  return out;
}

std::vector<std::vector<int64_t>> take(DataLoader& loader, int count) {
  std::vector<std::vector<int64_t>> out;
  for (int i = 0; i < count; ++i)
    out.push_back(indices(loader.next()));
  return out;
}

TEST(DataLoader, EveryIndexOncePerEpochWithDropLast) {
  DataLoader loader(std::make_shared<Counting>(10), 3, 7);
  EXPECT_EQ(loader.batches_per_epoch(), 3);
  EXPECT_EQ(loader.batch_size(), 3);
  EXPECT_EQ(loader.dataset().size(), 10);
  for (int epoch = 0; epoch < 3; ++epoch) {
    std::set<int64_t> seen;
    for (int b = 0; b < 3; ++b) {
      const Batch batch = loader.next();
      EXPECT_EQ(batch.x.shape(), (Shape{3, 2, 3}));
      EXPECT_EQ(batch.x.device(), kCPU);
      for (int64_t i : indices(batch)) {
        EXPECT_GE(i, 0);
        EXPECT_LT(i, 10);
        EXPECT_TRUE(seen.insert(i).second) << "index " << i << " twice in epoch " << epoch;
      }
    }
    EXPECT_EQ(seen.size(), 9u);  // one sample dropped
  }
}

TEST(DataLoader, StateCountsBatchesAndEpochs) {
  DataLoader loader(std::make_shared<Counting>(10), 4, 1);
  const std::vector<std::pair<int64_t, int64_t>> want = {{0, 0}, {0, 1}, {1, 0}, {1, 1}, {2, 0}};
  for (const auto& [epoch, index] : want) {
    const LoaderState s = loader.state();
    EXPECT_EQ(s.epoch, epoch);
    EXPECT_EQ(s.index, index);
    loader.next();
  }
}

TEST(DataLoader, SameSeedSameOrderOtherEpochOrSeedDiffers) {
  const auto data = std::make_shared<Counting>(64);
  DataLoader a(data, 64, 42), b(data, 64, 42), c(data, 64, 43);
  const auto ea = take(a, 2), eb = take(b, 2), ec = take(c, 2);
  EXPECT_EQ(ea, eb);
  EXPECT_NE(ea[0], ea[1]) << "epochs 0 and 1 share an order";
  EXPECT_NE(ea[0], ec[0]) << "seeds 42 and 43 share an order";
  std::vector<int64_t> identity(64);
  for (int i = 0; i < 64; ++i)
    identity[static_cast<size_t>(i)] = i;
  EXPECT_NE(ea[0], identity) << "epoch 0 is not shuffled";
  std::vector<int64_t> sorted = ea[1];
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, identity);
}

TEST(DataLoader, PrefetchDepthChangesNothing) {
  const auto data = std::make_shared<Counting>(23);
  DataLoader none(data, 5, 9, kCPU, 0), one(data, 5, 9, kCPU, 1), many(data, 5, 9, kCPU, 6);
  const auto want = take(none, 13);
  EXPECT_EQ(take(one, 13), want);
  EXPECT_EQ(take(many, 13), want);
  EXPECT_EQ(none.state().epoch, many.state().epoch);
  EXPECT_EQ(none.state().index, many.state().index);
}

TEST(DataLoader, SetStateResumesExactly) {
  const auto data = std::make_shared<Counting>(17);
  for (int64_t prefetch : {0, 3}) {
    DataLoader first(data, 4, 5, kCPU, prefetch);
    take(first, 6);  // into epoch 1
    const LoaderState saved = first.state();
    EXPECT_EQ(saved.epoch, 1);
    EXPECT_EQ(saved.index, 2);
    const auto want = take(first, 7);

    DataLoader resumed(data, 4, 5, kCPU, prefetch);
    resumed.next();  // something already prefetched and consumed: set_state must drop it
    resumed.set_state(saved);
    EXPECT_EQ(resumed.state().epoch, 1);
    EXPECT_EQ(resumed.state().index, 2);
    EXPECT_EQ(take(resumed, 7), want) << "prefetch " << prefetch;

    first.set_state(saved);  // rewinding works too
    EXPECT_EQ(take(first, 7), want) << "prefetch " << prefetch;
  }
}

TEST(DataLoader, UnlabelledBatchesHaveNoLabels) {
  DataLoader loader(std::make_shared<Counting>(8, false), 8, 3);
  EXPECT_EQ(indices(loader.next(), false).size(), 8u);
}

TEST(DataLoader, WorkerErrorsSurfaceInNextAtTheSameBatch) {
  const auto data = std::make_shared<Counting>(12, true, 7);
  for (int64_t prefetch : {0, 2}) {
    DataLoader loader(data, 3, 4, kCPU, prefetch);
    int good = 0;
    std::string msg;
    for (; good < 4; ++good) {
      msg = error_of([&] { loader.next(); });
      if (msg != "<no error>") break;
    }
    EXPECT_LT(good, 4) << "sample 7 was never read";
    EXPECT_NE(msg.find("sample 7 is unreadable"), std::string::npos) << msg;
    EXPECT_EQ(loader.state().index, good) << "a failed batch must not advance the state";
    // Still failing at the same place; set_state gets past it.
    EXPECT_NE(error_of([&] { loader.next(); }).find("unreadable"), std::string::npos);
    if (good + 1 < loader.batches_per_epoch()) {
      loader.set_state({0, good + 1});
      EXPECT_EQ(error_of([&] { loader.next(); }), "<no error>");
    }
  }
}

TEST(DataLoader, DestructionWithAFullQueueReturns) {
  const auto data = std::make_shared<Counting>(50);
  for (int i = 0; i < 20; ++i) {
    DataLoader loader(data, 2, static_cast<uint64_t>(i), kCPU, 4);
    if (i % 2) loader.next();
  }
}

TEST(DataLoader, ArgumentsAreChecked) {
  const auto data = std::make_shared<Counting>(10);
  EXPECT_NE(error_of([&] { DataLoader(data, 0, 1); }).find("batch size in [1, 10]"),
            std::string::npos);
  EXPECT_NE(error_of([&] { DataLoader(data, 11, 1); }).find("got 11"), std::string::npos);
  EXPECT_NE(error_of([&] { DataLoader(data, 2, 1, kCPU, -1); }).find("prefetch"),
            std::string::npos);
  EXPECT_NE(error_of([&] { DataLoader(nullptr, 2, 1); }).find("null"), std::string::npos);
  DataLoader loader(data, 3, 1);
  EXPECT_NE(error_of([&] { loader.set_state({0, 3}); }).find("[0, 3)"), std::string::npos);
  EXPECT_NE(error_of([&] { loader.set_state({-1, 0}); }).find("epoch"), std::string::npos);
}

class DataLoaderDevice : public DeviceTest {};

TEST_P(DataLoaderDevice, BatchesLandOnTheDevice) {
  DataLoader loader(std::make_shared<Counting>(6), 2, 3, device());
  DataLoader host(std::make_shared<Counting>(6), 2, 3, kCPU);
  const Batch b = loader.next();
  EXPECT_EQ(b.x.device(), device());
  EXPECT_EQ(b.labels.device(), device());
  EXPECT_EQ(indices(b), indices(host.next()));
}

GE_INSTANTIATE_DEVICE_TEST(DataLoaderDevice);

}  // namespace
}  // namespace ge::models::data
