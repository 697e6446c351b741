// Data sets made of others: a subset by index, samples held in memory, and a concatenation.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "ganengine/error.h"
#include "ganengine/models/data/dataset.h"
#include "ganengine/ops.h"

namespace ge::models::data {
namespace {

class Subset final : public Dataset {
 public:
  Subset(std::shared_ptr<const Dataset> source, std::vector<int64_t> indices)
      : source_(std::move(source)), indices_(std::move(indices)) {}
  std::string name() const override { return source_->name(); }
  int64_t size() const override { return static_cast<int64_t>(indices_.size()); }
  Shape sample_shape() const override { return source_->sample_shape(); }
  int64_t num_classes() const override { return source_->num_classes(); }
  void get(int64_t index, float* out) const override { source_->get(at(index), out); }
  int64_t label(int64_t index) const override { return source_->label(at(index)); }

 private:
  int64_t at(int64_t index) const {
    GE_CHECK(index >= 0 && index < size(), "subset of ", source_->name(), ": sample index ", index,
             " is out of range [0, ", size(), ")");
    return indices_[static_cast<size_t>(index)];
  }
  std::shared_ptr<const Dataset> source_;
  std::vector<int64_t> indices_;
};

class TensorDataset final : public Dataset {
 public:
  TensorDataset(std::vector<float> samples, Shape shape, std::vector<int64_t> labels,
                int64_t num_classes, std::string name)
      : samples_(std::move(samples)),
        shape_(std::move(shape)),
        labels_(std::move(labels)),
        classes_(num_classes),
        name_(std::move(name)),
        stride_(numel(shape_)) {}
  std::string name() const override { return name_; }
  int64_t size() const override {
    return static_cast<int64_t>(samples_.size()) / std::max<int64_t>(1, stride_);
  }
  Shape sample_shape() const override { return shape_; }
  int64_t num_classes() const override { return classes_; }
  void get(int64_t index, float* out) const override {
    check_index(index);
    std::memcpy(out, samples_.data() + index * stride_,
                static_cast<size_t>(stride_) * sizeof(float));
  }
  int64_t label(int64_t index) const override {
    check_index(index);
    return classes_ > 0 ? labels_[static_cast<size_t>(index)] : -1;
  }

 private:
  void check_index(int64_t index) const {
    GE_CHECK(index >= 0 && index < size(), name_, ": sample index ", index, " is out of range [0, ",
             size(), ")");
  }
  std::vector<float> samples_;
  Shape shape_;
  std::vector<int64_t> labels_;
  int64_t classes_;
  std::string name_;
  int64_t stride_;
};

class Concat final : public Dataset {
 public:
  Concat(std::shared_ptr<const Dataset> a, std::shared_ptr<const Dataset> b)
      : a_(std::move(a)), b_(std::move(b)) {}
  std::string name() const override { return a_->name() + "+" + b_->name(); }
  int64_t size() const override { return a_->size() + b_->size(); }
  Shape sample_shape() const override { return a_->sample_shape(); }
  int64_t num_classes() const override { return a_->num_classes(); }
  void get(int64_t index, float* out) const override {
    check_index(index);
    index < a_->size() ? a_->get(index, out) : b_->get(index - a_->size(), out);
  }
  int64_t label(int64_t index) const override {
    check_index(index);
    return index < a_->size() ? a_->label(index) : b_->label(index - a_->size());
  }

 private:
  void check_index(int64_t index) const {
    GE_CHECK(index >= 0 && index < size(), name(), ": sample index ", index,
             " is out of range [0, ", size(), ")");
  }
  std::shared_ptr<const Dataset> a_, b_;
};

}  // namespace

std::shared_ptr<Dataset> make_subset(std::shared_ptr<const Dataset> source,
                                     std::vector<int64_t> indices) {
  GE_CHECK(source != nullptr, "make_subset: expected a data set, got null");
  for (int64_t i : indices)
    GE_CHECK(i >= 0 && i < source->size(), "make_subset: index ", i, " is out of range [0, ",
             source->size(), ") of ", source->name());
  return std::make_shared<Subset>(std::move(source), std::move(indices));
}

std::vector<int64_t> balanced_indices(const Dataset& source, int64_t per_class, uint64_t seed) {
  const char* op = "balanced_indices";
  const int64_t classes = source.num_classes();
  GE_CHECK(classes > 0, op, ": data set ", source.name(), " is unlabelled");
  GE_CHECK(per_class >= 1, op, ": expected per_class >= 1, got ", per_class);
  // A Fisher-Yates shuffle from the seed's uniform draws.
  const int64_t n = source.size();
  Generator generator(seed);
  const std::vector<float> u = rand({std::max<int64_t>(n, 1)}, kCPU, &generator).to_vector();
  std::vector<int64_t> order(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    order[static_cast<size_t>(i)] = i;
  for (int64_t i = n - 1; i > 0; --i) {
    const int64_t j =
        std::min(i, static_cast<int64_t>(u[static_cast<size_t>(i)] * static_cast<float>(i + 1)));
    std::swap(order[static_cast<size_t>(i)], order[static_cast<size_t>(j)]);
  }
  std::vector<std::vector<int64_t>> by_class(static_cast<size_t>(classes));
  for (int64_t i : order) {
    const int64_t c = source.label(i);
    GE_CHECK(c >= 0 && c < classes, op, ": sample ", i, " of ", source.name(), " has label ", c,
             ", expected one in [0, ", classes, ")");
    if (static_cast<int64_t>(by_class[static_cast<size_t>(c)].size()) < per_class)
      by_class[static_cast<size_t>(c)].push_back(i);
  }
  std::vector<int64_t> out;
  for (int64_t c = 0; c < classes; ++c) {
    const auto& picked = by_class[static_cast<size_t>(c)];
    GE_CHECK(static_cast<int64_t>(picked.size()) == per_class, op, ": class ", c, " of ",
             source.name(), " has ", picked.size(), " samples, fewer than the ", per_class,
             " asked for");
    out.insert(out.end(), picked.begin(), picked.end());
  }
  return out;
}

std::shared_ptr<Dataset> make_tensor_dataset(const Tensor& samples, const Tensor& labels,
                                             int64_t num_classes, std::string name) {
  const char* op = "make_tensor_dataset";
  GE_CHECK(samples.defined() && samples.dim() >= 2, op, ": expected samples [N, ...], got ",
           samples.defined() ? to_string(samples.shape()) : std::string("an undefined tensor"));
  const int64_t n = samples.size(0);
  const Shape shape(samples.shape().begin() + 1, samples.shape().end());
  std::vector<int64_t> ids;
  if (num_classes > 0) {
    GE_CHECK(labels.defined() && labels.dim() == 1 && labels.size(0) == n, op,
             ": expected labels [", n, "], got ",
             labels.defined() ? to_string(labels.shape()) : std::string("an undefined tensor"));
    for (float v : labels.to_vector()) {
      const auto c = static_cast<int64_t>(v);
      GE_CHECK(static_cast<float>(c) == v && c >= 0 && c < num_classes, op, ": label ", v,
               " is not a class in [0, ", num_classes, ")");
      ids.push_back(c);
    }
  }
  return std::make_shared<TensorDataset>(samples.contiguous().to_vector(), shape, std::move(ids),
                                         num_classes, std::move(name));
}

std::shared_ptr<Dataset> make_concat(std::shared_ptr<const Dataset> a,
                                     std::shared_ptr<const Dataset> b) {
  GE_CHECK(a != nullptr && b != nullptr, "make_concat: expected two data sets");
  GE_CHECK(a->sample_shape() == b->sample_shape(), "make_concat: ", a->name(), " has samples ",
           to_string(a->sample_shape()), ", ", b->name(), " has ", to_string(b->sample_shape()));
  GE_CHECK(a->num_classes() == b->num_classes(), "make_concat: ", a->name(), " has ",
           a->num_classes(), " classes, ", b->name(), " has ", b->num_classes());
  return std::make_shared<Concat>(std::move(a), std::move(b));
}

}  // namespace ge::models::data
