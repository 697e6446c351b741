// Super-resolution training crops: random squares of a set of photographs, flipped and rotated,
// drawn from a hash of (seed, index) alone so that get() holds no state and any thread may call
// it. The photographs are decoded once, at their own size.
#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "decoded_image.h"
#include "ganengine/error.h"
#include "ganengine/models/data/dataset.h"
#include "image_format.h"

namespace ge::models::data {
namespace {

constexpr const char* kOp = "make_photo_patches";
// Crops per nominal epoch: enough that a run of any length here never repeats one.
constexpr int64_t kDefaultCount = int64_t{1} << 20;

uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

class PhotoPatches final : public Dataset {
 public:
  PhotoPatches(std::vector<DecodedImage> images, const ImageFormat& format, int64_t count,
               uint64_t seed)
      : images_(std::move(images)), format_(format), count_(count), seed_(seed) {
    const int64_t p = format_.resolution;
    int64_t total = 0;
    for (const DecodedImage& im : images_) {
      total += (im.height - p + 1) * (im.width - p + 1);
      first_position_.push_back(total);
    }
  }

  std::string name() const override { return "photo-patches"; }
  int64_t size() const override { return count_; }
  Shape sample_shape() const override {
    return {format_.channels, format_.resolution, format_.resolution};
  }

  // Every crop position of every photograph is equally likely (so larger photographs give more
  // crops), then one of the 8 flips and quarter turns.
  void get(int64_t index, float* out) const override {
    GE_CHECK(index >= 0 && index < count_, kOp, ": sample index ", index, " is out of range [0, ",
             count_, ")");
    const uint64_t h = splitmix64(seed_ ^ splitmix64(static_cast<uint64_t>(index)));
    const int64_t positions = first_position_.back();
    // The modulo's bias is below positions / 2^64.
    int64_t pos = static_cast<int64_t>(h % static_cast<uint64_t>(positions));
    const size_t which =
        static_cast<size_t>(std::upper_bound(first_position_.begin(), first_position_.end(), pos) -
                            first_position_.begin());
    if (which > 0) pos -= first_position_[which - 1];
    const DecodedImage& im = images_[which];
    const int64_t p = format_.resolution, c = format_.channels;
    const int64_t across = im.width - p + 1;
    const int64_t top = pos / across, left = pos % across;
    const uint64_t transform = splitmix64(h) & 7;
    const bool flip = (transform & 1) != 0;
    const uint64_t turns = transform >> 1;  // counter-clockwise quarter turns, as torch.rot90
    const int64_t plane = p * p;
    for (int64_t y = 0; y < p; ++y) {
      for (int64_t x0 = 0; x0 < p; ++x0) {
        const int64_t x = flip ? p - 1 - x0 : x0;
        int64_t sy = y, sx = x;
        if (turns == 1) sy = x, sx = p - 1 - y;
        if (turns == 2) sy = p - 1 - y, sx = p - 1 - x;
        if (turns == 3) sy = p - 1 - x, sx = y;
        const unsigned char* src =
            im.pixels.data() + ((top + sy) * static_cast<int64_t>(im.width) + left + sx) * c;
        for (int64_t k = 0; k < c; ++k)
          out[k * plane + y * p + x0] = pixel_value(src[k]);
      }
    }
  }

 private:
  std::vector<DecodedImage> images_;
  ImageFormat format_;
  int64_t count_;
  uint64_t seed_;
  std::vector<int64_t> first_position_;  // cumulative crop positions, one past each image's
};

}  // namespace

std::shared_ptr<Dataset> make_photo_patches(const std::vector<std::string>& files,
                                            const ImageFormat& format, int64_t count,
                                            uint64_t seed) {
  check_image_format(kOp, format);
  GE_CHECK(!files.empty(), kOp, ": expected at least one photograph, got none");
  GE_CHECK(count >= 0, kOp, ": expected count >= 0 (0: ", kDefaultCount, "), got ", count);
  std::vector<DecodedImage> images;
  for (const std::string& f : files) {
    images.push_back(decode_image(kOp, f, static_cast<int>(format.channels)));
    const DecodedImage& im = images.back();
    GE_CHECK(im.width >= format.resolution && im.height >= format.resolution, kOp, ": '", f,
             "' is ", im.width, "x", im.height, "; the ", format.resolution, "x", format.resolution,
             " crops need each side >= ", format.resolution);
  }
  return std::make_shared<PhotoPatches>(std::move(images), format,
                                        count == 0 ? kDefaultCount : count, seed);
}

}  // namespace ge::models::data
