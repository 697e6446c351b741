// open_dataset: the spec forms the apps accept and the errors for the rest.
#include <gtest/gtest.h>

#include <filesystem>
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

std::vector<float> sample(const Dataset& d, int64_t index) {
  std::vector<float> out(static_cast<size_t>(numel(d.sample_shape())));
  d.get(index, out.data());
  return out;
}

TEST(DataOpenDataset, TypesetSpecs) {
  const ImageFormat format{32, 1};
  const auto train = open_dataset("typeset", format);
  EXPECT_EQ(train->name(), "typeset");
  EXPECT_EQ(train->size(), 60000);
  EXPECT_EQ(train->num_classes(), 10);
  EXPECT_EQ(sample(*train, 5), sample(*make_typeset_digits(format, 10, 0, "train"), 5));
  EXPECT_EQ(sample(*open_dataset("typeset:", format), 5), sample(*train, 5));
  const auto test = open_dataset("typeset-test", format);
  EXPECT_EQ(test->size(), 10000);
  EXPECT_EQ(sample(*test, 5), sample(*make_typeset_digits(format, 10, 0, "test"), 5));

  // After the colon: the font directory.
  ScratchDir fonts, empty;
  for (const TypesetFont& font : typeset_fonts()) {
    const std::filesystem::path link = fonts.file(font.file);
    std::filesystem::create_directories(link.parent_path());
    std::filesystem::create_symlink(std::filesystem::path(kSystemFontDir) / font.file, link);
  }
  EXPECT_EQ(sample(*open_dataset("typeset-test:" + fonts.str(), format), 5), sample(*test, 5));
  const std::string msg = error_of([&] { open_dataset("typeset:" + empty.str(), format); });
  EXPECT_TRUE(contains(msg, empty.str())) << msg;
  EXPECT_TRUE(contains(msg, "found 0 of")) << msg;
  EXPECT_TRUE(contains(error_of([] { open_dataset("typesetx", {}); }), "typeset[:FONTDIR]"));
}

// CycleGAN-style pairs read two domains into one format: gray data repeats into 3 channels,
// colour images become luma in 1.
TEST(DataOpenDataset, ChannelsFollowTheFormatInEveryDomain) {
  ScratchDir mnist, images;
  write_mnist(mnist);
  const std::vector<unsigned char> rgb = {255, 0, 0, 0, 255, 0, 0, 0, 255, 90, 90, 90};
  ASSERT_TRUE(stbi_write_png(images.file("c.png").c_str(), 2, 2, 3, rgb.data(), 2 * 3));
  for (const std::string& spec : {"mnist:" + mnist.str(), std::string("typeset")}) {
    const auto d = open_dataset(spec, {32, 3});
    EXPECT_EQ(d->sample_shape(), (Shape{3, 32, 32})) << spec;
    const std::vector<float> s = sample(*d, 0);
    for (size_t i = 0; i < 1024; ++i)
      ASSERT_TRUE(s[i] == s[1024 + i] && s[i] == s[2048 + i]) << spec << " pixel " << i;
  }
  const auto gray = open_dataset("images:" + images.str(), {2, 1});
  EXPECT_EQ(gray->sample_shape(), (Shape{1, 2, 2}));
  const std::vector<float> g = sample(*gray, 0);
  const std::vector<int> want = {76, 150, 29, 90};  // PIL's convert("L")
  for (size_t i = 0; i < 4; ++i)
    EXPECT_NEAR(g[i], want[i] / 127.5f - 1, 1e-6f) << "pixel " << i;
}

TEST(DataOpenDataset, CorruptFilesAreNamed) {
  ScratchDir empty, images, mnist;
  std::string msg = error_of([&] { open_dataset("images:" + empty.str(), {32, 3}); });
  EXPECT_TRUE(contains(msg, empty.str())) << msg;
  EXPECT_TRUE(contains(msg, "no PNG, JPEG or BMP")) << msg;

  const std::vector<unsigned char> g(16 * 16, 200);
  ASSERT_TRUE(stbi_write_png(images.file("a.png").c_str(), 16, 16, 1, g.data(), 16));
  std::filesystem::resize_file(images.file("a.png"),
                               std::filesystem::file_size(images.file("a.png")) - 20);
  msg = error_of([&] { open_dataset("images:" + images.str(), {32, 1}); });
  EXPECT_TRUE(contains(msg, images.file("a.png"))) << msg;

  write_mnist(mnist);
  write_bytes(mnist.file("train-images-idx3-ubyte"),
              idx_images(std::vector<unsigned char>(28 * 28, 0), 1, 28, 28, 2050));
  for (const std::string& spec : {"mnist:" + mnist.str(), mnist.str()}) {
    msg = error_of([&] { open_dataset(spec, {32, 1}); });
    EXPECT_TRUE(contains(msg, mnist.file("train-images-idx3-ubyte"))) << msg;
    EXPECT_TRUE(contains(msg, "bad magic number 2050")) << msg;
  }
}

}  // namespace
}  // namespace ge::models::data
