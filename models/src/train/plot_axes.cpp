#include "plot_axes.h"

#include <cmath>
#include <cstdio>

namespace ge::models::train {
namespace {

// 3x5 glyphs, rows top to bottom, '1' = ink.
const char* glyph(char c) {
  switch (c) {
    case '0':
      return "111101101101111";
    case '1':
      return "010110010010111";
    case '2':
      return "111001111100111";
    case '3':
      return "111001111001111";
    case '4':
      return "101101111001001";
    case '5':
      return "111100111001111";
    case '6':
      return "111100111101111";
    case '7':
      return "111001001001001";
    case '8':
      return "111101111101111";
    case '9':
      return "111101111001111";
    case '.':
      return "000000000000010";
    case '-':
      return "000000111000000";
    case '+':
      return "000010111010000";
    case 'e':
      return "000111111100111";
    case 'D':
      return "110101101101110";
    case 'G':
      return "111100101101111";
    default:
      return nullptr;
  }
}

void fill(Canvas& c, int x, int y, int w, int h, Rgb color) {
  for (int yy = std::max(0, y); yy < std::min(c.height, y + h); ++yy)
    for (int xx = std::max(0, x); xx < std::min(c.width, x + w); ++xx) {
      unsigned char* p = &c.rgb[(static_cast<size_t>(yy) * c.width + xx) * 3];
      p[0] = color.r;
      p[1] = color.g;
      p[2] = color.b;
    }
}

}  // namespace

std::vector<double> nice_ticks(double lo, double hi, int target) {
  std::vector<double> ticks;
  if (!(hi > lo) || !std::isfinite(lo) || !std::isfinite(hi)) return ticks;
  const double raw = (hi - lo) / std::max(1, target);
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * mag >= raw) {
      step = m * mag;
      break;
    }
  for (double t = std::ceil(lo / step) * step; t <= hi + step * 1e-9; t += step)
    ticks.push_back(std::abs(t) < step * 1e-9 ? 0.0 : t);
  return ticks;
}

std::string tick_label(double value) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", value);
  return buf;
}

int text_width(const std::string& text, int scale) {
  return text.empty() ? 0 : static_cast<int>(text.size()) * 4 * scale - scale;
}

int draw_text(Canvas& canvas, int x, int y, const std::string& text, Rgb color, int scale) {
  int cx = x;
  for (char ch : text) {
    if (const char* g = glyph(ch))
      for (int row = 0; row < 5; ++row)
        for (int col = 0; col < 3; ++col)
          if (g[row * 3 + col] == '1')
            fill(canvas, cx + col * scale, y + row * scale, scale, scale, color);
    cx += 4 * scale;
  }
  return text_width(text, scale);
}

Axes::Axes(Canvas& canvas, int left, int top, int right, int bottom, double x0, double x1,
           double y0, double y1)
    : canvas_(canvas),
      left_(left),
      top_(top),
      right_(canvas.width - right),
      bottom_(canvas.height - bottom),
      x0_(x0),
      x1_(x1 > x0 ? x1 : x0 + 1),
      y0_(y0),
      y1_(y1 > y0 ? y1 : y0 + 1) {}

float Axes::px(double x) const {
  return static_cast<float>(left_ + (x - x0_) / (x1_ - x0_) * (right_ - left_));
}

float Axes::py(double y) const {
  return static_cast<float>(bottom_ - (y - y0_) / (y1_ - y0_) * (bottom_ - top_));
}

void Axes::draw() {
  const Rgb grid{225, 225, 225}, ink{0, 0, 0}, label{60, 60, 60};
  const auto l = static_cast<float>(left_), r = static_cast<float>(right_);
  const auto t = static_cast<float>(top_), b = static_cast<float>(bottom_);
  for (double x : nice_ticks(x0_, x1_)) {
    const float X = px(x);
    canvas_.line(X, t, X, b, grid.r, grid.g, grid.b);
    canvas_.line(X, b, X, b + 4, ink.r, ink.g, ink.b);
    const std::string s = tick_label(x);
    draw_text(canvas_, static_cast<int>(X) - text_width(s) / 2, bottom_ + 8, s, label);
  }
  for (double y : nice_ticks(y0_, y1_)) {
    const float Y = py(y);
    canvas_.line(l, Y, r, Y, grid.r, grid.g, grid.b);
    canvas_.line(l - 4, Y, l, Y, ink.r, ink.g, ink.b);
    const std::string s = tick_label(y);
    draw_text(canvas_, left_ - 8 - text_width(s), static_cast<int>(Y) - 5, s, label);
  }
  canvas_.line(l, t, r, t, ink.r, ink.g, ink.b);
  canvas_.line(l, b, r, b, ink.r, ink.g, ink.b);
  canvas_.line(l, t, l, b, ink.r, ink.g, ink.b);
  canvas_.line(r, t, r, b, ink.r, ink.g, ink.b);
}

}  // namespace ge::models::train
