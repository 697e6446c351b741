// make_photo_patches / read_image / open_patch_dataset: every crop is an exact square of one
// photograph under one of the square's 8 symmetries, the draw is a function of (seed, index), and
// photographs too small for the crop or not images at all are named.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "data_test_util.h"
#include "ganengine/error.h"
#include "ganengine/models/data/dataset.h"

namespace ge::testing {
namespace {

using datatest::ScratchDir;

// An RGB photograph whose every byte differs from its neighbours, so a crop matches one place only.
std::vector<unsigned char> pattern(int w, int h, int seed) {
  std::vector<unsigned char> px(static_cast<size_t>(w * h * 3));
  for (int i = 0; i < w * h * 3; ++i)
    px[static_cast<size_t>(i)] = static_cast<unsigned char>((i * 37 + seed * 101 + i / 7) % 251);
  return px;
}

std::string write_photo(const ScratchDir& dir, const std::string& name, int w, int h, int seed) {
  const std::string path = dir.file(name);
  const std::vector<unsigned char> px = pattern(w, h, seed);
  EXPECT_TRUE(stbi_write_png(path.c_str(), w, h, 3, px.data(), w * 3));
  return path;
}

float value(unsigned char v) {
  return (v - 127.5f) / 127.5f;
}

// The crop of `px` (w x h, RGB) at (top, left) of side p, under symmetry `t`: the output pixel
// (y, x) reads the crop at dihedral(t, y, x). Brute force over every place and symmetry: the
// matches of `sample`.
int matches(const std::vector<float>& sample, const std::vector<unsigned char>& px, int w, int h,
            int p, std::set<int>* symmetries) {
  int found = 0;
  for (int top = 0; top + p <= h; ++top)
    for (int left = 0; left + p <= w; ++left)
      for (int t = 0; t < 8; ++t) {
        bool same = true;
        for (int y = 0; y < p && same; ++y)
          for (int x = 0; x < p && same; ++x) {
            // Rotate the index (y, x) by t / 2 quarter turns, then mirror if t is odd.
            int sy = y, sx = x;
            for (int k = 0; k < t / 2; ++k) {
              const int ny = sx, nx = p - 1 - sy;
              sy = ny;
              sx = nx;
            }
            if (t % 2 == 1) sx = p - 1 - sx;
            for (int c = 0; c < 3 && same; ++c)
              same = sample[static_cast<size_t>(c * p * p + y * p + x)] ==
                     value(px[static_cast<size_t>(((top + sy) * w + left + sx) * 3 + c)]);
          }
        if (same) {
          ++found;
          symmetries->insert(t);
        }
      }
  return found;
}

TEST(DataPhotoPatches, EachCropIsASquareOfAPhotographUnderASymmetry) {
  ScratchDir dir;
  const std::string a = write_photo(dir, "a.png", 9, 7, 1);
  const std::string b = write_photo(dir, "b.png", 6, 11, 2);
  const auto set = models::data::make_photo_patches({a, b}, {5, 3}, 200, 7);
  EXPECT_EQ(set->size(), 200);
  EXPECT_EQ(set->sample_shape(), Shape({3, 5, 5}));
  const std::vector<unsigned char> pa = pattern(9, 7, 1), pb = pattern(6, 11, 2);
  std::set<int> symmetries;
  int from_a = 0;
  for (int64_t i = 0; i < set->size(); ++i) {
    std::vector<float> s(75);
    set->get(i, s.data());
    const int in_a = matches(s, pa, 9, 7, 5, &symmetries);
    const int in_b = matches(s, pb, 6, 11, 5, &symmetries);
    ASSERT_EQ(in_a + in_b, 1) << "sample " << i;
    from_a += in_a;
  }
  EXPECT_EQ(symmetries.size(), 8u);
  // a has 5 * 3 = 15 places, b 2 * 7 = 14: each photograph gives about half the crops.
  EXPECT_GT(from_a, 70);
  EXPECT_LT(from_a, 130);
}

TEST(DataPhotoPatches, DrawIsAFunctionOfSeedAndIndex) {
  ScratchDir dir;
  const std::string a = write_photo(dir, "a.png", 16, 12, 3);
  const auto one = models::data::make_photo_patches({a}, {4, 3}, 50, 1);
  const auto again = models::data::make_photo_patches({a}, {4, 3}, 50, 1);
  const auto other = models::data::make_photo_patches({a}, {4, 3}, 50, 2);
  int differ = 0;
  for (int64_t i = 0; i < 50; ++i) {
    std::vector<float> x(48), y(48), z(48);
    one->get(i, x.data());
    again->get(i, y.data());
    other->get(i, z.data());
    EXPECT_EQ(x, y) << i;
    differ += x != z;
  }
  EXPECT_GT(differ, 40);
}

TEST(DataPhotoPatches, GrayCropsAreLuma) {
  ScratchDir dir;
  const std::string a = write_photo(dir, "a.png", 4, 4, 5);
  const auto set = models::data::make_photo_patches({a}, {4, 1}, 8, 0);
  const std::vector<unsigned char> px = pattern(4, 4, 5);
  std::set<float> expected;
  for (int i = 0; i < 16; ++i) {
    const unsigned char* p = px.data() + i * 3;
    expected.insert(value(static_cast<unsigned char>(
        (p[0] * 19595u + p[1] * 38470u + p[2] * 7471u + 0x8000u) >> 16)));
  }
  std::vector<float> s(16);
  set->get(3, s.data());
  EXPECT_EQ(std::set<float>(s.begin(), s.end()), expected);
}

TEST(DataPhotoPatches, ReadImageKeepsSizeAndFileChannels) {
  ScratchDir dir;
  const std::string a = write_photo(dir, "a.png", 7, 3, 4);
  const models::data::ImageData im = models::data::read_image(a, 3);
  EXPECT_EQ(im.width, 7);
  EXPECT_EQ(im.height, 3);
  EXPECT_EQ(im.file_channels, 3);
  const std::vector<unsigned char> px = pattern(7, 3, 4);
  // Planar: channel 1 of pixel (2, 5).
  EXPECT_EQ(im.pixels[static_cast<size_t>(1 * 21 + 2 * 7 + 5)], value(px[(2 * 7 + 5) * 3 + 1]));
}

TEST(DataPhotoPatches, SmallOrUndecodablePhotographsAreNamed) {
  ScratchDir dir;
  const std::string small = write_photo(dir, "small.png", 8, 5, 1);
  try {
    models::data::make_photo_patches({small}, {6, 3});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("small.png' is 8x5; the 6x6 crops need each side >= 6"),
              std::string::npos)
        << e.what();
  }
  const std::string junk = dir.file("junk.png");
  datatest::write_bytes(junk, {1, 2, 3, 4, 5});
  try {
    models::data::make_photo_patches({junk}, {4, 3});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot decode '" + junk + "'"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(models::data::make_photo_patches({}, {4, 3}), Error);
}

TEST(DataPhotoPatches, OpenPatchDatasetCropsFoldersAndKeepsOtherSets) {
  ScratchDir dir;
  write_photo(dir, "a.png", 20, 20, 1);
  for (const std::string& spec : {"folder:" + dir.str(), "images:" + dir.str(), dir.str()}) {
    const auto set = models::data::open_patch_dataset(spec, {8, 3});
    EXPECT_EQ(set->name(), "photo-patches") << spec;
    EXPECT_EQ(set->sample_shape(), Shape({3, 8, 8})) << spec;
  }
  // open_dataset reads the same folder whole, resized.
  EXPECT_EQ(models::data::open_dataset("folder:" + dir.str(), {8, 3})->name(), "images");
  ScratchDir mnist;
  datatest::write_block_mnist(mnist, "train", 3, 1);
  const auto digits = models::data::open_patch_dataset("mnist:" + mnist.str(), {28, 1});
  EXPECT_EQ(digits->name(), "mnist");
  EXPECT_EQ(digits->size(), 3);
}

}  // namespace
}  // namespace ge::testing
