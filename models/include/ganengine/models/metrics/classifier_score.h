#pragma once
// The classifier score: the Inception score of Salimans et al. (2016) with an MNIST classifier in
// place of Inception, exp(E_x KL(p(y|x) || p(y))), computed in double precision.
#include <cstdint>

#include "ganengine/tensor.h"

namespace ge::models::metrics {

struct ScoreStats {
  double mean = 0.0;
  double stddev = 0.0;  // over the splits (0 for one split)
};

// `probs` [N, K]: class probabilities, each row summing to 1 (within 1e-3). The N rows are cut
// into `splits` consecutive parts of equal size (the remainder is dropped, as Inception-score
// code does); each part gives exp(mean_i KL(p_i || mean_j p_j)), and the parts' mean and
// population standard deviation are returned. Ranges from 1 (every row the same) to K (rows
// confident and classes balanced). Throws ge::Error on a bad shape, N < splits, a negative or
// non-finite probability or a row not summing to 1.
ScoreStats classifier_score(const Tensor& probs, int64_t splits = 1);

}  // namespace ge::models::metrics
