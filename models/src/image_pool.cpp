#include "ganengine/models/image_pool.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "ganengine/autograd.h"
#include "ganengine/error.h"
#include "ganengine/ops.h"

namespace ge::models {

ImagePool::ImagePool(int64_t size) : size_(size) {
  GE_CHECK(size >= 0, "ImagePool: expected size >= 0, got ", size);
}

Tensor ImagePool::query(const Tensor& images, Generator& generator) {
  if (size_ == 0) return images;
  GE_CHECK(images.dim() >= 1 && images.size(0) > 0, "ImagePool: expected a batch [N, ...], got ",
           to_string(images.shape()));
  NoGradGuard no_grad;
  const Tensor batch = images.detach();
  const int64_t n = batch.size(0);
  Shape one(batch.shape().begin() + 1, batch.shape().end());
  if (!images_.defined()) {
    Shape all = one;
    all.insert(all.begin(), size_);
    images_ = zeros(all, batch.options());
  } else {
    GE_CHECK(Shape(images_.shape().begin() + 1, images_.shape().end()) == one,
             "ImagePool: holds images ", to_string(one), ", got a batch ",
             to_string(batch.shape()));
    images_ = images_.to(batch.device());
  }
  const std::vector<float> u = rand({2 * n}, kCPU, &generator).to_vector();
  std::vector<Tensor> out;
  out.reserve(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const Tensor image = batch.select(0, i);
    if (count_ < size_) {
      images_.select(0, count_++).copy_(image);
      out.push_back(image);
    } else if (u[2 * i] > 0.5f) {
      const auto id = std::min<int64_t>(
          size_ - 1, static_cast<int64_t>(std::floor(u[2 * i + 1] * static_cast<float>(size_))));
      Tensor slot = images_.select(0, id);
      out.push_back(slot.clone());
      slot.copy_(image);
    } else {
      out.push_back(image);
    }
  }
  return stack(out, 0);
}

std::map<std::string, Tensor> ImagePool::state(const std::string& prefix) const {
  if (!images_.defined()) return {};
  return {{prefix + "images", images_},
          {prefix + "count", from_vector({static_cast<float>(count_)}, {1})}};
}

void ImagePool::load_state(const std::map<std::string, Tensor>& state, const std::string& prefix,
                           const Shape& image_shape, const std::string& file) {
  const auto images = state.find(prefix + "images");
  const auto count = state.find(prefix + "count");
  if (images == state.end() && count == state.end()) {
    GE_CHECK(size_ == 0 || count_ == 0, file, ": missing tensor 'state.", prefix, "images'");
    return;  // saved before the pool's first query
  }
  GE_CHECK(images != state.end(), file, ": missing tensor 'state.", prefix, "images'");
  GE_CHECK(count != state.end(), file, ": missing tensor 'state.", prefix, "count'");
  Shape expected = image_shape;
  expected.insert(expected.begin(), size_);
  GE_CHECK(images->second.shape() == expected, file, ": tensor 'state.", prefix,
           "images' has shape ", to_string(images->second.shape()), ", the pool holds ",
           to_string(expected));
  GE_CHECK(count->second.numel() == 1, file, ": tensor 'state.", prefix,
           "count' should hold one number, has shape ", to_string(count->second.shape()));
  const float c = count->second.item();
  GE_CHECK(c >= 0.f && c <= static_cast<float>(size_) && c == std::floor(c), file,
           ": tensor 'state.", prefix, "count' is ", c, ", expected an integer in [0, ", size_,
           "]");
  const Device device = images_.defined() ? images_.device() : kCPU;
  images_ = images->second.to(device).clone();
  count_ = static_cast<int64_t>(c);
}

}  // namespace ge::models
