#pragma once
// Image files decoded at their own size, shared by the data sets that resize them and those that
// crop them.
#include <string>
#include <vector>

namespace ge::models::data {

// Interleaved [height, width, channels] bytes.
struct DecodedImage {
  int width = 0, height = 0, channels = 0;
  int file_channels = 0;  // as stored: 1 gray, 2 gray + alpha, 3 RGB, 4 RGBA
  std::vector<unsigned char> pixels;
};

// Decodes the PNG/JPEG/BMP `path` with `channels` (1 or 3) channels: colour to one channel is
// luma as PIL's convert("L") computes it, gray to three repeats the value, alpha is dropped. A
// file that does not decode throws ge::Error naming `op` and the file.
DecodedImage decode_image(const char* op, const std::string& path, int channels);

}  // namespace ge::models::data
