// A folder of PNG/JPEG/BMP files, decoded once at load time into the model's format.
#include <stb/stb_image_resize.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "ganengine/error.h"
#include "ganengine/models/data/dataset.h"
#include "decoded_image.h"
#include "image_format.h"

namespace ge::models::data {
namespace {

constexpr const char* kOp = "load_image_folder";
constexpr const char* kListOp = "list_image_files";
constexpr const char* kLoadOp = "load_image";
constexpr const char* kReadOp = "read_image";

bool is_image_file(const std::filesystem::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".bmp";
}

// The image files directly in `dir`, sorted by name; none is an error.
std::vector<std::string> list_images(const char* op, const std::string& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec))
    fail(op, ": '", dir, "' is not a directory", ec ? ": " + ec.message() : std::string());
  std::vector<std::filesystem::path> files;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code type_ec;
    if (it->is_regular_file(type_ec) && is_image_file(it->path())) files.push_back(it->path());
  }
  if (ec) fail(op, ": cannot list '", dir, "': ", ec.message());
  if (files.empty()) fail(op, ": '", dir, "' holds no PNG, JPEG or BMP files");
  std::sort(files.begin(), files.end());
  std::vector<std::string> paths;
  for (const std::filesystem::path& f : files)
    paths.push_back(f.string());
  return paths;
}

// Decodes `path` with `channels` channels (see decoded_image.h), center-crops it to a square and
// resizes that to `side`: interleaved [side, side, channels]. `op` names the caller in errors.
void decode(const char* op, const std::string& path, int channels, int side, unsigned char* out) {
  const DecodedImage image = decode_image(op, path, channels);
  const int w = image.width, h = image.height;
  const int crop = std::min(w, h);
  const unsigned char* corner =
      image.pixels.data() + (static_cast<size_t>((h - crop) / 2) * w + (w - crop) / 2) * channels;
  // A triangle filter: bilinear when enlarging, an area average when shrinking (no ringing).
  const int ok =
      stbir_resize_uint8_generic(corner, crop, crop, w * channels, out, side, side, side * channels,
                                 channels, STBIR_ALPHA_CHANNEL_NONE, 0, STBIR_EDGE_CLAMP,
                                 STBIR_FILTER_TRIANGLE, STBIR_COLORSPACE_LINEAR, nullptr);
  if (!ok) fail(op, ": resizing '", path, "' (", w, "x", h, ") to ", side, "x", side, " failed");
}

// Interleaved [R, R, C] bytes to planar [C, R, R] floats in [-1, 1].
void to_planar_floats(const unsigned char* src, const ImageFormat& format, float* out) {
  data::to_planar_floats(src, format.channels, format.resolution * format.resolution, out);
}

class ImageFolder final : public Dataset {
 public:
  ImageFolder(std::vector<unsigned char> pixels, int64_t count, const ImageFormat& format)
      : pixels_(std::move(pixels)), count_(count), format_(format) {}

  std::string name() const override { return "images"; }
  int64_t size() const override { return count_; }
  Shape sample_shape() const override {
    return {format_.channels, format_.resolution, format_.resolution};
  }

  void get(int64_t index, float* out) const override {
    GE_CHECK(index >= 0 && index < count_, kOp, ": sample index ", index, " is out of range [0, ",
             count_, ")");
    const int64_t c = format_.channels, plane = format_.resolution * format_.resolution;
    to_planar_floats(pixels_.data() + index * plane * c, format_, out);
  }

 private:
  std::vector<unsigned char> pixels_;  // [N, H, W, C], as decoded
  int64_t count_;
  ImageFormat format_;
};

}  // namespace

std::vector<std::string> list_image_files(const std::string& dir) {
  return list_images(kListOp, dir);
}

void load_image(const std::string& path, const ImageFormat& format, float* out) {
  check_image_format(kLoadOp, format);
  const int side = static_cast<int>(format.resolution);
  const int channels = static_cast<int>(format.channels);
  std::vector<unsigned char> pixels(static_cast<size_t>(side) * side * channels);
  decode(kLoadOp, path, channels, side, pixels.data());
  to_planar_floats(pixels.data(), format, out);
}

ImageData read_image(const std::string& path, int64_t channels) {
  GE_CHECK(channels == 1 || channels == 3, kReadOp, ": expected 1 or 3 channels, got ", channels);
  const DecodedImage im = decode_image(kReadOp, path, static_cast<int>(channels));
  ImageData out;
  out.channels = channels;
  out.height = im.height;
  out.width = im.width;
  out.file_channels = im.file_channels;
  out.pixels.resize(im.pixels.size());
  data::to_planar_floats(im.pixels.data(), channels, out.height * out.width, out.pixels.data());
  return out;
}

std::shared_ptr<Dataset> load_image_folder(const std::string& dir, const ImageFormat& format) {
  check_image_format(kOp, format);
  const std::vector<std::string> files = list_images(kOp, dir);
  const int side = static_cast<int>(format.resolution);
  const int channels = static_cast<int>(format.channels);
  const size_t sample_bytes = static_cast<size_t>(side) * side * channels;
  std::vector<unsigned char> pixels(files.size() * sample_bytes);
  for (size_t i = 0; i < files.size(); ++i)
    decode(kOp, files[i], channels, side, pixels.data() + i * sample_bytes);
  return std::make_shared<ImageFolder>(std::move(pixels), static_cast<int64_t>(files.size()),
                                       format);
}

}  // namespace ge::models::data
