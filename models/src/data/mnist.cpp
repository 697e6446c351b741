// MNIST in the IDX format (yann.lecun.com/exdb/mnist): big-endian headers, unsigned bytes.
#include <stb/stb_image_resize.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <ios>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "../file_io.h"
#include "ganengine/error.h"
#include "ganengine/models/data/dataset.h"
#include "image_format.h"

namespace ge::models::data {
namespace {

constexpr const char* kOp = "load_mnist";
constexpr int64_t kSide = 28;
// The padded side: DCGAN-style models want a power of two, and a border keeps the digit's
// framing the same at every resolution derived from it.
constexpr int64_t kPadded = 32;
constexpr uint32_t kImageMagic = 2051;  // 0x00000803: unsigned bytes, 3 dimensions
constexpr uint32_t kLabelMagic = 2049;  // 0x00000801: unsigned bytes, 1 dimension

uint32_t big_endian32(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

std::vector<unsigned char> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    fail(kOp, ": cannot open '", path, "': ", std::strerror(errno),
         " (expected an MNIST IDX file; scripts/fetch_mnist.sh fetches them)");
  return models::detail::read_stream<std::vector<unsigned char>>(
      in, ge::detail::concat(kOp, ": reading '", path, "' failed"));
}

struct Idx {
  std::vector<int64_t> dims;
  std::vector<unsigned char> bytes;  // the whole file
  size_t data_offset = 0;
};

// Parses the bytes of an IDX file of unsigned bytes with `ndims` dimensions, validating them
// against the header; errors name `path`.
Idx parse_idx(std::vector<unsigned char> bytes, const std::string& path, uint32_t magic,
              size_t ndims) {
  Idx idx;
  idx.bytes = std::move(bytes);
  if (idx.bytes.size() < 4)
    fail(kOp, ": '", path, "' is truncated: ", idx.bytes.size(),
         " bytes, too short for an IDX magic number");
  const uint32_t got = big_endian32(idx.bytes.data());
  if (got != magic) {
    const bool gzip = idx.bytes[0] == 0x1f && idx.bytes[1] == 0x8b;
    fail(kOp, ": '", path, "' has a bad magic number ", got, ", expected ", magic, " (",
         ndims == 3 ? "images" : "labels", " as unsigned bytes)",
         gzip ? "; it is gzip-compressed: decompress it first" : "");
  }
  const size_t header = 4 + 4 * ndims;
  if (idx.bytes.size() < header)
    fail(kOp, ": '", path, "' is truncated: expected a ", header, "-byte IDX header, the file has ",
         idx.bytes.size(), " bytes");
  uint64_t count = 1;
  for (size_t d = 0; d < ndims; ++d) {
    const uint32_t n = big_endian32(idx.bytes.data() + 4 + 4 * d);
    idx.dims.push_back(n);
    if (__builtin_mul_overflow(count, uint64_t{n}, &count))
      fail(kOp, ": '", path, "' has dimensions whose product overflows 64 bits");
  }
  idx.data_offset = header;
  const uint64_t have = idx.bytes.size() - header;
  if (have < count)
    fail(kOp, ": '", path, "' is truncated: its header promises ", count,
         " bytes of data, the file has ", have);
  if (have > count)
    fail(kOp, ": '", path, "' has ", have - count, " unexpected bytes after the ", count,
         " bytes of data its header describes");
  return idx;
}

Idx read_idx(const std::string& path, uint32_t magic, size_t ndims) {
  return parse_idx(read_file(path), path, magic, ndims);
}

class Mnist final : public Dataset {
 public:
  Mnist(std::vector<unsigned char> pixels, std::vector<unsigned char> labels,
        const ImageFormat& format)
      : pixels_(std::move(pixels)), labels_(std::move(labels)), format_(format) {}

  std::string name() const override { return "mnist"; }
  int64_t size() const override { return static_cast<int64_t>(labels_.size()); }
  Shape sample_shape() const override {
    return {format_.channels, format_.resolution, format_.resolution};
  }
  int64_t num_classes() const override { return 10; }
  int64_t label(int64_t index) const override {
    check_index(index);
    return labels_[static_cast<size_t>(index)];
  }

  void get(int64_t index, float* out) const override {
    check_index(index);
    const unsigned char* src = pixels_.data() + index * kSide * kSide;
    const int64_t r = format_.resolution;
    const int64_t side = r == kSide ? kSide : kPadded;
    // 28x28 as is, otherwise padded to 32 (and resized from there).
    float padded[kPadded * kPadded];
    const int64_t border = (side - kSide) / 2;
    std::fill(padded, padded + side * side, -1.f);
    for (int64_t y = 0; y < kSide; ++y)
      for (int64_t x = 0; x < kSide; ++x)
        padded[(y + border) * side + x + border] = (src[y * kSide + x] - 127.5f) / 127.5f;
    if (r == side) {
      std::copy(padded, padded + side * side, out);
    } else {
      // Bilinear (a triangle filter widened when shrinking, so downsampling averages); its
      // weights are non-negative, so the result stays in [-1, 1].
      const int ok = stbir_resize_float_generic(
          padded, static_cast<int>(side), static_cast<int>(side), 0, out, static_cast<int>(r),
          static_cast<int>(r), 0, 1, STBIR_ALPHA_CHANNEL_NONE, 0, STBIR_EDGE_CLAMP,
          STBIR_FILTER_TRIANGLE, STBIR_COLORSPACE_LINEAR, nullptr);
      GE_CHECK(ok, kOp, ": resizing an image to ", r, "x", r, " failed");
    }
    for (int64_t c = 1; c < format_.channels; ++c)
      std::copy(out, out + r * r, out + c * r * r);
  }

 private:
  void check_index(int64_t index) const {
    GE_CHECK(index >= 0 && index < size(), kOp, ": sample index ", index, " is out of range [0, ",
             size(), ")");
  }

  std::vector<unsigned char> pixels_;  // [N, 28, 28]
  std::vector<unsigned char> labels_;  // [N]
  ImageFormat format_;
};

void check_images(const Idx& images, const std::string& images_path) {
  if (images.dims[1] != kSide || images.dims[2] != kSide)
    fail(kOp, ": '", images_path, "' has wrong dimensions: expected 28x28 images, got ",
         images.dims[1], "x", images.dims[2]);
  if (images.dims[0] == 0) fail(kOp, ": '", images_path, "' holds no images");
}

// The data set of a pair of parsed IDX files, the images already checked; errors name the files.
std::shared_ptr<Dataset> make_mnist(Idx images, const std::string& images_path, Idx labels,
                                    const std::string& labels_path, const ImageFormat& format) {
  if (labels.dims[0] != images.dims[0])
    fail(kOp, ": label count mismatch: '", labels_path, "' holds ", labels.dims[0], " labels, '",
         images_path, "' holds ", images.dims[0], " images");

  std::vector<unsigned char> label_bytes(labels.bytes.begin() + labels.data_offset,
                                         labels.bytes.end());
  for (size_t i = 0; i < label_bytes.size(); ++i)
    if (label_bytes[i] > 9)
      fail(kOp, ": '", labels_path, "' holds label ", int{label_bytes[i]}, " at index ", i,
           ", expected a digit 0..9");
  images.bytes.erase(images.bytes.begin(),
                     images.bytes.begin() + static_cast<std::ptrdiff_t>(images.data_offset));
  return std::make_shared<Mnist>(std::move(images.bytes), std::move(label_bytes), format);
}

}  // namespace

std::shared_ptr<Dataset> load_mnist(const std::string& dir, const ImageFormat& format,
                                    const std::string& split) {
  GE_CHECK(split == "train" || split == "test", kOp,
           ": expected split \"train\" or \"test\", got \"", split, "\"");
  check_image_format(kOp, format);
  const std::string prefix = dir + "/" + (split == "train" ? "train" : "t10k");
  const std::string images_path = prefix + "-images-idx3-ubyte";
  const std::string labels_path = prefix + "-labels-idx1-ubyte";
  Idx images = read_idx(images_path, kImageMagic, 3);
  check_images(images, images_path);
  Idx labels = read_idx(labels_path, kLabelMagic, 1);
  return make_mnist(std::move(images), images_path, std::move(labels), labels_path, format);
}

std::shared_ptr<Dataset> load_mnist_from_memory(std::string_view images, std::string_view labels,
                                                const ImageFormat& format,
                                                const std::string& name) {
  check_image_format(kOp, format);
  const std::string images_path = name + " (images)";
  const std::string labels_path = name + " (labels)";
  Idx image_idx = parse_idx({images.begin(), images.end()}, images_path, kImageMagic, 3);
  check_images(image_idx, images_path);
  Idx label_idx = parse_idx({labels.begin(), labels.end()}, labels_path, kLabelMagic, 1);
  return make_mnist(std::move(image_idx), images_path, std::move(label_idx), labels_path, format);
}

}  // namespace ge::models::data
