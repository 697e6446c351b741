#pragma once
// Writing generated samples: image grids, one row per class for conditional models, and
// scatter plots for 2-D models.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "ganengine/autograd.h"
#include "ganengine/models/gan.h"
#include "ganengine/models/image_io.h"
#include "ganengine/models/train/plots.h"
#include "ganengine/ops.h"

namespace ge::apps {

struct SampleGrid {
  Tensor labels;      // class per sample (conditional models), else undefined
  int64_t count = 0;  // samples
  int64_t nrow = 1;   // samples per row
};

// n samples: conditional models get ceil(n / K) per class, one class per row.
inline SampleGrid sample_grid(int64_t n, int64_t num_classes, Device device) {
  GE_CHECK(n >= 1, "--n: expected at least 1 sample, got ", n);
  SampleGrid grid;
  if (num_classes > 0) {
    grid.nrow = (n + num_classes - 1) / num_classes;
    grid.count = grid.nrow * num_classes;
    std::vector<float> labels(static_cast<size_t>(grid.count));
    for (int64_t i = 0; i < grid.count; ++i)
      labels[static_cast<size_t>(i)] = static_cast<float>(i / grid.nrow);
    grid.labels = from_vector(labels, {grid.count}, device);
  } else {
    grid.count = n;
    grid.nrow = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(std::sqrt(double(n)))));
  }
  return grid;
}

// Samples [N, C, H, W] as a grid, or [N, 2] points as a scatter plot.
inline void save_samples(const std::string& path, const Tensor& samples, int64_t nrow) {
  if (samples.dim() == 2) {
    const std::vector<float> v = samples.detach().to_vector();
    std::vector<models::train::Point2> points(v.size() / 2);
    for (size_t i = 0; i < points.size(); ++i)
      points[i] = {v[2 * i], v[2 * i + 1]};
    models::train::save_scatter_plot(path, points, {}, models::train::square_bounds(points));
  } else {
    models::save_image_grid(path, samples, nrow);
  }
}

}  // namespace ge::apps
