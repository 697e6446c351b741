#include "samples.h"

#include <algorithm>
#include <cmath>

#include "ganengine/autograd.h"
#include "ganengine/error.h"
#include "ganengine/models/image_io.h"
#include "ganengine/ops.h"

namespace ge::models::train {
namespace {

// The fixed latents come from their own stream, apart from the training generator.
constexpr uint64_t kSampleSeedOffset = 0x9e3779b9ull;

}  // namespace

GridLayout grid_layout(int64_t grid_size, int64_t num_classes) {
  GE_CHECK(grid_size >= 1, "sample grid: expected grid_size >= 1, got ", grid_size);
  if (num_classes > 0) {
    const int64_t per_class =
        std::max<int64_t>(1, std::llround(static_cast<double>(grid_size) / num_classes));
    return {per_class * num_classes, per_class};
  }
  const auto side = std::max<int64_t>(1, std::llround(std::sqrt(static_cast<double>(grid_size))));
  return {grid_size, side};
}

Tensor grid_labels(const GridLayout& layout, int64_t num_classes, Device device) {
  if (num_classes <= 0) return {};
  std::vector<float> labels(static_cast<size_t>(layout.count));
  for (int64_t i = 0; i < layout.count; ++i)
    labels[static_cast<size_t>(i)] = static_cast<float>(i / layout.nrow);
  return from_vector(labels, {layout.count}, device);
}

std::vector<Point2> to_points(const Tensor& samples) {
  GE_CHECK(samples.dim() == 2 && samples.size(1) == 2,
           "scatter plot: expected samples [N, 2], got ", to_string(samples.shape()));
  const std::vector<float> v = samples.detach().to_vector();
  std::vector<Point2> points(v.size() / 2);
  for (size_t i = 0; i < points.size(); ++i)
    points[i] = {v[2 * i], v[2 * i + 1]};
  return points;
}

SampleWriter::SampleWriter(Gan& gan, const data::Dataset& dataset, int64_t grid_size, uint64_t seed,
                           Device device)
    : gan_(gan), points_(gan.options().channels == 0) {
  Generator generator(seed + kSampleSeedOffset);
  if (points_) {
    layout_ = {kScatterPoints, 1};
    labels_ = gan.options().num_classes > 0 ? gan.sample_labels(layout_.count, device) : Tensor();
    // Real data in light gray behind the samples; the bounds stay fixed for the whole run.
    const int64_t n = std::min<int64_t>(dataset.size(), 2000);
    std::vector<float> sample(static_cast<size_t>(numel(dataset.sample_shape())));
    for (int64_t i = 0; i < n; ++i) {
      dataset.get(i * dataset.size() / n, sample.data());
      reference_.push_back({sample[0], sample[1]});
    }
    bounds_ = square_bounds(reference_);
  } else {
    layout_ = grid_layout(grid_size, gan.options().num_classes);
    labels_ = grid_labels(layout_, gan.options().num_classes, device);
  }
  z_ = gan.sample_latent(layout_.count, generator, device);
}

void SampleWriter::write(const std::string& path) {
  NoGradGuard no_grad;
  const bool ema = gan_.generator_ema() != nullptr;
  nn::EvalModeGuard g(&gan_.generator()), g_ema(gan_.generator_ema());
  const Tensor samples = gan_.generate(z_, labels_, ema);
  if (points_)
    save_scatter_plot(path, to_points(samples), reference_, bounds_);
  else
    save_image_grid(path, samples, layout_.nrow);
}

}  // namespace ge::models::train
