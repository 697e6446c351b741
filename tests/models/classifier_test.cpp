// The metrics' MNIST classifier: its layers against a plain-loop forward, PyTorch state-dict
// names, the save/load pair (identical logits; corrupt, torn, mismatched or missing files named;
// a save interrupted between its renames),
// training to 100% on ten easy synthetic patterns, reproducibility from the seed, the argument
// errors, and a tiny forward on the CUDA device.
#include "ganengine/models/classifier.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../../models/src/file_io.h"
#include "data_test_util.h"
#include "ganengine/autograd.h"
#include "ganengine/error.h"
#include "ganengine/models/train/checkpoint.h"
#include "ganengine/ops.h"
#include "ganengine/safetensors.h"
#include "support/reference.h"

namespace ge::models {
namespace {

using datatest::ScratchDir;
using ge::testing::error_of;
using ge::testing::lcg_values;

constexpr int64_t kSide = 32;

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

// Labelled [1, 32, 32] images held in memory.
class VectorDataset final : public data::Dataset {
 public:
  VectorDataset(std::vector<float> images, std::vector<int64_t> labels, Shape shape = {1, 32, 32},
                int64_t classes = 10)
      : images_(std::move(images)),
        labels_(std::move(labels)),
        shape_(std::move(shape)),
        classes_(classes) {}
  std::string name() const override { return "vector"; }
  int64_t size() const override { return static_cast<int64_t>(labels_.size()); }
  Shape sample_shape() const override { return shape_; }
  int64_t num_classes() const override { return classes_; }
  void get(int64_t index, float* out) const override {
    const int64_t n = numel(shape_);
    std::copy_n(images_.begin() + index * n, n, out);
  }
  int64_t label(int64_t index) const override { return labels_[static_cast<size_t>(index)]; }

 private:
  std::vector<float> images_;
  std::vector<int64_t> labels_;
  Shape shape_;
  int64_t classes_;
};

// Class c is a 6x6 bright square in cell (c / 4, c % 4) of a grid with 8-pixel spacing, over
// noise: far enough apart that a shift of 2 pixels never makes one class look like another.
std::shared_ptr<VectorDataset> squares(int64_t per_class, uint32_t seed) {
  const int64_t n = 10 * per_class;
  const std::vector<float> noise = lcg_values(n * kSide * kSide, seed, -0.3f, 0.3f);
  std::vector<float> images(static_cast<size_t>(n * kSide * kSide));
  std::vector<int64_t> labels;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t c = i % 10, y0 = 3 + 9 * (c / 4), x0 = 2 + 8 * (c % 4);
    labels.push_back(c);
    for (int64_t y = 0; y < kSide; ++y)
      for (int64_t x = 0; x < kSide; ++x) {
        const bool on = y >= y0 && y < y0 + 6 && x >= x0 && x < x0 + 6;
        const size_t at = static_cast<size_t>((i * kSide + y) * kSide + x);
        images[at] = (on ? 0.8f : -0.8f) + noise[at];
      }
  }
  return std::make_shared<VectorDataset>(std::move(images), std::move(labels));
}

std::vector<float> values_of(const MnistClassifier& net, const std::string& key) {
  return net.state_dict().at(key).to_vector();
}

// conv 5x5 with padding 2 on [cin, side, side] -> [cout, side, side], then leaky_relu(0.2).
std::vector<double> conv_lrelu_ref(const std::vector<double>& in, int64_t cin, int64_t side,
                                   const std::vector<float>& w, const std::vector<float>& b) {
  const int64_t cout = static_cast<int64_t>(b.size());
  std::vector<double> out(static_cast<size_t>(cout * side * side));
  for (int64_t o = 0; o < cout; ++o)
    for (int64_t y = 0; y < side; ++y)
      for (int64_t x = 0; x < side; ++x) {
        double s = b[static_cast<size_t>(o)];
        for (int64_t i = 0; i < cin; ++i)
          for (int64_t ky = 0; ky < 5; ++ky)
            for (int64_t kx = 0; kx < 5; ++kx) {
              const int64_t sy = y + ky - 2, sx = x + kx - 2;
              if (sy < 0 || sy >= side || sx < 0 || sx >= side) continue;
              s += w[static_cast<size_t>(((o * cin + i) * 5 + ky) * 5 + kx)] *
                   in[static_cast<size_t>((i * side + sy) * side + sx)];
            }
        out[static_cast<size_t>((o * side + y) * side + x)] = s < 0 ? 0.2 * s : s;
      }
  return out;
}

std::vector<double> pool_ref(const std::vector<double>& in, int64_t c, int64_t side) {
  const int64_t h = side / 2;
  std::vector<double> out(static_cast<size_t>(c * h * h));
  for (int64_t k = 0; k < c; ++k)
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < h; ++x) {
        double s = 0;
        for (int64_t dy = 0; dy < 2; ++dy)
          for (int64_t dx = 0; dx < 2; ++dx)
            s += in[static_cast<size_t>((k * side + 2 * y + dy) * side + 2 * x + dx)];
        out[static_cast<size_t>((k * h + y) * h + x)] = s / 4;
      }
  return out;
}

std::vector<double> linear_ref(const std::vector<double>& in, const std::vector<float>& w,
                               const std::vector<float>& b, bool lrelu) {
  const size_t n_out = b.size(), n_in = in.size();
  std::vector<double> out(n_out);
  for (size_t o = 0; o < n_out; ++o) {
    double s = b[o];
    for (size_t i = 0; i < n_in; ++i)
      s += w[o * n_in + i] * in[i];
    out[o] = lrelu && s < 0 ? 0.2 * s : s;
  }
  return out;
}

TEST(Classifier, LayersAndStateDictNamesAsPyTorch) {
  Generator g(1);
  MnistClassifier net(g);
  const std::map<std::string, Shape> expected = {
      {"conv1.weight", {32, 1, 5, 5}},  {"conv1.bias", {32}},
      {"conv2.weight", {64, 32, 5, 5}}, {"conv2.bias", {64}},
      {"fc1.weight", {128, 4096}},      {"fc1.bias", {128}},
      {"fc2.weight", {10, 128}},        {"fc2.bias", {10}}};
  const auto state = net.state_dict();
  ASSERT_EQ(state.size(), expected.size());
  for (const auto& [key, shape] : expected) {
    ASSERT_TRUE(state.count(key)) << key;
    EXPECT_EQ(state.at(key).shape(), shape) << key;
  }
  // PyTorch's default init: conv1's weights within 1/sqrt(fan_in) = 1/5.
  for (float v : values_of(net, "conv1.weight"))
    EXPECT_LE(std::fabs(v), 0.2f + 1e-6f);
}

// The whole network in plain double loops over the module's own weights: padding 2, leaky_relu
// 0.2 with gain 1, 2x2 average pooling and the (C, H, W) flatten order of PyTorch.
TEST(Classifier, ForwardMatchesPlainLoops) {
  Generator g(2);
  MnistClassifier net(g);
  const int64_t n = 2;
  const std::vector<float> x = lcg_values(n * kSide * kSide, 3);
  NoGradGuard no_grad;
  const MnistClassifier::Output out = net.forward_all(from_vector(x, {n, 1, kSide, kSide}));
  ASSERT_EQ(out.logits.shape(), (Shape{n, MnistClassifier::kNumClasses}));
  ASSERT_EQ(out.features.shape(), (Shape{n, MnistClassifier::kFeatureDim}));
  std::vector<float> want_logits, want_features;
  for (int64_t s = 0; s < n; ++s) {
    std::vector<double> h(x.begin() + s * kSide * kSide, x.begin() + (s + 1) * kSide * kSide);
    h = conv_lrelu_ref(h, 1, 32, values_of(net, "conv1.weight"), values_of(net, "conv1.bias"));
    h = pool_ref(h, 32, 32);
    h = conv_lrelu_ref(h, 32, 16, values_of(net, "conv2.weight"), values_of(net, "conv2.bias"));
    h = pool_ref(h, 64, 16);
    h = linear_ref(h, values_of(net, "fc1.weight"), values_of(net, "fc1.bias"), true);
    want_features.insert(want_features.end(), h.begin(), h.end());
    h = linear_ref(h, values_of(net, "fc2.weight"), values_of(net, "fc2.bias"), false);
    want_logits.insert(want_logits.end(), h.begin(), h.end());
  }
  EXPECT_TRUE(ge::testing::all_close(out.features, want_features, 1e-5, 1e-4));
  EXPECT_TRUE(ge::testing::all_close(out.logits, want_logits, 1e-5, 1e-4));
  EXPECT_TRUE(ge::testing::all_close(net.forward(from_vector(x, {n, 1, kSide, kSide})), want_logits,
                                     1e-5, 1e-4));
}

TEST(Classifier, RefusesOtherInputShapes) {
  Generator g(3);
  MnistClassifier net(g);
  for (const Shape& bad : {Shape{2, 3, 32, 32}, Shape{2, 1, 28, 28}, Shape{1, 32, 32}}) {
    const std::string e = error_of([&] { net.forward(zeros(bad)); });
    EXPECT_TRUE(contains(e, "MnistClassifier") && contains(e, "[N, 1, 32, 32]") &&
                contains(e, to_string(bad)))
        << e;
  }
}

TEST(Classifier, TrainsToPerfectAccuracyOnEasyPatterns) {
  const auto train = squares(30, 11), test = squares(10, 12);
  Generator g(4);
  MnistClassifier net(g);
  ClassifierTrainOptions o;
  o.epochs = 3;
  o.batch = 30;
  o.lr = 2e-3f;
  o.seed = 5;
  std::vector<std::pair<int64_t, double>> epochs;
  o.on_epoch = [&](int64_t epoch, double loss, double accuracy) {
    epochs.emplace_back(epoch, loss);
    EXPECT_GE(accuracy, 0.0);
    EXPECT_LE(accuracy, 1.0);
  };
  EXPECT_LT(classifier_accuracy(net, *test), 0.5) << "an untrained net should not know them";
  const ClassifierReport r = train_classifier(net, *train, *test, o);
  EXPECT_EQ(r.epochs, 3);
  EXPECT_EQ(r.train_size, 300);
  EXPECT_EQ(r.test_size, 100);
  EXPECT_EQ(r.test_accuracy, 1.0);
  EXPECT_EQ(classifier_accuracy(net, *test, 7), 1.0);
  EXPECT_GE(r.seconds, 0.0);
  ASSERT_EQ(epochs.size(), 3u);
  EXPECT_EQ(epochs[0].first, 1);
  EXPECT_EQ(epochs[2].first, 3);
  EXPECT_LT(epochs[2].second, epochs[0].second);
  EXPECT_EQ(epochs[2].second, r.train_loss);
  EXPECT_LT(r.train_loss, 0.1);
}

// The seed fixes the order and the shifts: the same seed, the same weights bit for bit; another
// seed, other weights.
TEST(Classifier, TrainingIsReproducibleFromTheSeed) {
  const auto train = squares(4, 13), test = squares(1, 14);
  auto run = [&](uint64_t seed) {
    Generator g(6);
    MnistClassifier net(g);
    ClassifierTrainOptions o;
    o.epochs = 2;
    o.batch = 16;
    o.seed = seed;
    train_classifier(net, *train, *test, o);
    return values_of(net, "fc2.weight");
  };
  const std::vector<float> a = run(1);
  EXPECT_EQ(a, run(1));
  EXPECT_NE(a, run(2));
}

TEST(Classifier, TrainingRefusesOtherData) {
  Generator g(7);
  MnistClassifier net(g);
  const auto good = squares(1, 15);
  const VectorDataset unlabelled(std::vector<float>(1024), {0}, {1, 32, 32}, 0);
  const VectorDataset rgb(std::vector<float>(3 * 1024), {0}, {3, 32, 32});
  const VectorDataset hundred(std::vector<float>(1024), {0}, {1, 32, 32}, 100);
  const std::string op = "train_classifier";
  std::string e = error_of([&] { train_classifier(net, unlabelled, *good, {}); });
  EXPECT_TRUE(contains(e, op) && contains(e, "training set") && contains(e, "no labels")) << e;
  e = error_of([&] { train_classifier(net, *good, rgb, {}); });
  EXPECT_TRUE(contains(e, "test set") && contains(e, "[3, 32, 32]")) << e;
  e = error_of([&] { train_classifier(net, hundred, *good, {}); });
  EXPECT_TRUE(contains(e, "100 classes")) << e;
  ClassifierTrainOptions o;
  o.batch = 0;
  EXPECT_TRUE(contains(error_of([&] { train_classifier(net, *good, *good, o); }), "batch"));
  o = {};
  o.lr = -1.f;
  EXPECT_TRUE(contains(error_of([&] { train_classifier(net, *good, *good, o); }), "learning rate"));
  e = error_of([&] { classifier_accuracy(net, unlabelled); });
  EXPECT_TRUE(contains(e, "classifier_accuracy") && contains(e, "no labels")) << e;
}

ClassifierReport sample_report() {
  ClassifierReport r;
  r.epochs = 3;
  r.train_size = 300;
  r.test_size = 100;
  r.train_loss = 0.125;
  r.test_accuracy = 0.97;
  r.seconds = 12.5;
  return r;
}

TEST(Classifier, SaveLoadRoundTripGivesIdenticalLogits) {
  ScratchDir dir;
  const std::string out = dir.file("cls");
  Generator g(8);
  MnistClassifier net(g);
  save_classifier(out, net, sample_report());
  EXPECT_TRUE(std::filesystem::exists(out + "/classifier.safetensors"));
  EXPECT_TRUE(std::filesystem::exists(out + "/classifier.json"));
  ClassifierReport loaded_report;
  const auto loaded = load_classifier(out, kCPU, &loaded_report);
  EXPECT_FALSE(loaded->is_training());
  EXPECT_EQ(loaded_report.epochs, 3);
  EXPECT_EQ(loaded_report.train_size, 300);
  EXPECT_EQ(loaded_report.test_size, 100);
  EXPECT_EQ(loaded_report.train_loss, 0.125);
  EXPECT_EQ(loaded_report.test_accuracy, 0.97);
  EXPECT_EQ(loaded_report.seconds, 12.5);
  const Tensor x = from_vector(lcg_values(3 * kSide * kSide, 9), {3, 1, kSide, kSide});
  NoGradGuard no_grad;
  EXPECT_EQ(loaded->forward(x).to_vector(), net.forward(x).to_vector());
  // A second save over the first replaces it.
  Generator g2(9);
  MnistClassifier other(g2);
  save_classifier(out, other, sample_report());
  EXPECT_EQ(load_classifier(out)->forward(x).to_vector(), other.forward(x).to_vector());
}

TEST(Classifier, SaveInterruptedBetweenItsRenamesStillLoads) {
  ScratchDir dir;
  const std::string out = dir.file("cls");
  Generator g(8), g2(9);
  MnistClassifier first(g), second(g2);
  save_classifier(out, first, sample_report());
  // The second save stops after its tensors took their place, before its JSON did.
  models::detail::set_fault_hook(
      [](std::string_view point) { return point == "save_classifier/commit-text" ? EIO : 0; });
  EXPECT_THROW(save_classifier(out, second, sample_report()), Error);
  models::detail::set_fault_hook(nullptr);
  EXPECT_TRUE(std::filesystem::exists(out + "/classifier.json.next"));
  const Tensor x = from_vector(lcg_values(3 * kSide * kSide, 9), {3, 1, kSide, kSide});
  NoGradGuard no_grad;
  EXPECT_EQ(load_classifier(out)->forward(x).to_vector(), second.forward(x).to_vector());
  // The next save completes the pair.
  save_classifier(out, first, sample_report());
  EXPECT_FALSE(std::filesystem::exists(out + "/classifier.json.next"));
  EXPECT_EQ(load_classifier(out)->forward(x).to_vector(), first.forward(x).to_vector());
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

void replace_once(std::string& text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  ASSERT_NE(at, std::string::npos) << from;
  text.replace(at, from.size(), to);
}

TEST(Classifier, MissingFilesSayHowToMakeOne) {
  ScratchDir dir;
  const std::string out = dir.file("none");
  std::string e = error_of([&] { load_classifier(out); });
  EXPECT_TRUE(contains(e, out) && contains(e, "gan classifier train")) << e;
  std::filesystem::create_directories(out);
  e = error_of([&] { load_classifier(out); });
  EXPECT_TRUE(contains(e, "classifier.json") && contains(e, "gan classifier train")) << e;
  Generator g(10);
  MnistClassifier net(g);
  save_classifier(out, net, sample_report());
  std::filesystem::remove(out + "/classifier.safetensors");
  e = error_of([&] { load_classifier(out); });
  EXPECT_TRUE(contains(e, "classifier.safetensors") && contains(e, "missing")) << e;
}

TEST(Classifier, CorruptOrMismatchedPairsAreRefused) {
  ScratchDir dir;
  const std::string out = dir.file("cls");
  const std::string tensors = out + "/classifier.safetensors", json = out + "/classifier.json";
  Generator g(11);
  MnistClassifier net(g);
  save_classifier(out, net, sample_report());
  const std::string good_tensors = read_text(tensors), good_json = read_text(json);
  auto restore = [&] {
    write_text(tensors, good_tensors);
    write_text(json, good_json);
  };

  // A flipped byte in the weights: same size, other checksum.
  std::string bad = good_tensors;
  bad[bad.size() - 5] = static_cast<char>(bad[bad.size() - 5] ^ 0x40);
  write_text(tensors, bad);
  std::string e = error_of([&] { load_classifier(out); });
  EXPECT_TRUE(contains(e, tensors) && contains(e, "checksum")) << e;

  restore();
  write_text(tensors, good_tensors.substr(0, good_tensors.size() / 2));
  e = error_of([&] { load_classifier(out); });
  EXPECT_TRUE(contains(e, tensors) && contains(e, "bytes")) << e;

  restore();
  write_text(json, "{ not json");
  e = error_of([&] { load_classifier(out); });
  EXPECT_TRUE(contains(e, json) && contains(e, "not valid JSON")) << e;

  std::string other = good_json;
  replace_once(other, "lenet5-lrelu-32", "resnet");
  write_text(json, other);
  e = error_of([&] { load_classifier(out); });
  EXPECT_TRUE(contains(e, json) && contains(e, "architecture is 'resnet'")) << e;

  other = good_json;
  replace_once(other, "\"test_accuracy\"", "\"accuracy\"");
  write_text(json, other);
  e = error_of([&] { load_classifier(out); });
  EXPECT_TRUE(contains(e, json) && contains(e, "report.test_accuracy")) << e;

  other = good_json;
  replace_once(other, "ganengine-mnist-classifier", "ganengine-gan-checkpoint");
  write_text(json, other);
  e = error_of([&] { load_classifier(out); });
  EXPECT_TRUE(contains(e, json) && contains(e, "format")) << e;

  // A consistent pair whose tensors are not this network's: the key is named.
  restore();
  std::map<std::string, Tensor> state = net.state_dict();
  state.erase("fc2.bias");
  save_safetensors(tensors, state);
  other = good_json;
  const std::string bytes = std::to_string(std::filesystem::file_size(tensors));
  char sum[17];
  std::snprintf(sum, sizeof sum, "%016llx",
                static_cast<unsigned long long>(train::fnv1a64_file(tensors)));
  const size_t b = other.find("\"bytes\": ") + 9;
  other.replace(b, other.find(',', b) - b, bytes);
  const size_t f = other.find("\"fnv1a64\": \"") + 12;
  other.replace(f, 16, sum);
  write_text(json, other);
  e = error_of([&] { load_classifier(out); });
  EXPECT_TRUE(contains(e, tensors) && contains(e, "fc2.bias")) << e;

  restore();
  EXPECT_NO_THROW(load_classifier(out));
}

TEST(Classifier, TinyForwardOnCuda) {
  if (!cuda_is_available()) GTEST_SKIP() << "no CUDA device";
  Generator g(12);
  MnistClassifier net(g);
  const Tensor x = from_vector(lcg_values(kSide * kSide, 13), {1, 1, kSide, kSide});
  NoGradGuard no_grad;
  const MnistClassifier::Output want = net.forward_all(x);
  net.to(kCUDA);
  const MnistClassifier::Output got = net.forward_all(x.to(kCUDA));
  EXPECT_EQ(got.logits.device(), kCUDA);
  EXPECT_TRUE(ge::testing::all_close(got.logits, want.logits, 1e-5, 1e-4));
  EXPECT_TRUE(ge::testing::all_close(got.features, want.features, 1e-5, 1e-4));
}

}  // namespace
}  // namespace ge::models
