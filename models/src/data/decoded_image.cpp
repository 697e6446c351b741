#include "decoded_image.h"

#include <stb/stb_image.h>

#include <cerrno>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <ios>
#include <iterator>
#include <string>
#include <vector>

#include "../file_io.h"
#include "ganengine/error.h"

namespace ge::models::data {
namespace {

// stb allocates from the header's size before it reads any pixel, so a few bytes claiming
// 65535x65535 would cost gigabytes and minutes; larger images are refused before decoding.
// PIL's decompression-bomb limit is of the same order (89.5M pixels).
constexpr uint64_t kMaxPixels = uint64_t{1} << 26;

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

// stb_image grows its buffer to a PNG chunk's declared length before reading the chunk, so a
// few bytes declaring a 2 GB IDAT would allocate 2 GB. Every chunk header in the data must
// declare a length that the data holds.
void check_png_chunks(const char* op, const std::string& name, const unsigned char* data,
                      size_t size) {
  static constexpr unsigned char kSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (size < 8 || std::memcmp(data, kSignature, 8) != 0) return;
  for (size_t pos = 8; size - pos >= 8;) {
    const uint32_t length = (uint32_t{data[pos]} << 24) | (uint32_t{data[pos + 1]} << 16) |
                            (uint32_t{data[pos + 2]} << 8) | uint32_t{data[pos + 3]};
    const std::string type(reinterpret_cast<const char*>(data + pos + 4), 4);
    const size_t left = size - pos - 8;
    if (length > left || left - length < 4)
      fail(op, ": cannot decode '", name, "': its PNG chunk '", type, "' at byte ", pos,
           " declares ", length, " bytes and a checksum, ", left, " bytes follow (truncated?)");
    if (type == "IEND") return;
    pos += 12 + size_t{length};
  }
}

}  // namespace

DecodedImage decode_image_from_memory(const char* op, const std::string& name,
                                      const unsigned char* data, size_t size, int channels) {
  GE_CHECK(channels == 1 || channels == 3, op, ": expected 1 or 3 channels, got ", channels);
  GE_CHECK(size <= static_cast<size_t>(INT_MAX), op, ": cannot decode '", name, "': ", size,
           " bytes, more than the decoder's limit of ", INT_MAX);
  const int len = static_cast<int>(size);
  check_png_chunks(op, name, data, size);
  int w = 0, h = 0, file_channels = 0;
  if (stbi_info_from_memory(data, len, &w, &h, &file_channels) &&
      static_cast<uint64_t>(w) * static_cast<uint64_t>(h) > kMaxPixels)
    fail(op, ": cannot decode '", name, "': its header says ", w, "x", h,
         " pixels, expected at most ", kMaxPixels, " (a corrupt file, or downscale it first)");
  StbImage image;
  image.pixels =
      stbi_load_from_memory(data, len, &w, &h, &file_channels, channels == 1 ? 0 : channels);
  if (image.pixels == nullptr)
    fail(op, ": cannot decode '", name, "': ", stbi_failure_reason(),
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

DecodedImage decode_image(const char* op, const std::string& path, int channels) {
  GE_CHECK(channels == 1 || channels == 3, op, ": expected 1 or 3 channels, got ", channels);
  std::ifstream in(path, std::ios::binary);
  if (!in)
    fail(op, ": cannot decode '", path, "': cannot open it (", std::strerror(errno),
         "; expected a PNG, JPEG or BMP image)");
  const auto bytes = models::detail::read_stream<std::vector<unsigned char>>(
      in, ge::detail::concat(op, ": cannot decode '", path, "': reading it failed"));
  return decode_image_from_memory(op, path, bytes.data(), bytes.size(), channels);
}

}  // namespace ge::models::data
