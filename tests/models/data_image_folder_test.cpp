// Image folders: PNG/BMP/JPEG files written here with stb, read back in name order,
// center-cropped, resized and converted to the requested channels (one channel as PIL's
// convert("L") computes it), and the files that cannot be read.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "data_test_util.h"
#include "ganengine/error.h"
#include "ganengine/models/data/dataset.h"
#include "support/reference.h"

namespace ge::models::data {
namespace {

using datatest::ScratchDir;
using datatest::write_bytes;
using ge::testing::error_of;

float scaled(int b) {
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

// An RGB image whose channels differ, so that channel order and position are both checked.
std::vector<unsigned char> rgb_pattern(int w, int h, int seed) {
  std::vector<unsigned char> p;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      p.push_back(static_cast<unsigned char>((seed + 20 * x + 3 * y) % 256));
      p.push_back(static_cast<unsigned char>((seed + 7 * x + 30 * y) % 256));
      p.push_back(static_cast<unsigned char>((seed * 3 + 11 * x + 13 * y) % 256));
    }
  return p;
}

TEST(DataImageFolder, ReadsFilesInNameOrderWithExactPixels) {
  ScratchDir dir;
  const std::vector<unsigned char> a = rgb_pattern(8, 8, 5), b = rgb_pattern(8, 8, 90);
  ASSERT_TRUE(stbi_write_bmp(dir.file("a.bmp").c_str(), 8, 8, 3, a.data()));
  ASSERT_TRUE(stbi_write_png(dir.file("b.PNG").c_str(), 8, 8, 3, b.data(), 8 * 3));
  write_bytes(dir.file("notes.txt"), {'h', 'i'});  // not an image: ignored
  const auto d = load_image_folder(dir.str(), {8, 3});
  EXPECT_EQ(d->name(), "images");
  ASSERT_EQ(d->size(), 2);
  EXPECT_EQ(d->num_classes(), 0);
  EXPECT_EQ(d->label(0), -1);
  EXPECT_EQ(d->sample_shape(), (Shape{3, 8, 8}));
  for (int k = 0; k < 2; ++k) {
    const std::vector<unsigned char>& src = k == 0 ? a : b;
    const std::vector<float> s = sample(*d, k);
    for (int c = 0; c < 3; ++c)
      for (int i = 0; i < 64; ++i)
        ASSERT_NEAR(s[static_cast<size_t>(c * 64 + i)], scaled(src[static_cast<size_t>(i * 3 + c)]),
                    1e-6f)
            << "image " << k << " channel " << c << " pixel " << i;
  }
}

TEST(DataImageFolder, CenterCropsWideAndTallImages) {
  ScratchDir dir;
  // 12x8: the center 8x8 starts at column 2; 6x10: the center 6x6 starts at row 2.
  const std::vector<unsigned char> wide = rgb_pattern(12, 8, 1), tall = rgb_pattern(6, 10, 2);
  ASSERT_TRUE(stbi_write_png(dir.file("0_wide.png").c_str(), 12, 8, 3, wide.data(), 12 * 3));
  ASSERT_TRUE(stbi_write_png(dir.file("1_tall.png").c_str(), 6, 10, 3, tall.data(), 6 * 3));
  const auto d8 = load_image_folder(dir.str(), {8, 3});
  const std::vector<float> s = sample(*d8, 0);
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 8; ++y)
      for (int x = 0; x < 8; ++x)
        ASSERT_NEAR(s[static_cast<size_t>((c * 8 + y) * 8 + x)],
                    scaled(wide[static_cast<size_t>((y * 12 + x + 2) * 3 + c)]), 1e-6f);
  const auto d6 = load_image_folder(dir.str(), {6, 3});
  const std::vector<float> t = sample(*d6, 1);
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 6; ++y)
      for (int x = 0; x < 6; ++x)
        ASSERT_NEAR(t[static_cast<size_t>((c * 6 + y) * 6 + x)],
                    scaled(tall[static_cast<size_t>(((y + 2) * 6 + x) * 3 + c)]), 1e-6f);
}

TEST(DataImageFolder, OneChannelIsLuminance) {
  ScratchDir dir;
  const std::vector<unsigned char> p = rgb_pattern(4, 4, 33);
  ASSERT_TRUE(stbi_write_png(dir.file("x.png").c_str(), 4, 4, 3, p.data(), 4 * 3));
  const auto d = load_image_folder(dir.str(), {4, 1});
  const std::vector<float> s = sample(*d, 0);
  for (int i = 0; i < 16; ++i) {
    // ITU-R BT.601 luma, rounded to a level (PIL's fixed point may round a tie the other way).
    const double y = 0.299 * p[static_cast<size_t>(3 * i)] +
                     0.587 * p[static_cast<size_t>(3 * i + 1)] +
                     0.114 * p[static_cast<size_t>(3 * i + 2)];
    EXPECT_NEAR(s[static_cast<size_t>(i)], std::round(y) / 127.5 - 1, 1.01 / 127.5)
        << "pixel " << i;
  }
}

// The levels PIL's Image.convert("L") gives (Pillow 9/10, checked by hand from its 16-bit fixed
// point): stb's own 8-bit luma gives 149 and 123 for the first two.
TEST(DataImageFolder, OneChannelMatchesPilConvertL) {
  ScratchDir dir;
  const std::vector<unsigned char> rgba = {0,   255, 0, 255, 10, 200, 30,  0,  //
                                           255, 0,   0, 128, 0,  0,   255, 255};
  ASSERT_TRUE(stbi_write_png(dir.file("a.png").c_str(), 2, 2, 4, rgba.data(), 2 * 4));
  const std::vector<float> s = sample(*load_image_folder(dir.str(), {2, 1}), 0);
  const std::vector<int> want = {150, 124, 76, 29};  // alpha plays no part
  for (size_t i = 0; i < 4; ++i)
    EXPECT_NEAR(s[i], scaled(want[i]), 1e-6f) << "pixel " << i;

  ScratchDir gray_alpha;
  const std::vector<unsigned char> ga = {90, 0, 200, 255, 7, 30, 255, 255};
  ASSERT_TRUE(stbi_write_png(gray_alpha.file("g.png").c_str(), 2, 2, 2, ga.data(), 2 * 2));
  const std::vector<float> g = sample(*load_image_folder(gray_alpha.str(), {2, 1}), 0);
  for (size_t i = 0; i < 4; ++i)
    EXPECT_NEAR(g[i], scaled(ga[2 * i]), 1e-6f) << "pixel " << i;
}

TEST(DataImageFolder, GrayFilesBecomeThreeEqualChannels) {
  ScratchDir dir;
  std::vector<unsigned char> g(16);
  for (int i = 0; i < 16; ++i)
    g[static_cast<size_t>(i)] = static_cast<unsigned char>(i * 16);
  ASSERT_TRUE(stbi_write_png(dir.file("g.png").c_str(), 4, 4, 1, g.data(), 4));
  const std::vector<float> s = sample(*load_image_folder(dir.str(), {4, 3}), 0);
  for (int c = 0; c < 3; ++c)
    for (int i = 0; i < 16; ++i)
      ASSERT_NEAR(s[static_cast<size_t>(c * 16 + i)], scaled(i * 16), 1e-6f);
}

TEST(DataImageFolder, ResizesUpAndDown) {
  ScratchDir dir;
  // A left half at 40 and a right half at 200: resizing keeps each half's interior value.
  std::vector<unsigned char> g(16 * 16);
  for (int y = 0; y < 16; ++y)
    for (int x = 0; x < 16; ++x)
      g[static_cast<size_t>(y * 16 + x)] = x < 8 ? 40 : 200;
  ASSERT_TRUE(stbi_write_png(dir.file("g.png").c_str(), 16, 16, 1, g.data(), 16));
  for (int r : {4, 32}) {
    const std::vector<float> s = sample(*load_image_folder(dir.str(), {r, 1}), 0);
    ASSERT_EQ(s.size(), static_cast<size_t>(r * r));
    for (int y = 0; y < r; ++y) {
      EXPECT_NEAR(s[static_cast<size_t>(y * r)], scaled(40), 1e-6f) << "resolution " << r;
      EXPECT_NEAR(s[static_cast<size_t>(y * r + r - 1)], scaled(200), 1e-6f) << "resolution " << r;
    }
  }
}

TEST(DataImageFolder, JpegDecodes) {
  ScratchDir dir;
  std::vector<unsigned char> g(16 * 16 * 3, 128);
  ASSERT_TRUE(stbi_write_jpg(dir.file("j.jpg").c_str(), 16, 16, 3, g.data(), 95));
  const std::vector<float> s = sample(*load_image_folder(dir.str(), {8, 3}), 0);
  for (float v : s)
    ASSERT_NEAR(v, scaled(128), 3.f / 127.5f);  // JPEG is lossy
}

TEST(DataImageFolder, ErrorsNameTheDirectoryOrFile) {
  ScratchDir dir;
  const std::string missing = dir.file("nope");
  std::string msg = error_of([&] { load_image_folder(missing, {8, 3}); });
  EXPECT_TRUE(contains(msg, missing)) << msg;
  EXPECT_TRUE(contains(msg, "not a directory")) << msg;

  write_bytes(dir.file("readme.txt"), {'x'});
  msg = error_of([&] { load_image_folder(dir.str(), {8, 3}); });
  EXPECT_TRUE(contains(msg, "no PNG, JPEG or BMP")) << msg;

  write_bytes(dir.file("broken.png"), {'n', 'o', 't', ' ', 'a', ' ', 'p', 'n', 'g'});
  msg = error_of([&] { load_image_folder(dir.str(), {8, 3}); });
  EXPECT_TRUE(contains(msg, dir.file("broken.png"))) << msg;
  EXPECT_TRUE(contains(msg, "cannot decode")) << msg;

  EXPECT_TRUE(contains(error_of([&] { load_image_folder(dir.str(), {8, 4}); }), "channels"));
}

TEST(DataImageFolder, EmptyFolderIsRefused) {
  ScratchDir dir;
  const std::string msg = error_of([&] { load_image_folder(dir.str(), {32, 1}); });
  EXPECT_TRUE(contains(msg, dir.str())) << msg;
  EXPECT_TRUE(contains(msg, "holds no PNG, JPEG or BMP files")) << msg;
}

// A PNG cut short (an interrupted copy) among good ones: the bad file is named, whatever its
// place in the folder.
TEST(DataImageFolder, TruncatedPngIsNamed) {
  ScratchDir dir;
  const std::vector<unsigned char> p = rgb_pattern(16, 16, 9);
  for (const char* name : {"a.png", "b.png", "c.png"})
    ASSERT_TRUE(stbi_write_png(dir.file(name).c_str(), 16, 16, 3, p.data(), 16 * 3));
  const auto size = std::filesystem::file_size(dir.file("b.png"));
  std::filesystem::resize_file(dir.file("b.png"), size / 2);
  for (int channels : {1, 3}) {
    const std::string msg = error_of([&] { load_image_folder(dir.str(), {8, channels}); });
    EXPECT_TRUE(contains(msg, dir.file("b.png"))) << msg;
    EXPECT_TRUE(contains(msg, "cannot decode")) << msg;
  }
}

}  // namespace
}  // namespace ge::models::data
