#include "decoded_image.h"

#include <stb/stb_image.h>

#include <cstddef>
#include <string>

#include "ganengine/error.h"

namespace ge::models::data {
namespace {

struct StbImage {
  unsigned char* pixels = nullptr;
  ~StbImage() { stbi_image_free(pixels); }
};

// PIL's convert("L"): ITU-R 601 luma in 16-bit fixed point, rounded to nearest (stb's own
// conversion truncates, so it would differ by a level from data prepared with PIL).
unsigned char luma(const unsigned char* rgb) {
  return static_cast<unsigned char>(
      (rgb[0] * 19595u + rgb[1] * 38470u + rgb[2] * 7471u + 0x8000u) >> 16);
}

}  // namespace

DecodedImage decode_image(const char* op, const std::string& path, int channels) {
  GE_CHECK(channels == 1 || channels == 3, op, ": expected 1 or 3 channels, got ", channels);
  int w = 0, h = 0, file_channels = 0;
  StbImage image;
  image.pixels = stbi_load(path.c_str(), &w, &h, &file_channels, channels == 1 ? 0 : channels);
  if (image.pixels == nullptr)
    fail(op, ": cannot decode '", path, "': ", stbi_failure_reason(),
         " (expected a PNG, JPEG or BMP image)");
  DecodedImage out;
  out.width = w;
  out.height = h;
  out.channels = channels;
  out.file_channels = file_channels;
  const size_t count = static_cast<size_t>(w) * h;
  if (channels == 1 && file_channels != 1) {
    out.pixels.resize(count);
    for (size_t i = 0; i < count; ++i) {
      const unsigned char* p = image.pixels + i * file_channels;
      out.pixels[i] = file_channels >= 3 ? luma(p) : p[0];  // gray + alpha: the gray
    }
  } else {
    out.pixels.assign(image.pixels, image.pixels + count * channels);
  }
  return out;
}

}  // namespace ge::models::data
