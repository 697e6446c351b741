#pragma once
// Image files decoded at their own size, shared by the data sets that resize them and those that
// crop them.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace ge::models::data {

// Interleaved [height, width, channels] bytes.
struct DecodedImage {
  int width = 0, height = 0, channels = 0;
  int file_channels = 0;  // as stored: 1 gray, 2 gray + alpha, 3 RGB, 4 RGBA
  std::vector<unsigned char> pixels;
};

// A stored byte as the data sets' float in [-1, 1].
inline float pixel_value(unsigned char v) {
  return (v - 127.5f) / 127.5f;
}

// Interleaved [plane, channels] bytes to planar [channels, plane] floats in [-1, 1].
inline void to_planar_floats(const unsigned char* src, int64_t channels, int64_t plane,
                             float* out) {
  for (int64_t i = 0; i < plane; ++i)
    for (int64_t k = 0; k < channels; ++k)
      out[k * plane + i] = pixel_value(src[i * channels + k]);
}

// Decodes the PNG/JPEG/BMP `path` with `channels` (1 or 3) channels: colour to one channel is
// luma as PIL's convert("L") computes it, gray to three repeats the value, alpha is dropped. A
// file that does not decode throws ge::Error naming `op` and the file.
DecodedImage decode_image(const char* op, const std::string& path, int channels);
// decode_image of a file's `size` bytes at `data`, already in memory; errors name `name`. Images
// above 2^26 pixels are refused from their header, before any pixel is decoded.
DecodedImage decode_image_from_memory(const char* op, const std::string& name,
                                      const unsigned char* data, size_t size, int channels);

}  // namespace ge::models::data
