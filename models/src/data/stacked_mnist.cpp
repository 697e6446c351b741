// Stacked MNIST: three MNIST digits as the channels of one image, 1,000 modes. Which digits a
// sample stacks is a hash of (seed, index, channel), so get() holds no state and any thread may
// call it.
#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "ganengine/error.h"
#include "ganengine/models/data/dataset.h"

namespace ge::models::data {
namespace {

constexpr const char* kOp = "make_stacked_mnist";
constexpr int64_t kChannels = 3;

uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

class StackedMnist final : public Dataset {
 public:
  StackedMnist(std::shared_ptr<const Dataset> mnist, int64_t count, uint64_t seed)
      : mnist_(std::move(mnist)),
        count_(count),
        seed_(seed),
        plane_(mnist_->sample_shape()[1] * mnist_->sample_shape()[2]) {}

  std::string name() const override { return "stacked-mnist"; }
  int64_t size() const override { return count_; }
  Shape sample_shape() const override {
    const Shape s = mnist_->sample_shape();
    return {kChannels, s[1], s[2]};
  }
  int64_t num_classes() const override { return 1000; }
  void get(int64_t index, float* out) const override {
    check_index(index);
    for (int64_t c = 0; c < kChannels; ++c)
      mnist_->get(source(index, c), out + c * plane_);
  }
  int64_t label(int64_t index) const override {
    check_index(index);
    int64_t label = 0;
    for (int64_t c = 0; c < kChannels; ++c)
      label = 10 * label + mnist_->label(source(index, c));
    return label;
  }

 private:
  void check_index(int64_t index) const {
    GE_CHECK(index >= 0 && index < count_, "stacked-mnist: sample index ", index,
             " is out of range [0, ", count_, ")");
  }
  // The MNIST sample in channel `c` of sample `index`. Modulo bias is below 2^-40 for any MNIST.
  int64_t source(int64_t index, int64_t c) const {
    const uint64_t h = splitmix64(splitmix64(seed_ ^ splitmix64(static_cast<uint64_t>(index))) +
                                  static_cast<uint64_t>(c));
    return static_cast<int64_t>(h % static_cast<uint64_t>(mnist_->size()));
  }

  std::shared_ptr<const Dataset> mnist_;
  int64_t count_;
  uint64_t seed_;
  int64_t plane_;
};

}  // namespace

std::shared_ptr<Dataset> make_stacked_mnist(std::shared_ptr<const Dataset> mnist, int64_t count,
                                            uint64_t seed) {
  GE_CHECK(mnist != nullptr, kOp, ": expected an MNIST data set, got none");
  const Shape shape = mnist->sample_shape();
  GE_CHECK(shape.size() == 3 && shape[0] == 1, kOp,
           ": expected one-channel images [1, H, W] (MNIST), got samples ", to_string(shape),
           " from \"", mnist->name(), "\"");
  GE_CHECK(mnist->num_classes() == 10, kOp, ": expected 10 labelled classes (MNIST), \"",
           mnist->name(), "\" has ",
           mnist->num_classes() == 0 ? std::string("no labels")
                                     : std::to_string(mnist->num_classes()) + " classes");
  GE_CHECK(mnist->size() >= 1, kOp, ": the source data set \"", mnist->name(), "\" is empty");
  GE_CHECK(count >= 1, kOp, ": expected a positive sample count, got ", count);
  return std::make_shared<StackedMnist>(std::move(mnist), count, seed);
}

}  // namespace ge::models::data
