#pragma once
// Sample grids from a fixed latent batch, so grids of one run compare step to step.
#include <cstdint>
#include <string>
#include <vector>

#include "ganengine/models/data/dataset.h"
#include "ganengine/models/gan.h"
#include "ganengine/models/train/plots.h"
#include "ganengine/nn/module.h"

namespace ge::models::train {

// Layout of a sample grid: conditional models get one row per class.
struct GridLayout {
  int64_t count = 0;  // images in the grid
  int64_t nrow = 1;   // images per row
};
GridLayout grid_layout(int64_t grid_size, int64_t num_classes);
// Labels 0..K-1 by row of `layout` (float32 [count]), undefined when num_classes is 0.
Tensor grid_labels(const GridLayout& layout, int64_t num_classes, Device device);

// Points drawn for 2-D models' scatter plots.
inline constexpr int64_t kScatterPoints = 1024;

class SampleWriter : public Sampler {
 public:
  SampleWriter(Gan& gan, const data::Dataset& dataset, int64_t grid_size, uint64_t seed,
               Device device);
  // A PNG of G(fixed latents): the EMA generator when there is one, networks in eval mode (no
  // batch-norm statistics or other training state changes, so sampling never alters a run).
  void write(const std::string& path) override;

 private:
  Gan& gan_;
  bool points_;
  GridLayout layout_;
  Tensor z_, labels_;
  std::vector<Point2> reference_;
  PlotBounds bounds_;
};

// Converts [N, 2] samples (any device) to points.
std::vector<Point2> to_points(const Tensor& samples);

}  // namespace ge::models::train
