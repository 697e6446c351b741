// rmsprop_step, the RMSprop optimizer and clip_weights on every device, against references in
// double written from PyTorch's RMSprop update and torch.clamp_: several steps, weight decay,
// odd shapes, more tensors than one launch takes, params without a gradient, gradients from
// backward, version bumps, and the errors.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "engine/op_test_util.h"
#include "ganengine/error.h"
#include "ganengine/optim.h"

namespace ge::optest {
namespace {

using optim::RmspropOptions;

class OptimRmspropTest : public DeviceTest {};

struct RefParam {
  std::vector<double> p, v;
};

RefParam ref_of(const std::vector<float>& p) {
  return {std::vector<double>(p.begin(), p.end()), std::vector<double>(p.size(), 0.0)};
}

// One step of torch.optim.RMSprop (momentum 0, centered false) for one param, in double.
void rmsprop_ref(RefParam& r, const std::vector<float>& grad, const RmspropOptions& o) {
  for (size_t i = 0; i < r.p.size(); ++i) {
    const double g = grad[i] + static_cast<double>(o.weight_decay) * r.p[i];
    r.v[i] = o.alpha * r.v[i] + (1.0 - o.alpha) * g * g;
    r.p[i] -= o.lr * g / (std::sqrt(r.v[i]) + o.eps);
  }
}

std::vector<float> narrow(const std::vector<double>& v) {
  return std::vector<float>(v.begin(), v.end());
}

TEST_P(OptimRmspropTest, StepMatchesReference) {
  // Odd shapes, more of them than one CUDA launch's table holds (72), one empty.
  std::vector<Shape> shapes;
  const Shape pattern[] = {{3, 5}, {7}, {2, 3, 4}, {1}, {1025}, {4, 4}, {33, 3}, {1, 1, 1}};
  for (int i = 0; i < 80; ++i)
    shapes.push_back(pattern[i % 8]);
  shapes[5] = {0, 3};
  RmspropOptions o;
  o.lr = 3e-3f;
  o.alpha = 0.95f;
  o.weight_decay = 0.05f;
  std::vector<Tensor> params, squares;
  std::vector<RefParam> refs;
  for (size_t i = 0; i < shapes.size(); ++i) {
    const int64_t n = count(shapes[i]);
    const std::vector<float> p = lcg_values(n, static_cast<uint32_t>(10 + i));
    params.push_back(make(p, shapes[i], device()));
    squares.push_back(zeros(shapes[i], device()));
    refs.push_back(ref_of(p));
  }
  for (int s = 0; s < 3; ++s) {
    std::vector<Tensor> grads;
    for (size_t i = 0; i < shapes.size(); ++i) {
      const std::vector<float> g =
          lcg_values(count(shapes[i]), static_cast<uint32_t>(500 + 100 * s + i));
      grads.push_back(make(g, shapes[i], device()));
      rmsprop_ref(refs[i], g, o);
    }
    optim::rmsprop_step(params, grads, squares, o);
    for (size_t i = 0; i < shapes.size(); ++i) {
      SCOPED_TRACE("step " + std::to_string(s + 1) + " tensor " + std::to_string(i));
      ASSERT_TRUE(all_close(params[i], narrow(refs[i].p), 1e-6, 1e-5));
      ASSERT_TRUE(all_close(squares[i], narrow(refs[i].v), 1e-9, 1e-5));
    }
  }
}

TEST_P(OptimRmspropTest, StepBumpsVersionsAndKeepsNoHistory) {
  const Tensor p = make(lcg_values(6, 1), {2, 3}, device(), true);
  const Tensor g = make(lcg_values(6, 2), {2, 3}, device());
  const Tensor v = zeros({2, 3}, device());
  const uint64_t pv = p.version(), vv = v.version(), gv = g.version();
  optim::rmsprop_step({p}, {g}, {v}, {});
  EXPECT_GT(p.version(), pv);
  EXPECT_GT(v.version(), vv);
  EXPECT_EQ(g.version(), gv);
  EXPECT_TRUE(p.is_leaf());
  EXPECT_TRUE(p.requires_grad());
  const Tensor q = make(lcg_values(6, 3), {2, 3}, device(), true);
  const Tensor y = sum(p * q);
  optim::clip_weights({p}, 0.5f);
  EXPECT_THROW(y.backward(), Error);  // p changed after y saved it
}

// Gradients from backward; a param without a gradient is left alone; zero_grad clears them.
TEST_P(OptimRmspropTest, OptimizerStepsParamsWithGradients) {
  const std::vector<float> av = lcg_values(5, 4), bv = lcg_values(3, 5);
  const Tensor a = make(av, {5}, device(), true), b = make(bv, {3}, device(), true);
  RmspropOptions o;
  o.lr = 5e-2f;
  optim::RMSprop opt({a, b}, o);
  RefParam ra = ref_of(av), rb = ref_of(bv);

  const Tensor w = make(lcg_values(5, 6), {5}, device());
  sum(a * w).backward();  // d/da = w
  opt.step();
  rmsprop_ref(ra, w.to_vector(), o);
  EXPECT_TRUE(all_close(a, narrow(ra.p), 1e-6, 1e-5));
  EXPECT_TRUE(all_close(b, bv, 0.0, 0.0));
  EXPECT_TRUE(all_close(opt.square_avg()[1], std::vector<float>(3, 0.f), 0.0, 0.0));

  opt.zero_grad();
  EXPECT_FALSE(a.grad().defined());
  const std::vector<float> h = lcg_values(3, 8);
  b.set_grad(make(h, {3}, device()));
  opt.step();
  rmsprop_ref(rb, h, o);
  EXPECT_TRUE(all_close(a, narrow(ra.p), 1e-6, 1e-5));
  EXPECT_TRUE(all_close(b, narrow(rb.p), 1e-6, 1e-5));
  EXPECT_TRUE(all_close(opt.square_avg()[1], narrow(rb.v), 1e-9, 1e-5));
  EXPECT_EQ(opt.steps(), 2);
  EXPECT_EQ(opt.param_steps(), (std::vector<int64_t>{1, 1}));
  // The trainer sees it as any optimizer: its buffers by name, its rate.
  optim::Optimizer& any = opt;
  const auto buffers = any.state_buffers();
  ASSERT_EQ(buffers.size(), 1u);
  EXPECT_EQ(buffers[0].first, "square_avg");
  EXPECT_EQ(buffers[0].second[1].impl(), opt.square_avg()[1].impl());
  any.set_lr(0.5f);
  EXPECT_EQ(opt.options().lr, 0.5f);
}

TEST_P(OptimRmspropTest, ClipWeightsClampsEveryParam) {
  std::vector<Tensor> params;
  std::vector<std::vector<float>> want;
  for (int i = 0; i < 110; ++i) {  // more than one CUDA launch's table (96)
    const int64_t n = 1 + (i * 13) % 200;
    std::vector<float> v = lcg_values(n, static_cast<uint32_t>(40 + i), -0.05f, 0.05f);
    if (i == 3) v[0] = NAN;  // kept, as torch.clamp_ keeps it
    params.push_back(make(v, {n}, device(), true));
    for (float& x : v)
      if (!std::isnan(x)) x = std::clamp(x, -0.01f, 0.01f);
    want.push_back(v);
  }
  optim::clip_weights(params, 0.01f);
  for (size_t i = 0; i < params.size(); ++i) {
    SCOPED_TRACE("param " + std::to_string(i));
    ASSERT_TRUE(all_close(params[i], want[i], 0.0, 0.0));
  }
  EXPECT_NO_THROW(optim::clip_weights({}, 0.01f));
  optim::clip_weights({params[0]}, 0.f);
  EXPECT_TRUE(all_close(params[0], std::vector<float>(want[0].size(), 0.f), 0.0, 0.0));
}

TEST_P(OptimRmspropTest, Errors) {
  const Tensor p = zeros({3}, device()), g = zeros({3}, device()), v = zeros({3}, device());
  RmspropOptions bad;
  bad.alpha = 1.5f;
  EXPECT_TRUE(throws_with([&] { optim::rmsprop_step({p}, {g}, {v}, bad); },
                          {"rmsprop_step", "alpha in [0, 1], got 1.5"}));
  EXPECT_TRUE(throws_with(
      [&] {
        optim::rmsprop_step({p, p}, {g}, {v}, {});
      },
      {"rmsprop_step", "as many grads as params (2), got 1"}));
  EXPECT_TRUE(throws_with(
      [&] {
        optim::rmsprop_step({p}, {g}, {zeros({1, 3}, device())}, {});
      },
      {"rmsprop_step", "square_avg[0] of shape [3] (params[0]'s shape)"}));
  const Tensor leaf = make({1, 2}, {2}, device(), true);
  EXPECT_TRUE(throws_with([&] { optim::RMSprop({leaf * 2.f}); },
                          {"RMSprop", "params[0] to be a leaf", "MulScalarBackward"}));
  EXPECT_TRUE(throws_with(
      [&] {
        optim::RMSprop({leaf, leaf});
      },
      {"RMSprop", "params[1] equal to params[0]"}));
  optim::RMSprop opt({leaf});
  EXPECT_TRUE(
      throws_with([&] { opt.set_counters(-1, {0}); }, {"RMSprop", "step count >= 0, got -1"}));
  EXPECT_TRUE(throws_with([&] { opt.set_counters(2, {3}); },
                          {"RMSprop", "params[0]'s step count in [0, 2], got 3"}));
  EXPECT_TRUE(throws_with([&] { optim::clip_weights({p}, -0.01f); },
                          {"clip_weights", "c >= 0", "got -0.01"}));
  EXPECT_TRUE(throws_with(
      [&] {
        optim::clip_weights({zeros({2, 3}, device()).t()}, 0.01f);
      },
      {"clip_weights", "params[0] to be contiguous"}));
  if (cuda_is_available()) {
    const Tensor elsewhere = zeros({3}, other_device(device()));
    EXPECT_TRUE(throws_with(
        [&] {
          optim::clip_weights({p, elsewhere}, 0.01f);
        },
        {"clip_weights", "params[1] on " + device().str()}));
  }
}

GE_INSTANTIATE_DEVICE_TEST(OptimRmspropTest);

}  // namespace
}  // namespace ge::optest
