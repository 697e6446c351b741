// open_dataset: the spec forms the apps accept and the errors for the rest.
#include <gtest/gtest.h>

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

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

void write_mnist(const ScratchDir& dir) {
  write_bytes(dir.file("train-images-idx3-ubyte"),
              idx_images(std::vector<unsigned char>(3 * 28 * 28, 9), 3));
  write_bytes(dir.file("train-labels-idx1-ubyte"), idx_labels({1, 2, 3}));
}

void write_png(const ScratchDir& dir) {
  const std::vector<unsigned char> g(4 * 4, 77);
  ASSERT_TRUE(stbi_write_png(dir.file("a.png").c_str(), 4, 4, 1, g.data(), 4));
}

TEST(DataOpenDataset, Mixtures) {
  for (const std::string kind : {"ring8", "grid25"}) {
    const auto d = open_dataset(kind, {});
    EXPECT_EQ(d->name(), kind);
    EXPECT_EQ(d->size(), 100000);
  }
}

TEST(DataOpenDataset, PrefixedDirectories) {
  ScratchDir mnist, images;
  write_mnist(mnist);
  write_png(images);
  const auto m = open_dataset("mnist:" + mnist.str(), {16, 1});
  EXPECT_EQ(m->name(), "mnist");
  EXPECT_EQ(m->size(), 3);
  EXPECT_EQ(m->sample_shape(), (Shape{1, 16, 16}));
  const auto i = open_dataset("images:" + images.str(), {4, 3});
  EXPECT_EQ(i->name(), "images");
  EXPECT_EQ(i->sample_shape(), (Shape{3, 4, 4}));
}

TEST(DataOpenDataset, BareDirectoryIsMnistWhenIdxFilesArePresent) {
  ScratchDir mnist, images;
  write_mnist(mnist);
  write_png(images);
  EXPECT_EQ(open_dataset(mnist.str(), {32, 1})->name(), "mnist");
  EXPECT_EQ(open_dataset(images.str(), {32, 1})->name(), "images");
}

TEST(DataOpenDataset, ErrorsListTheAcceptedForms) {
  ScratchDir dir;
  std::string msg = error_of([&] { open_dataset(dir.file("absent"), {}); });
  EXPECT_TRUE(contains(msg, dir.file("absent"))) << msg;
  EXPECT_TRUE(contains(msg, "mnist:DIR")) << msg;
  msg = error_of([] { open_dataset("", {}); });
  EXPECT_TRUE(contains(msg, "empty")) << msg;
  msg = error_of([] { open_dataset("mnist:", {}); });
  EXPECT_TRUE(contains(msg, "no directory")) << msg;
  // Errors of the chosen loader come through unchanged.
  msg = error_of([&] { open_dataset("mnist:" + dir.str(), {}); });
  EXPECT_TRUE(contains(msg, "train-images-idx3-ubyte")) << msg;
}

}  // namespace
}  // namespace ge::models::data
