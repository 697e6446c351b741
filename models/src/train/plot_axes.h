#pragma once
// Plot frames for the trainer's PNGs: data-to-pixel mapping, gridlines at round values, and
// tick labels in a 3x5 pixel font (the canvas has no text of its own).
#include <string>
#include <vector>

#include "ganengine/models/image_io.h"

namespace ge::models::train {

struct Rgb {
  unsigned char r, g, b;
};

// Round tick values covering [lo, hi], about `target` of them (steps of 1, 2 or 5 x 10^k).
std::vector<double> nice_ticks(double lo, double hi, int target = 5);
// Tick label text: "%g" with at most 4 significant digits.
std::string tick_label(double value);
// Draws `text` (digits, '.', '-', '+', 'e', 'D', 'G', ' ') with its top-left corner at (x, y);
// other characters are left blank. Returns the width drawn in pixels.
int draw_text(Canvas& canvas, int x, int y, const std::string& text, Rgb color, int scale = 2);
int text_width(const std::string& text, int scale = 2);

class Axes {
 public:
  // A plot region inside `canvas` with the given pixel margins, showing [x0, x1] x [y0, y1].
  Axes(Canvas& canvas, int left, int top, int right, int bottom, double x0, double x1, double y0,
       double y1);
  float px(double x) const;
  float py(double y) const;
  // Gridlines and labels at nice ticks, then the frame.
  void draw();

 private:
  Canvas& canvas_;
  int left_, top_, right_, bottom_;
  double x0_, x1_, y0_, y1_;
};

}  // namespace ge::models::train
