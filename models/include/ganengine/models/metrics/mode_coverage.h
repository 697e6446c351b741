#pragma once
// Mode coverage: class histograms with their KL divergence to uniform (MNIST, Stacked MNIST) and
// the mode/quality counts for 2-D Gaussian mixtures (Srivastava et al., 2017 VEEGAN; Dumoulin
// et al. ALI; as used by PacGAN and the SNGAN/WGAN-GP comparisons).
#include <cstdint>
#include <vector>

#include "ganengine/models/data/dataset.h"
#include "ganengine/tensor.h"

namespace ge::models::metrics {

// Counts of each label in [0, num_classes); throws ge::Error naming a label out of range.
std::vector<int64_t> class_histogram(const std::vector<int64_t>& labels, int64_t num_classes);

// KL(histogram / total || uniform over histogram.size()) in nats; 0 for a uniform histogram,
// log(K) when one class holds everything. Throws on an empty histogram or a zero total.
double kl_to_uniform(const std::vector<int64_t>& histogram);

struct ModeCoverage {
  int64_t num_modes = 0;
  int64_t modes_hit = 0;       // modes with at least one sample
  double kl_to_uniform = 0.0;  // nats
  std::vector<int64_t> histogram;
};

// Labels in [0, num_classes): the histogram, how many classes it hits and its KL to uniform.
ModeCoverage mode_coverage(const std::vector<int64_t>& labels, int64_t num_classes);

// Stacked MNIST: `channel_labels` holds, per sample, the digit the classifier read in each of the
// 3 channels (sample-major: [N * 3]); the mode of a sample is 100 d0 + 10 d1 + d2 (1000 modes).
ModeCoverage stacked_mnist_coverage(const std::vector<int64_t>& channel_labels);

struct MixtureQuality {
  int64_t num_samples = 0;
  int64_t num_modes = 0;
  int64_t modes_captured = 0;          // modes nearest to at least one high-quality sample
  double high_quality_fraction = 0.0;  // samples within `num_std` stddevs of their nearest mode
  std::vector<int64_t> high_quality_per_mode;
};

// `points` [N, 2] (any device). A sample is high quality when its Euclidean distance to the
// nearest mean is at most num_std * spec.stddev. Throws on a bad shape or an empty spec.
MixtureQuality mixture_quality(const Tensor& points, const data::MixtureSpec& spec,
                               float num_std = 3.f);

}  // namespace ge::models::metrics
