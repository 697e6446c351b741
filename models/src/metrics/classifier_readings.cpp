#include "classifier_readings.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "ganengine/autograd.h"
#include "ganengine/error.h"

namespace ge::models::detail {
namespace {

constexpr const char* kOp = "evaluate";
constexpr int64_t kNumClasses = MnistClassifier::kNumClasses;

}  // namespace

void Readings::add(MnistClassifier& net, const Tensor& images) {
  NoGradGuard no_grad;
  const MnistClassifier::Output out = net.forward_all(clamp(images, -1.f, 1.f).contiguous());
  const std::vector<float> logits = out.logits.to_vector();
  const std::vector<float> f = out.features.to_vector();
  const int64_t n = images.size(0);
  GE_CHECK(static_cast<int64_t>(logits.size()) == n * kNumClasses &&
               static_cast<int64_t>(f.size()) == n * MnistClassifier::kFeatureDim,
           kOp, ": the classifier returned logits ", to_string(out.logits.shape()),
           " and features ", to_string(out.features.shape()), " for ", n, " images");
  features.insert(features.end(), f.begin(), f.end());
  for (int64_t i = 0; i < n; ++i) {
    const float* row = logits.data() + i * kNumClasses;
    const int64_t best = std::max_element(row, row + kNumClasses) - row;
    double total = 0;
    std::vector<double> e(static_cast<size_t>(kNumClasses));
    for (int64_t k = 0; k < kNumClasses; ++k) {
      GE_CHECK(std::isfinite(row[k]), kOp, ": the classifier returned a non-finite logit ", row[k],
               " (generated images with NaN?)");
      e[static_cast<size_t>(k)] = std::exp(static_cast<double>(row[k]) - row[best]);
      total += e[static_cast<size_t>(k)];
    }
    for (double v : e)
      probs.push_back(static_cast<float>(v / total));
    labels.push_back(best);
  }
  count += n;
}

Tensor Readings::probs_tensor() const {
  return from_vector(probs, {count, kNumClasses}, kCPU);
}

Tensor Readings::features_tensor() const {
  return from_vector(features, {count, MnistClassifier::kFeatureDim}, kCPU);
}

}  // namespace ge::models::detail
