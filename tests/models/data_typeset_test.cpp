// Typeset digits: rendered from the system's fonts (scripts/setup.sh installs them) or from
// scratch font directories of links, so that one face at a time, a missing face or a corrupt
// file can be tried. Checked against MNIST's conventions: shape and range, labels, a pure draw,
// center-of-mass centring, ink coverage, padding and channels.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <thread>
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

// torchvision's MNIST normalization mean: the average pixel of the 28x28 training images.
constexpr double kMnistMeanInk = 0.1307;

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

std::vector<float> sample(const Dataset& d, int64_t index) {
  std::vector<float> out(static_cast<size_t>(numel(d.sample_shape())));
  d.get(index, out.data());
  return out;
}

std::string system_font(const TypesetFont& font) {
  return (std::filesystem::path(kSystemFontDir) / font.file).string();
}

// The system's data sets, built once per format: construction rasterizes every face.
const Dataset& system_digits(int64_t resolution, int64_t channels = 1) {
  static std::vector<std::pair<ImageFormat, std::shared_ptr<Dataset>>> cache;
  for (const auto& [format, d] : cache)
    if (format.resolution == resolution && format.channels == channels) return *d;
  cache.emplace_back(ImageFormat{resolution, channels},
                     make_typeset_digits({resolution, channels}, 1000));
  return *cache.back().second;
}

// A font directory whose first `count` listed files link to `target(i)`.
template <typename Target>
void link_fonts(const ScratchDir& dir, size_t count, Target target) {
  const std::vector<TypesetFont> fonts = typeset_fonts();
  ASSERT_LE(count, fonts.size());
  for (size_t i = 0; i < count; ++i) {
    const std::filesystem::path link = dir.file(fonts[i].file);
    std::filesystem::create_directories(link.parent_path());
    std::filesystem::create_symlink(target(i), link);
  }
}

void link_system_fonts(const ScratchDir& dir, size_t count) {
  const std::vector<TypesetFont> fonts = typeset_fonts();
  link_fonts(dir, count, [&](size_t i) { return system_font(fonts[i]); });
}

// Ink (pixel values mapped to [0, 1]) of a [r, r] plane: total and center of mass, in
// continuous coordinates (pixel x spans [x, x + 1)).
struct Ink {
  double total = 0, x = 0, y = 0;
};
Ink ink_of(const float* plane, int64_t r) {
  Ink ink;
  for (int64_t y = 0; y < r; ++y)
    for (int64_t x = 0; x < r; ++x) {
      const double v = (plane[y * r + x] + 1) / 2;
      ink.total += v;
      ink.x += v * (static_cast<double>(x) + 0.5);
      ink.y += v * (static_cast<double>(y) + 0.5);
    }
  if (ink.total > 0) ink.x /= ink.total, ink.y /= ink.total;
  return ink;
}

TEST(DataTypeset, EveryListedFontIsInstalled) {
  const std::vector<TypesetFont> fonts = typeset_fonts();
  EXPECT_GE(fonts.size(), 10u);
  for (const TypesetFont& font : fonts)
    EXPECT_TRUE(std::filesystem::is_regular_file(system_font(font)))
        << system_font(font) << " is missing: scripts/setup.sh installs " << font.package;
}

TEST(DataTypeset, ShapeRangeAndLabels) {
  const Dataset& d = system_digits(32);
  EXPECT_EQ(d.name(), "typeset");
  EXPECT_EQ(d.size(), 1000);
  EXPECT_EQ(d.num_classes(), 10);
  EXPECT_EQ(d.sample_shape(), (Shape{1, 32, 32}));
  std::vector<int> per_digit(10, 0);
  for (int64_t i = 0; i < 300; ++i) {
    const int64_t label = d.label(i);
    ASSERT_GE(label, 0);
    ASSERT_LE(label, 9);
    ++per_digit[static_cast<size_t>(label)];
    const std::vector<float> s = sample(d, i);
    float lo = 1, hi = -1;
    for (float v : s) {
      ASSERT_TRUE(v >= -1.f && v <= 1.f) << "sample " << i << " holds " << v;
      lo = std::min(lo, v), hi = std::max(hi, v);
    }
    EXPECT_EQ(lo, -1.f) << "sample " << i << " has no background";
    EXPECT_GT(hi, 0.9f) << "sample " << i << " has no solid stroke";
  }
  for (int digit = 0; digit < 10; ++digit)
    EXPECT_GE(per_digit[static_cast<size_t>(digit)], 10) << "digit " << digit;
}

TEST(DataTypeset, DefaultCountsFollowTheSplit) {
  EXPECT_EQ(make_typeset_digits({32, 1})->size(), 60000);
  EXPECT_EQ(make_typeset_digits({32, 1}, 0, 0, "test")->size(), 10000);
  EXPECT_EQ(make_typeset_digits({32, 1}, 7, 0, "test")->size(), 7);
}

TEST(DataTypeset, SameDrawGivesIdenticalBytes) {
  const auto a = make_typeset_digits({32, 1}, 500, 3);
  const auto b = make_typeset_digits({32, 1}, 500, 3);
  const std::vector<int64_t> indices = {0, 1, 17, 250, 499};
  std::vector<std::vector<float>> expected;
  for (int64_t i : indices) {
    expected.push_back(sample(*a, i));
    EXPECT_EQ(expected.back(), sample(*b, i)) << "sample " << i;
    EXPECT_EQ(a->label(i), b->label(i));
  }
  // Any thread, in any order, reads the same bytes.
  std::vector<std::thread> threads;
  std::vector<int> mismatches(4, 0);
  for (size_t t = 0; t < mismatches.size(); ++t)
    threads.emplace_back([&, t] {
      for (int rep = 0; rep < 20; ++rep)
        for (size_t k = 0; k < indices.size(); ++k) {
          const size_t j = (k + t + rep) % indices.size();
          if (sample(*a, indices[j]) != expected[j]) ++mismatches[t];
        }
    });
  for (std::thread& t : threads)
    t.join();
  for (size_t t = 0; t < mismatches.size(); ++t)
    EXPECT_EQ(mismatches[t], 0) << "thread " << t;
}

TEST(DataTypeset, SplitsAndSeedsDrawDifferentSamples) {
  const auto train = make_typeset_digits({32, 1}, 200, 0, "train");
  const auto test = make_typeset_digits({32, 1}, 200, 0, "test");
  const auto reseeded = make_typeset_digits({32, 1}, 200, 1, "train");
  std::set<std::vector<float>> train_samples;
  for (int64_t i = 0; i < 200; ++i)
    train_samples.insert(sample(*train, i));
  EXPECT_EQ(train_samples.size(), 200u) << "train samples repeat";
  int same_label = 0;
  for (int64_t i = 0; i < 200; ++i) {
    EXPECT_FALSE(train_samples.contains(sample(*test, i))) << "test sample " << i;
    EXPECT_FALSE(train_samples.contains(sample(*reseeded, i))) << "seed-1 sample " << i;
    same_label += test->label(i) == train->label(i);
  }
  EXPECT_LT(same_label, 60) << "the splits' labels follow each other";
}

// Each face alone: every listed link points to it, so every sample is drawn in it.
TEST(DataTypeset, EveryListedFaceRendersEveryDigit) {
  for (const TypesetFont& font : typeset_fonts()) {
    SCOPED_TRACE(font.file);
    ScratchDir dir;
    link_fonts(dir, 10, [&](size_t) { return system_font(font); });
    const auto d = make_typeset_digits({28, 1}, 100, 0, "train", dir.str());
    std::set<int64_t> digits;
    std::vector<std::vector<float>> first(10);
    for (int64_t i = 0; i < d->size(); ++i) {
      const int64_t digit = d->label(i);
      digits.insert(digit);
      const std::vector<float> s = sample(*d, i);
      const double mean = ink_of(s.data(), 28).total / (28 * 28);
      EXPECT_GT(mean, 0.03) << "sample " << i << " (digit " << digit << ") has little ink";
      if (first[static_cast<size_t>(digit)].empty()) first[static_cast<size_t>(digit)] = s;
    }
    EXPECT_EQ(digits.size(), 10u);
    for (size_t a = 0; a < 10; ++a)
      for (size_t b = a + 1; b < 10; ++b)
        if (!first[a].empty() && !first[b].empty()) {
          EXPECT_NE(first[a], first[b]) << "digits " << a << " and " << b << " render alike";
        }
  }
}

// MNIST puts each digit's center of mass on pixel (14, 14) of its 28x28 box, i.e. at 14.5 in
// continuous coordinates (measured on the fetched training set: 14.5 +- 0.01 on average); the
// shift adds up to 2 px.
TEST(DataTypeset, DigitsAreCentredByCenterOfMass) {
  const Dataset& d = system_digits(28);
  double sum_x = 0, sum_y = 0;
  constexpr int kSamples = 400;
  for (int64_t i = 0; i < kSamples; ++i) {
    const std::vector<float> s = sample(d, i);
    const Ink ink = ink_of(s.data(), 28);
    EXPECT_LE(std::fabs(ink.x - 14.5), 2.1) << "sample " << i;
    EXPECT_LE(std::fabs(ink.y - 14.5), 2.1) << "sample " << i;
    sum_x += ink.x - 14.5, sum_y += ink.y - 14.5;
  }
  EXPECT_LT(std::fabs(sum_x / kSamples), 0.25);
  EXPECT_LT(std::fabs(sum_y / kSamples), 0.25);
}

TEST(DataTypeset, InkCoverageIsMnistLike) {
  const Dataset& d = system_digits(28);
  double sum = 0;
  constexpr int kSamples = 400;
  for (int64_t i = 0; i < kSamples; ++i) {
    const std::vector<float> s = sample(d, i);
    const double mean = ink_of(s.data(), 28).total / (28 * 28);
    EXPECT_GT(mean, 0.02) << "sample " << i;
    EXPECT_LT(mean, 0.45) << "sample " << i;
    sum += mean;
  }
  EXPECT_GT(sum / kSamples, 0.7 * kMnistMeanInk);
  EXPECT_LT(sum / kSamples, 1.5 * kMnistMeanInk);
}

// 32x32 is the 28x28 box with a 2-px border, as MNIST pads it; the digit stays inside the box.
TEST(DataTypeset, Resolution32PadsThe28PixelBox) {
  const Dataset& d28 = system_digits(28);
  const Dataset& d32 = system_digits(32);
  int inked_border = 0;
  for (int64_t i = 0; i < 300; ++i) {
    const std::vector<float> s = sample(d32, i), t = sample(d28, i);
    bool border = false;
    for (int y = 0; y < 32; ++y)
      for (int x = 0; x < 32; ++x) {
        const float v = s[static_cast<size_t>(y * 32 + x)];
        if (y == 0 || y == 31 || x == 0 || x == 31) {
          ASSERT_EQ(v, -1.f) << "sample " << i;
        }
        if (y >= 2 && y < 30 && x >= 2 && x < 30) {
          ASSERT_NEAR(v, t[static_cast<size_t>((y - 2) * 28 + x - 2)], 1e-5f)
              << "sample " << i << " at (" << y << ", " << x << ")";
        } else {
          border = border || v > -1.f;
        }
      }
    inked_border += border;
  }
  EXPECT_LE(inked_border, 3) << "digits leave the 28-pixel box";
}

// Other sides draw the same digit at their scale: 64x64 averaged over 2x2 blocks is the 32x32.
TEST(DataTypeset, OtherResolutionsScaleThePaddedBox) {
  const Dataset& d32 = system_digits(32);
  const Dataset& d64 = system_digits(64);
  EXPECT_EQ(d64.sample_shape(), (Shape{1, 64, 64}));
  for (int64_t i = 0; i < 50; ++i) {
    const std::vector<float> s = sample(d32, i), t = sample(d64, i);
    double diff = 0;
    for (int y = 0; y < 32; ++y)
      for (int x = 0; x < 32; ++x) {
        const auto at = [&](int yy, int xx) { return t[static_cast<size_t>(yy * 64 + xx)]; };
        const double pooled = (at(2 * y, 2 * x) + at(2 * y, 2 * x + 1) + at(2 * y + 1, 2 * x) +
                               at(2 * y + 1, 2 * x + 1)) /
                              4;
        diff += std::fabs(pooled - s[static_cast<size_t>(y * 32 + x)]);
      }
    EXPECT_LT(diff / (32 * 32), 0.02) << "sample " << i;
    EXPECT_EQ(d64.label(i), d32.label(i));
  }
  const auto d16 = make_typeset_digits({16, 1}, 10);
  for (int64_t i = 0; i < 10; ++i) {
    const std::vector<float> s = sample(*d16, i);
    const Ink ink = ink_of(s.data(), 16);
    EXPECT_NEAR(ink.x, 8.25, 1.1) << "sample " << i;  // 14.5 of 28 inside 32, halved
    EXPECT_NEAR(ink.y, 8.25, 1.1) << "sample " << i;
  }
}

TEST(DataTypeset, ThreeChannelsRepeatGray) {
  const Dataset& gray = system_digits(32);
  const Dataset& rgb = system_digits(32, 3);
  EXPECT_EQ(rgb.sample_shape(), (Shape{3, 32, 32}));
  for (int64_t i = 0; i < 5; ++i) {
    const std::vector<float> g = sample(gray, i), c = sample(rgb, i);
    for (size_t ch = 0; ch < 3; ++ch)
      ASSERT_TRUE(
          std::equal(g.begin(), g.end(), c.begin() + static_cast<std::ptrdiff_t>(ch * 1024)))
          << "sample " << i << " channel " << ch;
  }
}

TEST(DataTypeset, MissingFontsNameTheFilesAndPackages) {
  ScratchDir empty;
  const std::vector<TypesetFont> fonts = typeset_fonts();
  std::string msg = error_of([&] { make_typeset_digits({32, 1}, 10, 0, "train", empty.str()); });
  EXPECT_TRUE(contains(msg, "found 0 of the " + std::to_string(fonts.size()))) << msg;
  for (const TypesetFont& font : fonts) {
    EXPECT_TRUE(contains(msg, empty.file(font.file))) << msg;
    EXPECT_TRUE(contains(msg, font.package)) << msg;
  }
  EXPECT_TRUE(contains(msg, "scripts/setup.sh")) << msg;

  ScratchDir nine, ten;
  link_system_fonts(nine, 9);
  msg = error_of([&] { make_typeset_digits({32, 1}, 10, 0, "train", nine.str()); });
  EXPECT_TRUE(contains(msg, "found 9 of")) << msg;
  EXPECT_TRUE(contains(msg, nine.file(fonts[9].file))) << msg;
  EXPECT_FALSE(contains(msg, nine.file(fonts[0].file))) << msg;
  link_system_fonts(ten, 10);
  EXPECT_EQ(make_typeset_digits({32, 1}, 10, 0, "train", ten.str())->size(), 10);
}

TEST(DataTypeset, CorruptFontFilesAreNamed) {
  const std::vector<TypesetFont> fonts = typeset_fonts();
  const std::string real = system_font(fonts[0]);
  std::ifstream in(real, std::ios::binary);
  const std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(in)),
                                         std::istreambuf_iterator<char>());
  ASSERT_GT(bytes.size(), 4096u) << real;
  const std::vector<std::pair<std::vector<unsigned char>, std::string>> cases = {
      {{'n', 'o', 't', ' ', 'a', ' ', 'f', 'o', 'n', 't', '.', '.', '.', '.'}, "not a TrueType"},
      {std::vector<unsigned char>(bytes.begin(), bytes.begin() + 6), "truncated"},
      {std::vector<unsigned char>(bytes.begin(), bytes.begin() + 4096), "truncated"},
  };
  for (const auto& [content, defect] : cases) {
    ScratchDir dir;
    link_fonts(dir, fonts.size() - 1, [&](size_t i) { return system_font(fonts[i + 1]); });
    // The first listed file is the corrupt one; the other links stay valid.
    std::filesystem::remove(dir.file(fonts[0].file));
    write_bytes(dir.file(fonts[0].file), content);
    const std::string msg = error_of([&] {
      make_typeset_digits({32, 1}, 10, 0, "train", dir.str());
    });
    EXPECT_TRUE(contains(msg, dir.file(fonts[0].file))) << msg;
    EXPECT_TRUE(contains(msg, defect)) << msg;
  }
}

TEST(DataTypeset, BadArgumentsAreRefused) {
  EXPECT_TRUE(contains(error_of([] { make_typeset_digits({32, 1}, 10, 0, "val"); }), "\"val\""));
  EXPECT_TRUE(contains(error_of([] { make_typeset_digits({32, 2}, 10); }), "channels"));
  EXPECT_TRUE(contains(error_of([] { make_typeset_digits({0, 1}, 10); }), "resolution"));
  EXPECT_TRUE(contains(error_of([] { make_typeset_digits({32, 1}, -5); }), "-5"));
  const auto d = make_typeset_digits({32, 1}, 10);
  std::vector<float> out(32 * 32);
  EXPECT_TRUE(contains(error_of([&] { d->get(10, out.data()); }), "out of range"));
  EXPECT_TRUE(contains(error_of([&] { d->label(-1); }), "out of range"));
}

}  // namespace
}  // namespace ge::models::data
