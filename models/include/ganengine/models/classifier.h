#pragma once
// The MNIST classifier the sample-quality metrics read with (the role Inception plays for FID and
// the Inception score): a LeNet-style CNN trained in the engine on the fetched digits.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "ganengine/models/data/dataset.h"
#include "ganengine/nn/conv.h"
#include "ganengine/nn/linear.h"
#include "ganengine/nn/module.h"
#include "ganengine/random.h"

namespace ge::models {

// Input [N, 1, 32, 32] in [-1, 1] (the models' MNIST format: 28x28 padded to 32).
// conv 5x5 1->32, lrelu, 2x2 average pool, conv 5x5 32->64, lrelu, pool, fc 4096->128, lrelu
// (the features), fc 128->10 (the logits).
class MnistClassifier : public nn::Module {
 public:
  static constexpr int64_t kResolution = 32;
  static constexpr int64_t kFeatureDim = 128;
  static constexpr int64_t kNumClasses = 10;

  explicit MnistClassifier(Generator& generator);
  std::string name() const override { return "MnistClassifier"; }

  struct Output {
    Tensor logits;    // [N, 10]
    Tensor features;  // [N, 128], the penultimate layer
  };
  Output forward_all(const Tensor& x);
  Tensor forward(const Tensor& x) override { return forward_all(x).logits; }

  std::shared_ptr<nn::Conv2d> conv1, conv2;
  std::shared_ptr<nn::Linear> fc1, fc2;
};

struct ClassifierTrainOptions {
  int64_t epochs = 8;
  int64_t batch = 64;
  float lr = 2e-3f;  // Adam, betas (0.9, 0.999); decayed to 0 along a cosine over the run
  uint64_t seed = 0;
  int64_t max_shift = 2;  // random translation of each training image by up to this many pixels
  Device device = kCPU;
  // Called after each epoch with the mean training loss and the held-out accuracy. Without it
  // the held-out accuracy is measured after the last epoch only.
  std::function<void(int64_t epoch, double train_loss, double test_accuracy)> on_epoch;
};

struct ClassifierReport {
  int64_t epochs = 0;
  int64_t train_size = 0, test_size = 0;
  double train_loss = 0.0;     // last epoch's mean cross-entropy
  double test_accuracy = 0.0;  // on the held-out split, in [0, 1]
  double seconds = 0.0;
};

// Trains `net` on `train` (labelled [1, 32, 32] images) and measures accuracy on `test`. Throws
// ge::Error when a data set is unlabelled, has other than 10 classes or another sample shape.
ClassifierReport train_classifier(MnistClassifier& net, const data::Dataset& train,
                                  const data::Dataset& test, const ClassifierTrainOptions& options);

// The epochs that make at least `steps` updates of `batch` over `size` samples (>= 1).
int64_t epochs_for_steps(int64_t size, int64_t batch, int64_t steps);

// Fraction of `ds` the classifier labels correctly.
double classifier_accuracy(MnistClassifier& net, const data::Dataset& ds, int64_t batch = 500);

// Writes DIR/classifier.safetensors and DIR/classifier.json (the report, the architecture name and
// a checksum of the tensor file), atomically; creates DIR.
void save_classifier(const std::string& dir, MnistClassifier& net, const ClassifierReport& report);

// Loads what save_classifier wrote, in eval mode on `device`. A missing directory or file says
// how to make one (`gan classifier train`); a corrupt or mismatched pair is refused naming the
// file.
std::unique_ptr<MnistClassifier> load_classifier(const std::string& dir, Device device = kCPU,
                                                 ClassifierReport* report = nullptr);

}  // namespace ge::models
