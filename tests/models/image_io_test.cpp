// PNG output: grids decoded back with a private copy of stb and compared with torchvision's
// make_grid layout computed here; canvas drawing pixel by pixel.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "data_test_util.h"
#include "ganengine/error.h"
#include "ganengine/models/image_io.h"
#include "ganengine/ops.h"
#include "support/devices.h"
#include "support/reference.h"

namespace ge::models {
namespace {

using datatest::decode_png;
using datatest::Decoded;
using datatest::ScratchDir;
using ge::testing::error_of;
using ge::testing::lcg_values;

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

// torchvision's save_image: x.mul(255).add_(0.5).clamp_(0, 255) on (v + 1) / 2, truncated.
int expected_byte(float v) {
  const double t = std::clamp((v + 1.0) / 2.0 * 255.0 + 0.5, 0.0, 255.0);
  return static_cast<int>(t);
}

TEST(ImageIo, KnownByteValues) {
  ScratchDir dir;
  const std::vector<float> v = {-1.f,  1.f, 0.f, 2.f, -3.f, std::numeric_limits<float>::quiet_NaN(),
                                -0.5f, 0.5f};
  save_image_grid(dir.file("v.png"), from_vector(v, {8, 1, 1, 1}), 8, 0);
  const Decoded d = decode_png(dir.file("v.png"));
  ASSERT_EQ(d.width, 8);
  ASSERT_EQ(d.height, 1);
  ASSERT_EQ(d.channels, 1);
  const std::vector<int> want = {0, 255, 128, 255, 0, 0, 64, 191};
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_EQ(d.pixels[i], want[i]) << "value " << v[i];
}

void check_grid(const Tensor& images, int64_t nrow, int64_t padding, const std::string& path) {
  save_image_grid(path, images, nrow, padding);
  const int64_t n = images.size(0), c = images.size(1), h = images.size(2), w = images.size(3);
  const int64_t cols = std::min(nrow, n), rows = (n + cols - 1) / cols;
  const int64_t gw = cols * (w + padding) + padding, gh = rows * (h + padding) + padding;
  const Decoded d = decode_png(path);
  ASSERT_EQ(d.width, gw);
  ASSERT_EQ(d.height, gh);
  ASSERT_EQ(d.channels, c);
  const std::vector<float> v = images.to_vector();
  for (int64_t y = 0; y < gh; ++y)
    for (int64_t x = 0; x < gw; ++x) {
      // Which image (if any) covers grid pixel (x, y).
      const int64_t cx = (x - padding) / (w + padding), cy = (y - padding) / (h + padding);
      const int64_t ix = (x - padding) % (w + padding), iy = (y - padding) % (h + padding);
      const int64_t k = cy * cols + cx;
      const bool inside = x >= padding && y >= padding && ix < w && iy < h && k < n;
      for (int64_t ch = 0; ch < c; ++ch) {
        const int want =
            inside ? expected_byte(v[static_cast<size_t>(((k * c + ch) * h + iy) * w + ix)]) : 0;
        ASSERT_EQ(d.pixels[static_cast<size_t>((y * gw + x) * c + ch)], want)
            << "grid pixel (" << x << ", " << y << ") channel " << ch;
      }
    }
}

TEST(ImageIo, GrayGridLayout) {
  ScratchDir dir;
  // 5 images in rows of 3: a second, incomplete row.
  const Tensor images = from_vector(lcg_values(5 * 3 * 2, 1, -1.2f, 1.2f), {5, 1, 3, 2});
  check_grid(images, 3, 2, dir.file("gray.png"));
}

TEST(ImageIo, RgbGridLayout) {
  ScratchDir dir;
  const Tensor images = from_vector(lcg_values(4 * 3 * 4 * 5, 2), {4, 3, 4, 5});
  check_grid(images, 2, 1, dir.file("rgb.png"));
  check_grid(images, 8, 0, dir.file("row.png"));  // nrow > N: one row of N
}

TEST(ImageIo, StridedInputIsReadInLogicalOrder) {
  ScratchDir dir;
  // [2, 1, 3, 4] viewed as its transpose: save_image_grid must follow the strides.
  const Tensor base = from_vector(lcg_values(2 * 4 * 3, 3), {2, 1, 4, 3});
  check_grid(base.transpose(2, 3), 2, 2, dir.file("t.png"));
}

class ImageIoDevice : public DeviceTest {};

TEST_P(ImageIoDevice, AcceptsAnyDevice) {
  ScratchDir dir;
  const Tensor images = from_vector(lcg_values(2 * 3 * 2 * 2, 4), {2, 3, 2, 2}, device());
  check_grid(images, 2, 1, dir.file("d.png"));
}

GE_INSTANTIATE_DEVICE_TEST(ImageIoDevice);

TEST(ImageIo, WritesAtomicallyAndReplaces) {
  ScratchDir dir;
  const std::string path = dir.file("grid.png");
  save_image_grid(path, full({1, 1, 2, 2}, -1.f), 1, 0);
  save_image_grid(path, full({1, 1, 3, 3}, 1.f), 1, 0);
  const Decoded d = decode_png(path);
  EXPECT_EQ(d.width, 3);
  EXPECT_EQ(d.pixels[0], 255);
  // No temporary file is left behind.
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.str())) {
    (void)e;
    ++files;
  }
  EXPECT_EQ(files, 1);
}

TEST(ImageIo, ErrorsNameThePath) {
  ScratchDir dir;
  const std::string bad = dir.file("no/such/dir/g.png");
  std::string msg = error_of([&] { save_image_grid(bad, zeros({1, 1, 2, 2})); });
  EXPECT_TRUE(contains(msg, bad)) << msg;
  const std::string p = dir.file("g.png");
  msg = error_of([&] { save_image_grid(p, zeros({1, 2, 2})); });
  EXPECT_TRUE(contains(msg, p) && contains(msg, "[N, C, H, W]")) << msg;
  msg = error_of([&] { save_image_grid(p, zeros({1, 2, 2, 2})); });
  EXPECT_TRUE(contains(msg, "1 or 3 channels, got 2")) << msg;
  EXPECT_TRUE(contains(error_of([&] { save_image_grid(p, zeros({1, 1, 2, 2}), 0); }), "nrow"));
  EXPECT_TRUE(contains(error_of([&] {
                         save_image_grid(p, zeros({1, 1, 2, 2}), 1, -1);
                       }),
                       "padding"));
  EXPECT_FALSE(std::filesystem::exists(p));
  msg = error_of([&] { Canvas(4, 4).save_png(bad); });
  EXPECT_TRUE(contains(msg, bad)) << msg;
}

// The colour of canvas pixel (x, y).
std::vector<int> at(const Canvas& c, int x, int y) {
  const size_t i = (static_cast<size_t>(y) * c.width + x) * 3;
  return {c.rgb[i], c.rgb[i + 1], c.rgb[i + 2]};
}

int count_colored(const Canvas& c, int r, int g, int b) {
  int n = 0;
  for (int y = 0; y < c.height; ++y)
    for (int x = 0; x < c.width; ++x)
      n += at(c, x, y) == std::vector<int>{r, g, b};
  return n;
}

TEST(ImageIoCanvas, StartsFilled) {
  const Canvas c(5, 3, 200);
  EXPECT_EQ(c.rgb.size(), 45u);
  EXPECT_EQ(count_colored(c, 200, 200, 200), 15);
  EXPECT_TRUE(contains(error_of([] { Canvas(0, 3); }), "0x3"));
}

TEST(ImageIoCanvas, AxisAlignedAndDiagonalLines) {
  Canvas c(10, 10);
  c.line(1, 2, 6, 2, 255, 0, 0);
  EXPECT_EQ(count_colored(c, 255, 0, 0), 6);
  for (int x = 1; x <= 6; ++x)
    EXPECT_EQ(at(c, x, 2), (std::vector<int>{255, 0, 0}));
  c.line(3, 3, 3, 8, 0, 255, 0);
  EXPECT_EQ(count_colored(c, 0, 255, 0), 6);
  c.line(9, 9, 4, 4, 0, 0, 255);  // drawn backwards
  EXPECT_EQ(count_colored(c, 0, 0, 255), 6);
  for (int i = 4; i <= 9; ++i)
    EXPECT_EQ(at(c, i, i), (std::vector<int>{0, 0, 255}));
}

// A Bresenham line has one pixel per step along its major axis, each within half a pixel of
// the ideal line, and 8-connected.
TEST(ImageIoCanvas, ShallowLineIsConnectedAndClose) {
  Canvas c(20, 10, 0);
  c.line(0, 1, 19, 8, 255, 255, 255);
  for (int x = 0; x < 20; ++x) {
    int hits = 0, row = -1;
    for (int y = 0; y < 10; ++y)
      if (at(c, x, y)[0] == 255) {
        ++hits;
        row = y;
      }
    ASSERT_EQ(hits, 1) << "column " << x;
    EXPECT_LE(std::abs(row - (1 + 7.0 * x / 19)), 0.5 + 1e-9) << "column " << x;
  }
}

TEST(ImageIoCanvas, LinesClipAndSkipNonFinite) {
  Canvas c(8, 6);
  c.line(-1e9f, 3, 1e9f, 3, 10, 20, 30);  // crosses the whole canvas
  EXPECT_EQ(count_colored(c, 10, 20, 30), 8);
  c.line(-5, -5, -1, -9, 1, 2, 3);  // entirely outside
  c.line(std::nanf(""), 0, 3, 3, 1, 2, 3);
  c.line(0, 0, std::numeric_limits<float>::infinity(), 3, 1, 2, 3);
  EXPECT_EQ(count_colored(c, 1, 2, 3), 0);
}

TEST(ImageIoCanvas, Dots) {
  Canvas c(11, 11);
  c.dot(5.2f, 4.8f, 0, 9, 9, 9);
  EXPECT_EQ(count_colored(c, 9, 9, 9), 1);
  EXPECT_EQ(at(c, 5, 5), (std::vector<int>{9, 9, 9}));
  c.dot(5, 5, 2, 1, 1, 1);  // lattice points with x^2 + y^2 <= 4
  EXPECT_EQ(count_colored(c, 1, 1, 1), 13);
  c.dot(0, 0, 1, 2, 2, 2);  // clipped at the corner: centre, right, below
  EXPECT_EQ(count_colored(c, 2, 2, 2), 3);
  c.dot(1e30f, 5, 3, 4, 4, 4);
  c.dot(std::nanf(""), 5, 3, 4, 4, 4);
  EXPECT_EQ(count_colored(c, 4, 4, 4), 0);
}

TEST(ImageIoCanvas, SavePngRoundTrips) {
  ScratchDir dir;
  Canvas c(7, 4, 30);
  c.line(0, 0, 6, 3, 200, 100, 50);
  c.save_png(dir.file("c.png"));
  const Decoded d = decode_png(dir.file("c.png"));
  ASSERT_EQ(d.width, 7);
  ASSERT_EQ(d.height, 4);
  ASSERT_EQ(d.channels, 3);
  EXPECT_EQ(d.pixels, c.rgb);
}

}  // namespace
}  // namespace ge::models
