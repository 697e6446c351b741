// The metrics' MNIST classifier: its network, its training loop and its accuracy.
#include "ganengine/models/classifier.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <numbers>
#include <utility>
#include <vector>

#include "ganengine/autograd.h"
#include "ganengine/error.h"
#include "ganengine/loss.h"
#include "ganengine/nn/stylegan.h"
#include "ganengine/ops.h"
#include "ganengine/optim.h"

namespace ge::models {
namespace {

constexpr int64_t kSide = MnistClassifier::kResolution;
constexpr int64_t kPixels = kSide * kSide;

// leaky_relu(0.2) with gain 1, so the network is PyTorch's F.leaky_relu(x, 0.2) as written.
nn::LayerOptions lrelu() {
  nn::LayerOptions o;
  o.act.act = Activation::LeakyRelu;
  o.act.alpha = 0.2f;
  o.act.gain = 1.f;
  return o;
}

void check_dataset(const data::Dataset& ds, const char* op, const char* role) {
  GE_CHECK(ds.num_classes() == MnistClassifier::kNumClasses, op, ": the ", role, " set \"",
           ds.name(), "\" has ",
           ds.num_classes() == 0 ? std::string("no labels")
                                 : std::to_string(ds.num_classes()) + " classes",
           ", expected ", MnistClassifier::kNumClasses, " labelled classes");
  GE_CHECK(ds.sample_shape() == Shape({1, kSide, kSide}), op, ": the ", role, " set \"", ds.name(),
           "\" has samples ", to_string(ds.sample_shape()), ", expected [1, ", kSide, ", ", kSide,
           "]");
  GE_CHECK(ds.size() >= 1, op, ": the ", role, " set \"", ds.name(), "\" is empty");
}

struct HostData {
  std::vector<float> images;  // [N, 32, 32]
  std::vector<int64_t> labels;
};

HostData read_all(const data::Dataset& ds, const char* op) {
  HostData d;
  const int64_t n = ds.size();
  d.images.resize(static_cast<size_t>(n * kPixels));
  d.labels.resize(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    ds.get(i, d.images.data() + i * kPixels);
    const int64_t label = ds.label(i);
    GE_CHECK(label >= 0 && label < MnistClassifier::kNumClasses, op, ": sample ", i, " of \"",
             ds.name(), "\" has label ", label, ", expected 0..9");
    d.labels[static_cast<size_t>(i)] = label;
  }
  return d;
}

uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// floor(u * n) for u in [0, 1), kept below n against float rounding.
int64_t scaled(float u, int64_t n) {
  return std::min(n - 1, static_cast<int64_t>(u * static_cast<float>(n)));
}

// One epoch's sample order and per-sample shifts, drawn from the epoch's own Philox stream so an
// epoch does not depend on how many numbers earlier epochs used.
struct EpochPlan {
  std::vector<int64_t> order;
  std::vector<int64_t> shifts;  // (dy, dx) per sample, in [-max_shift, max_shift]
};

EpochPlan plan_epoch(int64_t n, int64_t epoch, const ClassifierTrainOptions& o) {
  Generator generator(splitmix64(o.seed ^ splitmix64(static_cast<uint64_t>(epoch))));
  const std::vector<float> u = rand({n + 2 * n}, kCPU, &generator).to_vector();
  EpochPlan p;
  p.order.resize(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    p.order[static_cast<size_t>(i)] = i;
  for (int64_t i = n - 1; i > 0; --i)
    std::swap(p.order[static_cast<size_t>(i)],
              p.order[static_cast<size_t>(scaled(u[static_cast<size_t>(i)], i + 1))]);
  p.shifts.resize(static_cast<size_t>(2 * n));
  for (int64_t i = 0; i < 2 * n; ++i)
    p.shifts[static_cast<size_t>(i)] =
        scaled(u[static_cast<size_t>(n + i)], 2 * o.max_shift + 1) - o.max_shift;
  return p;
}

// dst = src translated by (dy, dx); pixels shifted in from outside are background (-1).
void shifted_copy(const float* src, int64_t dy, int64_t dx, float* dst) {
  for (int64_t y = 0; y < kSide; ++y)
    for (int64_t x = 0; x < kSide; ++x) {
      const int64_t sy = y - dy, sx = x - dx;
      dst[y * kSide + x] =
          sy >= 0 && sy < kSide && sx >= 0 && sx < kSide ? src[sy * kSide + sx] : -1.f;
    }
}

// Cosine decay of the learning rate from `lr` to 0 over `total` steps: the last epochs settle
// into a minimum instead of hopping around one, which is worth about half a point of accuracy.
float cosine_lr(float lr, int64_t step, int64_t total) {
  const double t = static_cast<double>(step) / static_cast<double>(total);
  return static_cast<float>(0.5 * lr * (1.0 + std::cos(std::numbers::pi * t)));
}

int64_t argmax_row(const float* row) {
  return std::max_element(row, row + MnistClassifier::kNumClasses) - row;
}

}  // namespace

MnistClassifier::MnistClassifier(Generator& generator) {
  const Conv2dOptions same(1, 2);
  conv1 =
      register_module("conv1", std::make_shared<nn::Conv2d>(1, 32, 5, same, lrelu(), &generator));
  conv2 =
      register_module("conv2", std::make_shared<nn::Conv2d>(32, 64, 5, same, lrelu(), &generator));
  fc1 = register_module("fc1",
                        std::make_shared<nn::Linear>(64 * 8 * 8, kFeatureDim, lrelu(), &generator));
  fc2 = register_module("fc2", std::make_shared<nn::Linear>(kFeatureDim, kNumClasses,
                                                            nn::LayerOptions{}, &generator));
}

MnistClassifier::Output MnistClassifier::forward_all(const Tensor& x) {
  GE_CHECK(x.defined(), "MnistClassifier: expected a defined input");
  GE_CHECK(x.dim() == 4 && x.size(1) == 1 && x.size(2) == kResolution && x.size(3) == kResolution,
           "MnistClassifier: expected input [N, 1, ", kResolution, ", ", kResolution, "], got ",
           to_string(x.shape()));
  Tensor h = nn::avg_pool2x2(conv1->forward(x));
  h = nn::avg_pool2x2(conv2->forward(h));
  Output out;
  out.features = fc1->forward(h.flatten(1));
  out.logits = fc2->forward(out.features);
  return out;
}

int64_t epochs_for_steps(int64_t size, int64_t batch, int64_t steps) {
  GE_CHECK(size >= 1 && batch >= 1 && steps >= 0,
           "epochs_for_steps: expected size >= 1, batch >= 1 and steps >= 0, got ", size, ", ",
           batch, " and ", steps);
  const int64_t per_epoch = (size + batch - 1) / batch;
  return std::max<int64_t>(1, (steps + per_epoch - 1) / per_epoch);
}

double classifier_accuracy(MnistClassifier& net, const data::Dataset& ds, int64_t batch) {
  const char* op = "classifier_accuracy";
  GE_CHECK(batch >= 1, op, ": expected a positive batch, got ", batch);
  check_dataset(ds, op, "evaluation");
  const bool was_training = net.is_training();
  net.eval();
  NoGradGuard no_grad;
  const Device device = net.device();
  const int64_t n = ds.size();
  std::vector<float> images;
  int64_t correct = 0;
  for (int64_t start = 0; start < n; start += batch) {
    const int64_t b = std::min(batch, n - start);
    images.resize(static_cast<size_t>(b * kPixels));
    for (int64_t i = 0; i < b; ++i)
      ds.get(start + i, images.data() + i * kPixels);
    const Tensor x = from_vector(images, {b, 1, kSide, kSide}, device);
    const std::vector<float> logits = net.forward(x).to_vector();
    for (int64_t i = 0; i < b; ++i)
      correct +=
          argmax_row(logits.data() + i * MnistClassifier::kNumClasses) == ds.label(start + i);
  }
  net.train(was_training);
  return static_cast<double>(correct) / static_cast<double>(n);
}

ClassifierReport train_classifier(MnistClassifier& net, const data::Dataset& train,
                                  const data::Dataset& test,
                                  const ClassifierTrainOptions& options) {
  const char* op = "train_classifier";
  check_dataset(train, op, "training");
  check_dataset(test, op, "test");
  GE_CHECK(options.epochs >= 0, op, ": expected epochs >= 0, got ", options.epochs);
  GE_CHECK(options.batch >= 1, op, ": expected a positive batch, got ", options.batch);
  GE_CHECK(std::isfinite(options.lr) && options.lr > 0.f, op,
           ": expected a positive learning rate, got ", options.lr);
  GE_CHECK(options.max_shift >= 0 && options.max_shift < kSide, op, ": expected max_shift in [0, ",
           kSide, "), got ", options.max_shift);
  const auto start_time = std::chrono::steady_clock::now();

  const HostData data = read_all(train, op);
  const int64_t n = train.size();
  net.to(options.device);
  net.train();
  optim::AdamOptions adam;
  adam.lr = options.lr;
  optim::Adam optimizer(net.parameters(), adam);

  ClassifierReport report;
  report.train_size = n;
  report.test_size = test.size();
  std::vector<float> images;
  std::vector<int64_t> labels;
  const int64_t steps_per_epoch = (n + options.batch - 1) / options.batch;
  const int64_t total_steps = steps_per_epoch * options.epochs;
  for (int64_t epoch = 0; epoch < options.epochs; ++epoch) {
    const EpochPlan plan = plan_epoch(n, epoch, options);
    double loss_sum = 0.0;
    for (int64_t begin = 0; begin < n; begin += options.batch) {
      const int64_t b = std::min(options.batch, n - begin);
      images.resize(static_cast<size_t>(b * kPixels));
      labels.resize(static_cast<size_t>(b));
      for (int64_t i = 0; i < b; ++i) {
        const int64_t k = begin + i, sample = plan.order[static_cast<size_t>(k)];
        shifted_copy(data.images.data() + sample * kPixels, plan.shifts[static_cast<size_t>(2 * k)],
                     plan.shifts[static_cast<size_t>(2 * k + 1)], images.data() + i * kPixels);
        labels[static_cast<size_t>(i)] = data.labels[static_cast<size_t>(sample)];
      }
      const Tensor x = from_vector(images, {b, 1, kSide, kSide}, options.device);
      const Tensor loss = cross_entropy(net.forward(x), labels);
      optimizer.zero_grad();
      loss.backward();
      optimizer.options().lr = cosine_lr(options.lr, optimizer.steps(), total_steps);
      optimizer.step();
      loss_sum += static_cast<double>(loss.item()) * static_cast<double>(b);
    }
    report.epochs = epoch + 1;
    report.train_loss = loss_sum / static_cast<double>(n);
    if (options.on_epoch) {
      report.test_accuracy = classifier_accuracy(net, test);
      options.on_epoch(report.epochs, report.train_loss, report.test_accuracy);
    }
  }
  if (!options.on_epoch || options.epochs == 0)
    report.test_accuracy = classifier_accuracy(net, test);
  report.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_time).count();
  return report;
}

}  // namespace ge::models
