// nn::one_hot and nn::Embedding on every device: rows against a plain gather, the weight
// gradient against a scatter-add of the output gradient, gradcheck, N(0, 1) init, and label
// validation.
#include "ganengine/nn/embedding.h"

#include <cmath>
#include <vector>

#include "ganengine/gradcheck.h"
#include "nn/nn_test_util.h"

namespace ge::nntest {
namespace {

using nn::Embedding;

class NnEmbeddingTest : public DeviceTest {};

TEST_P(NnEmbeddingTest, OneHotRows) {
  const Tensor oh = nn::one_hot(from_vector({2.f, 0.f, 2.f}, {3}, device()), 4);
  EXPECT_EQ(oh.device(), device());
  EXPECT_TRUE(all_close(oh, std::vector<float>{0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 1, 0}, 0, 0));
}

TEST_P(NnEmbeddingTest, ForwardGathersRowsAndScattersGradients) {
  Embedding emb(5, 3);
  const std::vector<float> w = fill_lcg(emb.weight, 1);
  emb.to(device());
  const std::vector<int> ids = {4, 1, 4, 0};
  std::vector<float> labels;
  for (int id : ids)
    labels.push_back(static_cast<float>(id));
  const Tensor y = emb(from_vector(labels, {4}, device()));
  std::vector<float> rows;
  for (int id : ids)
    for (int j = 0; j < 3; ++j)
      rows.push_back(w[id * 3 + j]);
  EXPECT_EQ(y.shape(), (Shape{4, 3}));
  EXPECT_TRUE(all_close(y, rows, 1e-6, 1e-6));

  const std::vector<float> g = lcg_values(12, 2);
  (y * from_vector(g, {4, 3}, device())).sum().backward();
  std::vector<float> expected(15, 0.f);
  for (size_t i = 0; i < ids.size(); ++i)
    for (int j = 0; j < 3; ++j)
      expected[ids[i] * 3 + j] += g[i * 3 + j];
  ASSERT_TRUE(emb.weight.grad().defined());
  EXPECT_TRUE(all_close(emb.weight.grad(), expected, 1e-6, 1e-6));
}

TEST_P(NnEmbeddingTest, Gradcheck) {
  Embedding emb(3, 2);
  emb.to(device());
  const Tensor labels = from_vector({1.f, 2.f, 1.f}, {3}, device());
  const Tensor weight = emb.weight;
  auto fn = [&](const std::vector<Tensor>& in) {
    emb.weight = in[0];
    return emb(labels);
  };
  EXPECT_TRUE(gradcheck(fn, {weight}));
  emb.weight = weight;
}

GE_INSTANTIATE_DEVICE_TEST(NnEmbeddingTest);

TEST(NnEmbedding, InitIsStandardNormal) {
  Generator gen(3);
  Embedding emb(64, 64, &gen);
  EXPECT_EQ(emb.weight.shape(), (Shape{64, 64}));
  EXPECT_TRUE(emb.weight.requires_grad());
  double mean = 0.0, sq = 0.0;
  const std::vector<float> v = emb.weight.to_vector();
  for (float e : v) {
    mean += e;
    sq += static_cast<double>(e) * e;
  }
  mean /= static_cast<double>(v.size());
  EXPECT_NEAR(mean, 0.0, 0.06);
  EXPECT_NEAR(std::sqrt(sq / static_cast<double>(v.size()) - mean * mean), 1.0, 0.05);
}

TEST(NnEmbedding, LabelErrors) {
  EXPECT_TRUE(contains(error_of([] {
                         nn::one_hot(from_vector({0.f, 3.f}, {2}), 3);
                       }),
                       "one_hot: expected integer labels in [0, 3), got 3 at index 1"));
  EXPECT_TRUE(contains(error_of([] { nn::one_hot(from_vector({-1.f}, {1}), 3); }), "got -1"));
  EXPECT_TRUE(contains(error_of([] { nn::one_hot(from_vector({0.5f}, {1}), 3); }), "got 0.5"));
  EXPECT_TRUE(contains(error_of([] {
                         nn::one_hot(zeros({2, 1}), 3);
                       }),
                       "expected labels of shape [N], got shape [2, 1]"));
  Embedding emb(3, 2);
  EXPECT_TRUE(contains(error_of([&] { emb(from_vector({7.f}, {1})); }), "got 7"));
}

}  // namespace
}  // namespace ge::nntest
