#pragma once
// The CycleGAN reference's ImagePool (Shrivastava et al. 2017): the discriminators learn from a
// history of generated images, not only the latest, which damps oscillation.
#include <cstdint>
#include <map>
#include <string>

#include "ganengine/random.h"
#include "ganengine/tensor.h"

namespace ge::models {

class ImagePool {
 public:
  // size 0: no pool; query returns its input.
  explicit ImagePool(int64_t size);
  // images [N, ...] (detached). Per image, in order: while the pool is filling, the image is
  // stored and returned; once full, with probability 1/2 it replaces a uniformly chosen stored
  // image, which is returned in its place, else it is returned. Two uniforms per image come
  // from `generator` whichever branch runs, so its stream advances by a fixed amount.
  Tensor query(const Tensor& images, Generator& generator);
  int64_t size() const { return size_; }
  int64_t count() const { return count_; }

  // "<prefix>images" ([size, ...], zeros past count) and "<prefix>count" (float32 [1]); none
  // before the first query of a pool that has a size.
  std::map<std::string, Tensor> state(const std::string& prefix) const;
  // Checks the entries (present, shapes, count in [0, size]) before changing anything; errors
  // name `file` and the key.
  void load_state(const std::map<std::string, Tensor>& state, const std::string& prefix,
                  const Shape& image_shape, const std::string& file);

 private:
  int64_t size_;
  int64_t count_ = 0;
  Tensor images_;  // [size, ...] once the first image arrives
};

}  // namespace ge::models
