// Data sets made of others: subsets, the balanced labelled subset, samples held in memory and
// concatenation, against the source samples read directly.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ganengine/models/data/dataset.h"
#include "ganengine/ops.h"
#include "models/gan_test_util.h"
#include "models/tiny_gan.h"
#include "support/reference.h"

namespace ge::testing {
namespace {

using models::data::Dataset;

std::vector<float> sample(const Dataset& ds, int64_t i) {
  int64_t n = 1;
  for (int64_t d : ds.sample_shape())
    n *= d;
  std::vector<float> out(static_cast<size_t>(n));
  ds.get(i, out.data());
  return out;
}

TEST(ComposedData, SubsetReadsTheSourceAtItsIndices) {
  auto source = std::make_shared<TinyDataset>(30, true, 10);
  const auto sub = models::data::make_subset(source, {7, 3, 29});
  EXPECT_EQ(sub->size(), 3);
  EXPECT_EQ(sub->sample_shape(), source->sample_shape());
  EXPECT_EQ(sub->num_classes(), 10);
  const int64_t picked[] = {7, 3, 29};
  for (int64_t i = 0; i < 3; ++i) {
    EXPECT_EQ(sample(*sub, i), sample(*source, picked[i]));
    EXPECT_EQ(sub->label(i), picked[i] % 10);
  }
  EXPECT_NE(error_of([&] { sub->label(3); }).find("sample index 3 is out of range [0, 3)"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              models::data::make_subset(source, {30});
            }).find("index 30 is out of range [0, 30)"),
            std::string::npos);
}

TEST(ComposedData, BalancedIndicesTakePerClassFromASeededShuffle) {
  const TinyDataset source(200, false, 10);
  const auto a = models::data::balanced_indices(source, 3, 1);
  ASSERT_EQ(a.size(), 30u);
  std::map<int64_t, int> per_class;
  for (size_t k = 0; k < a.size(); ++k) {
    const int64_t c = source.label(a[k]);
    EXPECT_EQ(c, static_cast<int64_t>(k / 3)) << "listed class by class";
    ++per_class[c];
  }
  EXPECT_EQ(per_class.size(), 10u);
  EXPECT_EQ(models::data::balanced_indices(source, 3, 1), a);
  const auto b = models::data::balanced_indices(source, 3, 2);
  EXPECT_NE(b, a);
  // Not simply the first samples of each class.
  bool first_only = true;
  for (int64_t i : a)
    first_only = first_only && i < 30;
  EXPECT_FALSE(first_only);
  EXPECT_NE(error_of([&] {
              models::data::balanced_indices(source, 21, 0);
            }).find("has 20 samples, fewer than the 21 asked for"),
            std::string::npos);
  const TinyDataset unlabelled(20, false);
  EXPECT_NE(error_of([&] { models::data::balanced_indices(unlabelled, 1, 0); }).find("unlabelled"),
            std::string::npos);
}

TEST(ComposedData, TensorDatasetAndConcat) {
  const std::vector<float> values = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  const auto held = models::data::make_tensor_dataset(from_vector(values, {3, 1, 2, 2}),
                                                      from_vector({2, 0, 1}, {3}), 3, "held");
  EXPECT_EQ(held->size(), 3);
  EXPECT_EQ(held->sample_shape(), (Shape{1, 2, 2}));
  EXPECT_EQ(sample(*held, 1), (std::vector<float>{5, 6, 7, 8}));
  EXPECT_EQ(held->label(0), 2);
  EXPECT_EQ(held->label(2), 1);
  EXPECT_NE(error_of([&] {
              models::data::make_tensor_dataset(from_vector(values, {3, 1, 2, 2}),
                                                from_vector({2, 3, 1}, {3}), 3, "bad");
            }).find("label 3 is not a class in [0, 3)"),
            std::string::npos);

  const auto other = models::data::make_tensor_dataset(from_vector({-1, -2, -3, -4}, {1, 1, 2, 2}),
                                                       from_vector({0}, {1}), 3, "other");
  const auto both = models::data::make_concat(held, other);
  EXPECT_EQ(both->size(), 4);
  EXPECT_EQ(sample(*both, 2), (std::vector<float>{9, 10, 11, 12}));
  EXPECT_EQ(sample(*both, 3), (std::vector<float>{-1, -2, -3, -4}));
  EXPECT_EQ(both->label(3), 0);
  EXPECT_EQ(both->label(0), 2);
  const auto points = std::make_shared<TinyDataset>(4, false, 3);
  EXPECT_NE(error_of([&] { models::data::make_concat(held, points); }).find("has samples"),
            std::string::npos);
}

}  // namespace
}  // namespace ge::testing
