// reflection_pad2d and replication_pad2d on every device against F.pad's index rules written as
// loops here (asymmetric and zero pads, the reflection limit, replication beyond the input, 3-D
// inputs, non-contiguous inputs); known values worked out by hand; gradcheck and gradgradcheck;
// the backward of the backward is the padding again; argument errors.
#include "ganengine/pad.h"

#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include "engine/op_test_util.h"
#include "ganengine/error.h"

namespace ge::optest {
namespace {

class PadTest : public DeviceTest {};

using Pad = std::array<int64_t, 4>;
enum class Mode { Reflect, Replicate };

const char* mode_name(Mode m) {
  return m == Mode::Reflect ? "reflect" : "replicate";
}

std::string describe(Mode m, const Shape& s, const Pad& p) {
  return std::string(mode_name(m)) + " " + to_string(s) + " pad {" + std::to_string(p[0]) + "," +
         std::to_string(p[1]) + "," + std::to_string(p[2]) + "," + std::to_string(p[3]) + "}";
}

// The input index output o reads along an axis: reflection mirrors about the edge pixels
// (PyTorch's "reflect", the edge itself not repeated), replication clamps.
int64_t source(Mode m, int64_t o, int64_t lo, int64_t in) {
  const int64_t i = o - lo;
  if (m == Mode::Replicate) return std::clamp<int64_t>(i, 0, in - 1);
  if (i < 0) return -i;
  return i >= in ? 2 * (in - 1) - i : i;
}

Shape padded_shape(const Shape& s, const Pad& p) {
  Shape out = s;
  out[out.size() - 2] += p[2] + p[3];
  out[out.size() - 1] += p[0] + p[1];
  return out;
}

std::vector<float> pad_ref(const std::vector<float>& x, const Shape& s, const Pad& p, Mode m) {
  const int64_t h = s[s.size() - 2], w = s[s.size() - 1], planes = count(s) / (h * w);
  const int64_t oh = h + p[2] + p[3], ow = w + p[0] + p[1];
  std::vector<float> y(static_cast<size_t>(planes * oh * ow));
  for (int64_t q = 0; q < planes; ++q)
    for (int64_t i = 0; i < oh; ++i)
      for (int64_t j = 0; j < ow; ++j)
        y[static_cast<size_t>((q * oh + i) * ow + j)] =
            x[static_cast<size_t>((q * h + source(m, i, p[2], h)) * w + source(m, j, p[0], w))];
  return y;
}

Tensor run(Mode m, const Tensor& x, const Pad& p) {
  return m == Mode::Reflect ? reflection_pad2d(x, p) : replication_pad2d(x, p);
}

TEST_P(PadTest, ForwardMatchesReference) {
  const std::pair<Shape, Pad> cases[] = {
      {{2, 3, 4, 5}, {3, 3, 3, 3}},  // CycleGAN's c7s1 reflection pad
      {{1, 2, 5, 4}, {1, 2, 0, 3}},  // asymmetric, no top pad
      {{2, 1, 3, 6}, {0, 0, 2, 1}},  // rows only
      {{1, 1, 2, 2}, {1, 1, 1, 1}},  // the reflection limit on a 2x2 map
      {{3, 4, 5}, {2, 1, 1, 2}},     // 3-D [C, H, W]
      {{1, 2, 3, 3}, {0, 0, 0, 0}},  // a copy
  };
  for (Mode m : {Mode::Reflect, Mode::Replicate}) {
    for (const auto& [shape, pad] : cases) {
      SCOPED_TRACE(describe(m, shape, pad));
      const std::vector<float> x = lcg_values(count(shape), 1);
      const Tensor y = run(m, make(x, shape, device()), pad);
      EXPECT_EQ(y.shape(), padded_shape(shape, pad));
      EXPECT_EQ(y.device(), device());
      EXPECT_TRUE(all_close(y, pad_ref(x, shape, pad, m), 0.0, 0.0));
    }
  }
}

// Replication pads may exceed the input's size.
TEST_P(PadTest, ReplicationBeyondTheInput) {
  const Shape shape = {1, 2, 2, 3};
  const Pad pad = {4, 5, 3, 6};
  const std::vector<float> x = lcg_values(count(shape), 2);
  EXPECT_TRUE(all_close(replication_pad2d(make(x, shape, device()), pad),
                        pad_ref(x, shape, pad, Mode::Replicate), 0.0, 0.0));
}

// F.pad on the row [1, 2, 3] by (2, 2): reflect gives [3, 2, 1, 2, 3, 2, 1], replicate
// [1, 1, 1, 2, 3, 3, 3].
TEST_P(PadTest, KnownValues) {
  const Tensor x = make({1.f, 2.f, 3.f}, {1, 1, 1, 3}, device());
  EXPECT_EQ(reflection_pad2d(x, {2, 2, 0, 0}).to_vector(),
            (std::vector<float>{3, 2, 1, 2, 3, 2, 1}));
  EXPECT_EQ(replication_pad2d(x, {2, 2, 0, 0}).to_vector(),
            (std::vector<float>{1, 1, 1, 2, 3, 3, 3}));
  // Columns: [[1], [2]] padded by one on top and bottom.
  const Tensor c = make({1.f, 2.f}, {1, 2, 1}, device());
  EXPECT_EQ(reflection_pad2d(c, {0, 0, 1, 1}).to_vector(), (std::vector<float>{2, 1, 2, 1}));
  EXPECT_EQ(replication_pad2d(c, {0, 0, 1, 1}).to_vector(), (std::vector<float>{1, 1, 2, 2}));
}

// The gradient of sum(w * pad(x)) is the adjoint: each input gathers the weights of the outputs
// that copy it. Hand-checked on the row [a, b, c] reflect-padded by (2, 1): outputs read
// [c, b, a, b, c, b], so d/da = w2, d/db = w1 + w3 + w5, d/dc = w0 + w4.
TEST_P(PadTest, GradientIsTheAdjoint) {
  const Tensor x = make({1.f, 2.f, 3.f}, {1, 1, 1, 3}, device(), true);
  const Tensor w = make({1.f, 10.f, 100.f, 1000.f, 1e4f, 1e5f}, {1, 1, 1, 6}, device());
  sum(reflection_pad2d(x, {2, 1, 0, 0}) * w).backward();
  EXPECT_TRUE(all_close(x.grad(), {100.f, 101010.f, 10001.f}, 0.0, 0.0));
  const Tensor xr = make({1.f, 2.f, 3.f}, {1, 1, 1, 3}, device(), true);
  sum(replication_pad2d(xr, {2, 1, 0, 0}) * w).backward();  // reads [a, a, a, b, c, c]
  EXPECT_TRUE(all_close(xr.grad(), {111.f, 1000.f, 110000.f}, 0.0, 0.0));
}

TEST_P(PadTest, NonContiguousInput) {
  const std::vector<float> base = lcg_values(30, 3);
  const Tensor x = make(base, {1, 5, 3, 2}, device()).permute({0, 3, 2, 1});  // [1, 2, 3, 5]
  ASSERT_FALSE(x.is_contiguous());
  const std::vector<float> xv = permuted(base, {1, 5, 3, 2}, {0, 3, 2, 1});
  for (Mode m : {Mode::Reflect, Mode::Replicate})
    EXPECT_TRUE(all_close(run(m, x, {2, 1, 1, 2}), pad_ref(xv, {1, 2, 3, 5}, {2, 1, 1, 2}, m)));
}

TEST_P(PadTest, Gradients) {
  const std::pair<Shape, Pad> cases[] = {{{1, 2, 3, 4}, {2, 1, 0, 2}}, {{2, 3, 3}, {1, 1, 1, 1}}};
  for (Mode m : {Mode::Reflect, Mode::Replicate}) {
    for (const auto& [shape, pad] : cases) {
      SCOPED_TRACE(describe(m, shape, pad));
      const auto fn = [m, pad](const std::vector<Tensor>& in) { return run(m, in[0], pad); };
      const std::vector<Tensor> in = {make(lcg_values(count(shape), 4), shape, device(), true)};
      EXPECT_TRUE(grad_ok(fn, in));
      EXPECT_TRUE(gradgrad_ok(fn, in));
    }
  }
}

// The backward of the backward is the padding again: for a linear map P, the gradient of
// <P^T g, v> with respect to g is P v.
TEST_P(PadTest, BackwardOfBackwardIsPad) {
  const Shape s = {1, 2, 3, 4};
  const Pad pad = {3, 1, 2, 2};
  const Tensor v = make(lcg_values(count(s), 5), s, device());
  for (Mode m : {Mode::Reflect, Mode::Replicate}) {
    SCOPED_TRACE(mode_name(m));
    const Tensor x = make(lcg_values(count(s), 6), s, device(), true);
    const Shape big = padded_shape(s, pad);
    const Tensor g = make(lcg_values(count(big), 7), big, device(), true);
    const Tensor dx = grad({run(m, x, pad)}, {x}, {g}, /*create_graph=*/true)[0];
    const Tensor dg = grad({sum(dx * v)}, {g})[0];
    EXPECT_TRUE(all_close(dg, pad_ref(v.to_vector(), s, pad, m), 0.0, 0.0));
  }
}

TEST_P(PadTest, Errors) {
  const Device d = device();
  const Tensor x = zeros({1, 2, 4, 5}, d);
  EXPECT_TRUE(throws_with(
      [&] {
        reflection_pad2d(x, {5, 0, 0, 0});
      },
      {"reflection_pad2d", "left pad below the input width 5, got 5"}));
  EXPECT_TRUE(throws_with(
      [&] {
        reflection_pad2d(x, {0, 0, 1, 4});
      },
      {"reflection_pad2d", "bottom pad below the input height 4, got 4"}));
  EXPECT_TRUE(throws_with(
      [&] {
        reflection_pad2d(x, {1, 7, 0, 0});
      },
      {"reflection_pad2d", "right pad below the input width 5, got 7"}));
  EXPECT_TRUE(throws_with(
      [&] {
        replication_pad2d(x, {0, -1, 0, 0});
      },
      {"replication_pad2d", "non-negative pads, got -1 for the right side", "{0, -1, 0, 0}"}));
  EXPECT_TRUE(throws_with(
      [&] {
        reflection_pad2d(x, {0, 0, -2, 0});
      },
      {"reflection_pad2d", "got -2 for the top side"}));
  EXPECT_TRUE(throws_with(
      [&] {
        replication_pad2d(zeros({1, 1, 0, 3}, d), {0, 0, 1, 0});
      },
      {"replication_pad2d", "non-empty input height", "got height 0"}));
  EXPECT_TRUE(throws_with(
      [&] {
        reflection_pad2d(zeros({4, 5}, d), {1, 1, 1, 1});
      },
      {"reflection_pad2d", "3-D [C, H, W] or 4-D [N, C, H, W]", "[4, 5]"}));
  EXPECT_TRUE(throws_with(
      [&] {
        replication_pad2d(zeros({1, 1, 1, 4, 5}, d), {1, 1, 1, 1});
      },
      {"replication_pad2d", "got shape [1, 1, 1, 4, 5]"}));
  EXPECT_TRUE(throws_with(
      [&] {
        reflection_pad2d(Tensor(), {1, 1, 1, 1});
      },
      {"reflection_pad2d", "defined"}));
}

TEST_P(PadTest, EmptyBatch) {
  const Tensor y = reflection_pad2d(zeros({0, 3, 4, 4}, device()), {1, 2, 3, 0});
  EXPECT_EQ(y.shape(), (Shape{0, 3, 7, 7}));
}

GE_INSTANTIATE_DEVICE_TEST(PadTest);

}  // namespace
}  // namespace ge::optest
