// Invalid calls throw ge::Error whose message names the op, the expected and the actual value
// (DESIGN.md, Conventions). Content is checked by key words (op name, shapes as "[2, 3]",
// device names) rather than whole strings, so rewording a message does not break the tests but
// dropping the information does.
#include <functional>
#include <string>
#include <vector>

#include "engine/op_test_util.h"
#include "ganengine/error.h"

namespace ge::optest {
namespace {

class ErrorsTest : public DeviceTest {};

// Each inner list is a set of alternatives; the message must contain one of each.
using KeyWords = std::vector<std::vector<std::string>>;

::testing::AssertionResult throws_error(const std::function<void()>& call, const KeyWords& keys) {
  try {
    call();
  } catch (const ge::Error& e) {
    const std::string msg = e.what();
    for (const auto& alternatives : keys) {
      bool found = false;
      for (const auto& k : alternatives)
        found = found || contains(msg, k);
      if (!found) {
        std::string want;
        for (const auto& k : alternatives)
          want += (want.empty() ? "\"" : " or \"") + k + "\"";
        return ::testing::AssertionFailure()
               << "ge::Error message lacks " << want << "; message: \"" << msg << "\"";
      }
    }
    return ::testing::AssertionSuccess();
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure()
           << "threw an exception that is not ge::Error: \"" << e.what() << "\"";
  } catch (...) {
    return ::testing::AssertionFailure() << "threw a non-std exception";
  }
  return ::testing::AssertionFailure() << "did not throw";
}

Tensor filled(const Shape& shape, Device d, bool requires_grad = false) {
  return make(lcg_values(count(shape), 1), shape, d, requires_grad);
}

TEST_P(ErrorsTest, ShapeMismatchInBroadcastingOps) {
  const Device d = device();
  const Tensor a = filled({2, 3}, d);
  EXPECT_TRUE(throws_error([&] { add(a, filled({4, 3}, d)); }, {{"add"}, {"[2, 3]"}, {"[4, 3]"}}));
  EXPECT_TRUE(throws_error([&] { mul(a, filled({2, 4}, d)); }, {{"mul"}, {"[2, 3]"}, {"[2, 4]"}}));
  EXPECT_TRUE(throws_error([&] { sub(filled({3}, d), a.t()); }, {{"sub"}, {"[3]"}, {"[3, 2]"}}));
  EXPECT_TRUE(throws_error(
      [&] {
        ge::broadcast_shapes({2, 3}, {4, 3}, "my_op");
      },
      {{"my_op"}, {"[2, 3]"}, {"[4, 3]"}}));
}

TEST_P(ErrorsTest, MatmulShapes) {
  const Device d = device();
  EXPECT_TRUE(throws_error(
      [&] {
        matmul(filled({2, 3}, d), filled({4, 5}, d));
      },
      {{"matmul"}, {"[2, 3]"}, {"[4, 5]"}}));
  // Batch dims 2 and 3 do not broadcast.
  EXPECT_TRUE(throws_error(
      [&] {
        matmul(filled({2, 3, 4}, d), filled({3, 4, 5}, d));
      },
      {{"matmul"}, {"[2, 3, 4]"}, {"[3, 4, 5]"}}));
  // 1-D operands are documented as unsupported.
  EXPECT_TRUE(throws_error(
      [&] {
        matmul(filled({3}, d), filled({3, 2}, d));
      },
      {{"matmul"}, {"[3]"}}));
  EXPECT_TRUE(throws_error(
      [&] {
        linear(filled({2, 3}, d), filled({4, 5}, d));
      },
      {{"linear"}, {"[2, 3]"}, {"[4, 5]"}}));
  EXPECT_TRUE(throws_error(
      [&] {
        linear(filled({2, 3}, d), filled({4, 3}, d), filled({5}, d));
      },
      {{"linear"}, {"[5]"}, {"4"}}));
}

TEST_P(ErrorsTest, DeviceMismatch) {
  GE_SKIP_IF_UNAVAILABLE(kCUDA);
  const Device d = device();
  const Device o = other_device(d);
  // Messages should name both devices; the order depends on which operand is first.
  EXPECT_TRUE(
      throws_error([&] { add(filled({2}, d), filled({2}, o)); }, {{"add"}, {"cpu"}, {"cuda:0"}}));
  EXPECT_TRUE(throws_error(
      [&] {
        matmul(filled({2, 2}, d), filled({2, 2}, o));
      },
      {{"matmul"}, {"cpu"}, {"cuda:0"}}));
  EXPECT_TRUE(throws_error(
      [&] {
        cat({filled({2}, d), filled({2}, o)}, 0);
      },
      {{"cat"}, {"cpu"}, {"cuda:0"}}));
}

TEST_P(ErrorsTest, BadDims) {
  const Device d = device();
  const Tensor x = filled({2, 3, 4}, d);
  EXPECT_TRUE(throws_error(
      [&] {
        x.permute({0, 0, 1});
      },
      {{"permute"}, {"[0, 0, 1]", "repeat", "duplicate", "more than once"}}));
  EXPECT_TRUE(throws_error([&] { permute(x, {0, 1}); }, {{"permute"}, {"3"}, {"2"}}));
  // Out of range in a 3-D tensor: valid dims are [-3, 2].
  EXPECT_TRUE(throws_error([&] { sum(x, {3}); }, {{"sum"}, {"3"}}));
  EXPECT_TRUE(throws_error([&] { mean(x, {-4}); }, {{"mean"}, {"-4"}}));
  EXPECT_TRUE(throws_error([&] { max(x, {5}); }, {{"max"}, {"5"}}));
  EXPECT_TRUE(throws_error([&] { x.transpose(0, 5); }, {{"transpose"}, {"5"}}));
  EXPECT_TRUE(throws_error([&] { x.squeeze(3); }, {{"squeeze"}, {"3"}}));
  EXPECT_TRUE(throws_error([&] { x.unsqueeze(5); }, {{"unsqueeze"}, {"5"}}));  // [-4, 3]
  EXPECT_TRUE(throws_error([&] { cat({x, x}, 3); }, {{"cat"}, {"3"}}));
  EXPECT_TRUE(throws_error([&] { ge::wrap_dim(5, 2, "my_op"); }, {{"my_op"}, {"5"}}));
}

TEST_P(ErrorsTest, SliceAndSelectOutOfRange) {
  const Device d = device();
  const Tensor x = filled({4, 3}, d);
  // End 5 past a dim of size 3.
  EXPECT_TRUE(throws_error([&] { x.slice(1, 1, 5); }, {{"slice"}, {"5"}, {"3"}}));
  EXPECT_TRUE(throws_error([&] { x.slice(2, 0, 1); }, {{"slice"}, {"2"}}));  // dim
  EXPECT_TRUE(throws_error([&] { x.slice(0, 0, 2, 0); }, {{"slice"}, {"step"}}));
  EXPECT_TRUE(throws_error([&] { x.select(0, 4); }, {{"select"}, {"4"}}));
}

TEST_P(ErrorsTest, ViewOfANonViewableLayout) {
  const Device d = device();
  const Tensor xt = filled({2, 3}, d).t();  // [3, 2] with strides [1, 3]
  EXPECT_TRUE(throws_error([&] { xt.view({6}); }, {{"view"}, {"[6]"}, {"[3, 2]"}}));
  EXPECT_TRUE(throws_error(
      [&] {
        filled({2, 3}, d).view({4});
      },
      {{"view"}, {"[4]"}, {"[2, 3]", "6"}}));
  EXPECT_TRUE(throws_error(
      [&] {
        filled({3, 2}, d).expand({3, 4});
      },
      {{"expand"}, {"[3, 2]"}, {"[3, 4]"}}));
}

TEST_P(ErrorsTest, CatAndStackShapes) {
  const Device d = device();
  EXPECT_TRUE(throws_error(
      [&] {
        cat({filled({2, 3}, d), filled({3, 4}, d)}, 0);
      },
      {{"cat"}, {"[2, 3]"}, {"[3, 4]"}}));
  EXPECT_TRUE(throws_error(
      [&] {
        cat({filled({2, 3}, d), filled({2, 3, 1}, d)}, 0);
      },
      {{"cat"}, {"[2, 3]"}, {"[2, 3, 1]"}}));
  EXPECT_TRUE(throws_error([&] { cat({}, 0); }, {{"cat"}}));
  EXPECT_TRUE(throws_error(
      [&] {
        stack({filled({2, 3}, d), filled({3, 2}, d)}, 0);
      },
      {{"stack"}, {"[2, 3]"}, {"[3, 2]"}}));
}

TEST_P(ErrorsTest, BackwardOfNonScalarNeedsGradOutput) {
  const Tensor x = filled({2, 3}, device(), true);
  const Tensor y = x * 2.f;
  EXPECT_TRUE(
      throws_error([&] { y.backward(); }, {{"backward"}, {"grad_output", "scalar"}, {"[2, 3]"}}));
}

TEST_P(ErrorsTest, BackwardTwiceWithoutRetainGraph) {
  const Tensor x = filled({2, 3}, device(), true);
  const Tensor kept = (x * x).sum();
  kept.backward(Tensor(), /*retain_graph=*/true);
  EXPECT_NO_THROW(kept.backward());  // positive control: the retained graph is still there
  const Tensor y = (x * x).sum();
  y.backward();
  EXPECT_TRUE(throws_error([&] { y.backward(); }, {{"retain_graph"}}));
}

TEST_P(ErrorsTest, ItemOfMultiElementTensor) {
  EXPECT_TRUE(throws_error([&] { filled({2, 3}, device()).item(); }, {{"item"}, {"[2, 3]", "6"}}));
}

TEST_P(ErrorsTest, FromVectorSizeMismatch) {
  EXPECT_TRUE(throws_error(
      [&] {
        from_vector(std::vector<float>(5, 1.f), {2, 3}, device());
      },
      {{"from_vector"}, {"5"}, {"[2, 3]", "6"}}));
}

TEST_P(ErrorsTest, CopyShapeMismatch) {
  Tensor dst = zeros({2, 3}, device());
  EXPECT_TRUE(throws_error(
      [&] {
        dst.copy_(filled({3, 2}, device()));
      },
      {{"copy_"}, {"[2, 3]"}, {"[3, 2]"}}));
}

TEST_P(ErrorsTest, InPlaceOnATensorThatRequiresGrad) {
  Tensor x = filled({2, 3}, device(), true);
  // Refused outside NoGradGuard: it would silently invalidate autograd's saved values.
  EXPECT_TRUE(throws_error([&] { x.fill_(0.f); }, {{"fill_"}, {"requires grad", "requires_grad"}}));
  NoGradGuard no_grad;
  EXPECT_NO_THROW(x.fill_(0.f));
}

TEST_P(ErrorsTest, GradOfAnUnusedInput) {
  const Tensor x = filled({2}, device(), true);
  const Tensor unused = filled({2}, device(), true);
  const Tensor y = (x * x).sum();
  EXPECT_TRUE(throws_error([&] { ge::grad({y}, {unused}, {}, false, true); }, {{"allow_unused"}}));
  const std::vector<Tensor> g = ge::grad({y}, {x, unused}, {}, false, true, /*allow_unused=*/true);
  ASSERT_EQ(g.size(), 2u);
  EXPECT_TRUE(g[0].defined());
  EXPECT_FALSE(g[1].defined());
}

TEST(ErrorsParse, ParseDeviceNamesTheAcceptedForms) {
  EXPECT_TRUE(throws_error([] { parse_device("gpu"); }, {{"gpu"}, {"cpu"}, {"cuda"}}));
  EXPECT_EQ(parse_device("cpu"), kCPU);
  EXPECT_EQ(parse_device("cuda"), kCUDA);
  EXPECT_EQ(parse_device("cuda:0"), kCUDA);
  EXPECT_EQ(kCUDA.str(), "cuda:0");
  EXPECT_EQ(kCPU.str(), "cpu");
}

GE_INSTANTIATE_DEVICE_TEST(ErrorsTest);

}  // namespace
}  // namespace ge::optest
