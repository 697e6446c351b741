#pragma once
// The Frechet distance between Gaussians fitted to two feature sets: FID (Heusel et al., 2017)
// with the MNIST classifier's penultimate features in place of Inception's pool3.
#include <cstdint>
#include <vector>

#include "ganengine/tensor.h"

namespace ge::models::metrics {

// Mean and covariance (divisor N - 1, as numpy.cov) of features in double precision.
struct Gaussian {
  int64_t dim = 0;
  std::vector<double> mean;  // [dim]
  std::vector<double> cov;   // [dim, dim], row-major, symmetric
};

// `features` [N, F] with N >= 2, any device. Throws ge::Error on a bad shape or non-finite values.
Gaussian fit_gaussian(const Tensor& features);

// |mu_a - mu_b|^2 + tr(S_a + S_b - 2 (S_a^1/2 S_b S_a^1/2)^1/2), with the matrix square roots
// taken through symmetric eigendecompositions (negative eigenvalues from rounding clamp to 0), so
// the result is real and >= 0. Throws ge::Error when the dimensions differ.
double frechet_distance(const Gaussian& a, const Gaussian& b);
double frechet_distance(const Tensor& features_a, const Tensor& features_b);

// Eigenvalues (ascending) and eigenvectors (columns of the row-major [n, n] `vectors`) of the
// symmetric row-major [n, n] matrix `a`, by cyclic Jacobi rotations.
void symmetric_eigen(const std::vector<double>& a, int64_t n, std::vector<double>& values,
                     std::vector<double>& vectors);

}  // namespace ge::models::metrics
