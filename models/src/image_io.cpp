// PNG output: sample grids and plot canvases, written atomically.
#include "ganengine/models/image_io.h"

#include <stb/stb_image_write.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "file_io.h"
#include "ganengine/error.h"

namespace ge::models {
namespace {

void append_bytes(void* context, void* data, int size) {
  static_cast<std::string*>(context)->append(static_cast<const char*>(data),
                                             static_cast<size_t>(size));
}

std::string encode_png(const char* op, const std::string& path, const unsigned char* pixels,
                       int width, int height, int channels) {
  std::string png;
  if (!stbi_write_png_to_func(append_bytes, &png, width, height, channels, pixels,
                              width * channels))
    fail(op, ": '", path, "': PNG encoding of a ", width, "x", height, " image failed");
  return png;
}

}  // namespace

unsigned char to_byte(float v) {
  const float scaled = (v + 1.f) * 127.5f + 0.5f;
  if (!(scaled > 0.f)) return 0;
  return static_cast<unsigned char>(std::min(scaled, 255.f));
}

void save_image_grid(const std::string& path, const Tensor& images, int64_t nrow, int64_t padding) {
  constexpr const char* op = "save_image_grid";
  GE_CHECK(images.defined(), op, ": '", path, "': expected images, got an undefined tensor");
  GE_CHECK(images.dim() == 4, op, ": '", path, "': expected images [N, C, H, W], got shape ",
           to_string(images.shape()));
  const int64_t n = images.size(0), c = images.size(1), h = images.size(2), w = images.size(3);
  GE_CHECK(c == 1 || c == 3, op, ": '", path, "': expected 1 or 3 channels, got ", c);
  GE_CHECK(n >= 1 && h >= 1 && w >= 1, op, ": '", path, "': expected a non-empty batch, got shape ",
           to_string(images.shape()));
  GE_CHECK(nrow >= 1, op, ": '", path, "': expected nrow >= 1, got ", nrow);
  GE_CHECK(padding >= 0, op, ": '", path, "': expected padding >= 0, got ", padding);
  // torchvision's make_grid: nrow images a row, `padding` pixels around and between them.
  const int64_t cols = std::min(nrow, n), rows = (n + cols - 1) / cols;
  const int64_t grid_w = cols * (w + padding) + padding, grid_h = rows * (h + padding) + padding;
  constexpr int64_t kMaxSide = 1 << 15;
  GE_CHECK(grid_w <= kMaxSide && grid_h <= kMaxSide, op, ": '", path, "': a ", grid_w, "x", grid_h,
           " grid exceeds the ", kMaxSide, "-pixel side limit");

  const std::vector<float> host = images.detach().to_vector();
  // Padding is -1, i.e. black. A single channel is written as a gray PNG.
  std::vector<unsigned char> grid(static_cast<size_t>(grid_w * grid_h * c), 0);
  for (int64_t k = 0; k < n; ++k) {
    const int64_t x0 = (k % cols) * (w + padding) + padding;
    const int64_t y0 = (k / cols) * (h + padding) + padding;
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t y = 0; y < h; ++y)
        for (int64_t x = 0; x < w; ++x)
          grid[static_cast<size_t>(((y0 + y) * grid_w + x0 + x) * c + ch)] =
              to_byte(host[static_cast<size_t>(((k * c + ch) * h + y) * w + x)]);
  }
  detail::write_file_atomic(op, path,
                            encode_png(op, path, grid.data(), static_cast<int>(grid_w),
                                       static_cast<int>(grid_h), static_cast<int>(c)));
}

Canvas::Canvas(int width_, int height_, unsigned char gray) : width(width_), height(height_) {
  GE_CHECK(width_ >= 1 && height_ >= 1 && width_ <= (1 << 15) && height_ <= (1 << 15),
           "Canvas: expected a size in [1, 32768]^2, got ", width_, "x", height_);
  rgb.assign(static_cast<size_t>(width_) * height_ * 3, gray);
}

namespace {

void put(Canvas& c, int x, int y, unsigned char r, unsigned char g, unsigned char b) {
  if (x < 0 || y < 0 || x >= c.width || y >= c.height) return;
  unsigned char* p = &c.rgb[(static_cast<size_t>(y) * c.width + x) * 3];
  p[0] = r;
  p[1] = g;
  p[2] = b;
}

// Liang-Barsky: clips the segment to [0, w-1] x [0, h-1] so that a far-off point (a diverged
// sample) costs nothing and rounding stays in int range. In double: with float, a segment
// from -1e9 to 1e9 would lose the canvas-sized part to rounding. False when nothing is left.
bool clip(double& x0, double& y0, double& x1, double& y1, double w, double h) {
  const double dx = x1 - x0, dy = y1 - y0;
  double t0 = 0, t1 = 1;
  const double p[4] = {-dx, dx, -dy, dy};
  const double q[4] = {x0, w - 1 - x0, y0, h - 1 - y0};
  for (int i = 0; i < 4; ++i) {
    if (p[i] == 0) {
      if (q[i] < 0) return false;
      continue;
    }
    const double t = q[i] / p[i];
    if (p[i] < 0)
      t0 = std::max(t0, t);
    else
      t1 = std::min(t1, t);
    if (t0 > t1) return false;
  }
  const double ax = x0, ay = y0;
  x0 = ax + t0 * dx;
  y0 = ay + t0 * dy;
  x1 = ax + t1 * dx;
  y1 = ay + t1 * dy;
  return true;
}

}  // namespace

// Coordinates are pixel centres: x to the right, y downwards.
void Canvas::line(float x0, float y0, float x1, float y1, unsigned char r, unsigned char g,
                  unsigned char b) {
  if (!std::isfinite(x0) || !std::isfinite(y0) || !std::isfinite(x1) || !std::isfinite(y1)) return;
  double ax = x0, ay = y0, bx = x1, by = y1;
  if (!clip(ax, ay, bx, by, width, height)) return;
  // Bresenham between the rounded end points.
  int xa = static_cast<int>(std::lround(ax)), ya = static_cast<int>(std::lround(ay));
  const int xb = static_cast<int>(std::lround(bx)), yb = static_cast<int>(std::lround(by));
  const int dx = std::abs(xb - xa), dy = -std::abs(yb - ya);
  const int sx = xa < xb ? 1 : -1, sy = ya < yb ? 1 : -1;
  int err = dx + dy;
  for (;;) {
    put(*this, xa, ya, r, g, b);
    if (xa == xb && ya == yb) break;
    const int e2 = 2 * err;
    if (e2 >= dy) {
      err += dy;
      xa += sx;
    }
    if (e2 <= dx) {
      err += dx;
      ya += sy;
    }
  }
}

void Canvas::dot(float x, float y, int radius, unsigned char r, unsigned char g, unsigned char b) {
  radius = std::max(radius, 0);
  if (!std::isfinite(x) || !std::isfinite(y)) return;
  if (x < -radius - 1.f || y < -radius - 1.f || x > width + radius + 1.f ||
      y > height + radius + 1.f)
    return;
  const int cx = static_cast<int>(std::lround(x)), cy = static_cast<int>(std::lround(y));
  for (int dy = -radius; dy <= radius; ++dy)
    for (int dx = -radius; dx <= radius; ++dx)
      if (dx * dx + dy * dy <= radius * radius) put(*this, cx + dx, cy + dy, r, g, b);
}

void Canvas::save_png(const std::string& path) const {
  detail::write_file_atomic("Canvas::save_png", path,
                            encode_png("Canvas::save_png", path, rgb.data(), width, height, 3));
}

}  // namespace ge::models
