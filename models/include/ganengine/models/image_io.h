#pragma once
// PNG output of samples and plots.
#include <string>
#include <vector>

#include "ganengine/tensor.h"

namespace ge::models {

// [-1, 1] -> its 8-bit level in [0, 255], rounded to nearest as torchvision's save_image does
// (outside [-1, 1] clamped, NaN 0): what save_image_grid writes.
unsigned char to_byte(float v);

// Writes images [N, C, H, W] (C 1 or 3, values in [-1, 1], any device) as one PNG grid with
// `nrow` images per row and `padding` pixels between them (torchvision's make_grid layout).
// Atomic (temporary file + rename); errors name the path.
void save_image_grid(const std::string& path, const Tensor& images, int64_t nrow = 8,
                     int64_t padding = 2);
// 8-bit RGB canvas for plots.
struct Canvas {
  int width = 0, height = 0;
  std::vector<unsigned char> rgb;  // width * height * 3
  Canvas(int width, int height, unsigned char gray = 255);
  void line(float x0, float y0, float x1, float y1, unsigned char r, unsigned char g,
            unsigned char b);
  void dot(float x, float y, int radius, unsigned char r, unsigned char g, unsigned char b);
  void save_png(const std::string& path) const;  // atomic
};

}  // namespace ge::models
