// Stacked MNIST over tiny IDX files written here: every channel is exactly the source digit its
// label names, labels are 100 d0 + 10 d1 + d2, the draw is a pure function of (seed, index), it
// reaches every source digit, and the source and spec errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "data_test_util.h"
#include "ganengine/error.h"
#include "ganengine/models/data/dataset.h"
#include "support/reference.h"

namespace ge::models::data {
namespace {

using datatest::idx_images;
using datatest::idx_labels;
using datatest::ScratchDir;
using datatest::write_bytes;
using ge::testing::error_of;

constexpr int kSources = 20;
constexpr int64_t kPlane = 32 * 32;

// Source image k carries k in its first pixel, so every image differs from every other.
std::vector<unsigned char> source_pixels() {
  std::vector<unsigned char> p;
  for (int k = 0; k < kSources; ++k)
    for (int i = 0; i < 28 * 28; ++i)
      p.push_back(static_cast<unsigned char>(i == 0 ? 10 * k : (k * 31 + i * 7) % 256));
  return p;
}

int source_label(int k) {
  return (7 * k + 3) % 10;
}

void write_mnist(const ScratchDir& dir) {
  std::vector<unsigned char> labels;
  for (int k = 0; k < kSources; ++k)
    labels.push_back(static_cast<unsigned char>(source_label(k)));
  write_bytes(dir.file("train-images-idx3-ubyte"), idx_images(source_pixels(), kSources));
  write_bytes(dir.file("train-labels-idx1-ubyte"), idx_labels(labels));
}

std::vector<float> sample(const Dataset& d, int64_t index) {
  std::vector<float> out(static_cast<size_t>(numel(d.sample_shape())));
  d.get(index, out.data());
  return out;
}

// The source image whose [1, 32, 32] sample equals `plane`, or -1.
int matching_source(const Dataset& mnist, const float* plane) {
  int found = -1;
  for (int k = 0; k < kSources; ++k) {
    const std::vector<float> s = sample(mnist, k);
    if (std::equal(s.begin(), s.end(), plane)) {
      EXPECT_EQ(found, -1) << "two sources match";
      found = k;
    }
  }
  return found;
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

TEST(DataStackedMnist, ChannelsAreTheDigitsTheLabelNames) {
  ScratchDir dir;
  write_mnist(dir);
  const std::shared_ptr<const Dataset> mnist = load_mnist(dir.str(), {32, 1});
  const auto d = make_stacked_mnist(mnist, 40, 7);
  EXPECT_EQ(d->name(), "stacked-mnist");
  EXPECT_EQ(d->size(), 40);
  EXPECT_EQ(d->num_classes(), 1000);
  EXPECT_EQ(d->sample_shape(), (Shape{3, 32, 32}));
  for (int64_t i = 0; i < d->size(); ++i) {
    const std::vector<float> s = sample(*d, i);
    int expected = 0;
    for (int c = 0; c < 3; ++c) {
      const int k = matching_source(*mnist, s.data() + c * kPlane);
      ASSERT_GE(k, 0) << "sample " << i << " channel " << c << " is no source digit";
      expected = 10 * expected + source_label(k);
    }
    EXPECT_EQ(d->label(i), expected) << "sample " << i;
  }
}

TEST(DataStackedMnist, DrawIsAPureFunctionOfSeedAndIndex) {
  ScratchDir dir;
  write_mnist(dir);
  const std::shared_ptr<const Dataset> mnist = load_mnist(dir.str(), {32, 1});
  const auto a = make_stacked_mnist(mnist, 300, 1);
  const auto b = make_stacked_mnist(mnist, 300, 1);
  const auto other = make_stacked_mnist(mnist, 300, 2);
  int differ = 0;
  std::vector<std::set<int>> sources(3);
  for (int64_t i = 0; i < 300; ++i) {
    // Reading out of order gives the same sample.
    const int64_t j = 299 - i;
    EXPECT_EQ(sample(*a, j), sample(*b, j));
    EXPECT_EQ(a->label(j), b->label(j));
    differ += a->label(i) != other->label(i);
    const std::vector<float> s = sample(*a, i);
    for (int c = 0; c < 3; ++c)
      sources[static_cast<size_t>(c)].insert(matching_source(*mnist, s.data() + c * kPlane));
  }
  EXPECT_GT(differ, 200) << "another seed should draw other digits";
  // 300 draws over 20 sources miss one with probability < 1e-6 for a fair draw.
  for (int c = 0; c < 3; ++c)
    EXPECT_EQ(sources[static_cast<size_t>(c)].size(), static_cast<size_t>(kSources))
        << "channel " << c;
}

TEST(DataStackedMnist, ReadsFromSeveralThreadsAgree) {
  ScratchDir dir;
  write_mnist(dir);
  const auto d = make_stacked_mnist(load_mnist(dir.str(), {32, 1}), 200, 3);
  std::vector<int64_t> expected;
  for (int64_t i = 0; i < d->size(); ++i)
    expected.push_back(d->label(i));
  std::vector<std::vector<int64_t>> got(2);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < got.size(); ++t)
    threads.emplace_back([&, t] {
      for (int64_t i = 0; i < d->size(); ++i) {
        sample(*d, i);
        got[t].push_back(d->label(i));
      }
    });
  for (auto& t : threads)
    t.join();
  for (const auto& g : got)
    EXPECT_EQ(g, expected);
}

// A stand-in source with a chosen shape and class count.
class FakeDataset final : public Dataset {
 public:
  FakeDataset(Shape shape, int64_t classes, int64_t size = 4)
      : shape_(std::move(shape)), classes_(classes), size_(size) {}
  std::string name() const override { return "fake"; }
  int64_t size() const override { return size_; }
  Shape sample_shape() const override { return shape_; }
  int64_t num_classes() const override { return classes_; }
  void get(int64_t, float*) const override {}

 private:
  Shape shape_;
  int64_t classes_, size_;
};

TEST(DataStackedMnist, RefusesSourcesThatAreNotMnist) {
  const std::string op = "make_stacked_mnist";
  auto unlabelled = std::make_shared<FakeDataset>(Shape{1, 32, 32}, 0);
  std::string e = error_of([&] { make_stacked_mnist(unlabelled); });
  EXPECT_TRUE(contains(e, op) && contains(e, "no labels")) << e;
  auto rgb = std::make_shared<FakeDataset>(Shape{3, 32, 32}, 10);
  e = error_of([&] { make_stacked_mnist(rgb); });
  EXPECT_TRUE(contains(e, "one-channel") && contains(e, "[3, 32, 32]")) << e;
  auto classes = std::make_shared<FakeDataset>(Shape{1, 32, 32}, 1000);
  e = error_of([&] { make_stacked_mnist(classes); });
  EXPECT_TRUE(contains(e, "10 labelled classes") && contains(e, "1000 classes")) << e;
  auto points = std::make_shared<FakeDataset>(Shape{2}, 10);
  EXPECT_TRUE(contains(error_of([&] { make_stacked_mnist(points); }), "[2]"));
  auto empty = std::make_shared<FakeDataset>(Shape{1, 32, 32}, 10, 0);
  EXPECT_TRUE(contains(error_of([&] { make_stacked_mnist(empty); }), "empty"));
  EXPECT_TRUE(contains(error_of([&] { make_stacked_mnist(nullptr); }), "got none"));
  auto fine = std::make_shared<FakeDataset>(Shape{1, 32, 32}, 10);
  e = error_of([&] { make_stacked_mnist(fine, 0); });
  EXPECT_TRUE(contains(e, "positive sample count, got 0")) << e;
  const auto d = make_stacked_mnist(fine, 5);
  std::vector<float> buf(3 * kPlane);
  EXPECT_TRUE(contains(error_of([&] { d->get(5, buf.data()); }), "index 5"));
  EXPECT_TRUE(contains(error_of([&] { d->label(-1); }), "index -1"));
}

TEST(DataStackedMnist, OpenDatasetSpec) {
  ScratchDir dir;
  write_mnist(dir);
  const auto d = open_dataset("stacked-mnist:" + dir.str(), {32, 3});
  EXPECT_EQ(d->name(), "stacked-mnist");
  EXPECT_EQ(d->size(), 60000);
  EXPECT_EQ(d->sample_shape(), (Shape{3, 32, 32}));
  // Seed 0: the same draw as make_stacked_mnist's defaults.
  const auto direct = make_stacked_mnist(load_mnist(dir.str(), {32, 1}));
  for (int64_t i : {0, 1, 59999})
    EXPECT_EQ(d->label(i), direct->label(i));
  std::string e = error_of([&] { open_dataset("stacked-mnist:" + dir.str(), {32, 1}); });
  EXPECT_TRUE(contains(e, "3 channels") && contains(e, "expects 1")) << e;
  e = error_of([&] { open_dataset("stacked-mnist:", {32, 3}); });
  EXPECT_TRUE(contains(e, "names no directory")) << e;
  e = error_of([&] { open_dataset("stacked-mnist:" + dir.file("nope"), {32, 3}); });
  EXPECT_TRUE(contains(e, "load_mnist") && contains(e, "nope")) << e;
}

}  // namespace
}  // namespace ge::models::data
