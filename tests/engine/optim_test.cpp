// adam_step, the Adam optimizer and ema_update on every device, against references in double
// written from PyTorch's update rules: several steps, L2 and decoupled weight decay, odd shapes,
// more tensors than one launch takes, per-param step counts when some params have no gradient,
// gradients from backward (including broadcast ones), version bumps, and the errors.
#include "ganengine/optim.h"

#include <cmath>
#include <string>
#include <vector>

#include "engine/op_test_util.h"
#include "ganengine/error.h"

namespace ge::optest {
namespace {

using optim::AdamOptions;

class OptimTest : public DeviceTest {};

struct RefParam {
  std::vector<double> p, m, v;
  int64_t steps = 0;
};

// One step of torch.optim.Adam / AdamW for one param, in double.
void adam_ref(RefParam& r, const std::vector<float>& grad, const AdamOptions& o) {
  ++r.steps;
  const double bc1 = 1.0 - std::pow(static_cast<double>(o.beta1), static_cast<double>(r.steps));
  const double bc2 = 1.0 - std::pow(static_cast<double>(o.beta2), static_cast<double>(r.steps));
  for (size_t i = 0; i < r.p.size(); ++i) {
    double g = grad[i];
    if (o.decoupled_weight_decay) {
      r.p[i] *= 1.0 - static_cast<double>(o.lr) * o.weight_decay;
    } else {
      g += static_cast<double>(o.weight_decay) * r.p[i];
    }
    r.m[i] = o.beta1 * r.m[i] + (1.0 - o.beta1) * g;
    r.v[i] = o.beta2 * r.v[i] + (1.0 - o.beta2) * g * g;
    r.p[i] -= o.lr / bc1 * r.m[i] / (std::sqrt(r.v[i]) / std::sqrt(bc2) + o.eps);
  }
}

std::vector<float> narrow(const std::vector<double>& v) {
  return std::vector<float>(v.begin(), v.end());
}

RefParam ref_of(const std::vector<float>& p) {
  RefParam r;
  r.p.assign(p.begin(), p.end());
  r.m.assign(p.size(), 0.0);
  r.v.assign(p.size(), 0.0);
  return r;
}

// Odd shapes, more of them than one CUDA launch's table holds (56).
std::vector<Shape> many_shapes() {
  std::vector<Shape> shapes;
  const Shape pattern[] = {{3, 5}, {7}, {2, 3, 4}, {1}, {1025}, {4, 4}, {33, 3}, {1, 1, 1}};
  for (int i = 0; i < 70; ++i)
    shapes.push_back(pattern[i % 8]);
  shapes[5] = {0, 3};  // an empty tensor in the list
  return shapes;
}

TEST_P(OptimTest, AdamStepMatchesReference) {
  for (bool decoupled : {false, true}) {
    for (float wd : {0.f, 0.05f}) {
      SCOPED_TRACE(std::string(decoupled ? "AdamW" : "Adam") + " wd " + std::to_string(wd));
      AdamOptions o;
      o.lr = 0.01f;
      o.beta1 = 0.8f;
      o.beta2 = 0.99f;
      o.weight_decay = wd;
      o.decoupled_weight_decay = decoupled;
      const std::vector<Shape> shapes = many_shapes();
      std::vector<Tensor> params, grads, m, v;
      std::vector<RefParam> refs;
      for (size_t i = 0; i < shapes.size(); ++i) {
        const std::vector<float> p = lcg_values(count(shapes[i]), static_cast<uint32_t>(i));
        params.push_back(make(p, shapes[i], device(), true));
        grads.push_back(zeros(shapes[i], device()));
        m.push_back(zeros(shapes[i], device()));
        v.push_back(zeros(shapes[i], device()));
        refs.push_back(ref_of(p));
      }
      for (int64_t step = 1; step <= 3; ++step) {
        for (size_t i = 0; i < shapes.size(); ++i) {
          const std::vector<float> g =
              lcg_values(count(shapes[i]), static_cast<uint32_t>(100 * step + i), -2.f, 2.f);
          grads[i] = make(g, shapes[i], device());
          adam_ref(refs[i], g, o);
        }
        optim::adam_step(params, grads, m, v, step, o);
        for (size_t i = 0; i < shapes.size(); ++i) {
          SCOPED_TRACE("step " + std::to_string(step) + " tensor " + std::to_string(i));
          ASSERT_TRUE(all_close(params[i], narrow(refs[i].p), 1e-6, 1e-5));
          ASSERT_TRUE(all_close(m[i], narrow(refs[i].m), 1e-7, 1e-5));
          ASSERT_TRUE(all_close(v[i], narrow(refs[i].v), 1e-9, 1e-5));
        }
      }
    }
  }
}

TEST_P(OptimTest, AdamStepBumpsVersionsAndKeepsNoHistory) {
  const Tensor p = make(lcg_values(6, 1), {2, 3}, device(), true);
  const Tensor g = make(lcg_values(6, 2), {2, 3}, device());
  const Tensor m = zeros({2, 3}, device()), v = zeros({2, 3}, device());
  const uint64_t pv = p.version(), mv = m.version(), vv = v.version(), gv = g.version();
  optim::adam_step({p}, {g}, {m}, {v}, 1, {});
  EXPECT_GT(p.version(), pv);
  EXPECT_GT(m.version(), mv);
  EXPECT_GT(v.version(), vv);
  EXPECT_EQ(g.version(), gv);
  EXPECT_TRUE(p.is_leaf());
  EXPECT_TRUE(p.requires_grad());
  // A graph that saved p before the update refuses to backpropagate through the stale value.
  const Tensor q = make(lcg_values(6, 3), {2, 3}, device(), true);
  const Tensor y = sum(p * q);
  optim::adam_step({p}, {g}, {m}, {v}, 2, {});
  EXPECT_THROW(y.backward(), Error);
}

// Like PyTorch, a param's bias corrections count the steps that updated it, and a param without
// a gradient is left alone.
TEST_P(OptimTest, AdamSkipsParamsWithoutGradient) {
  const std::vector<float> av = lcg_values(5, 4), bv = lcg_values(3, 5);
  const Tensor a = make(av, {5}, device(), true), b = make(bv, {3}, device(), true);
  AdamOptions o;
  o.lr = 0.1f;
  optim::Adam opt({a, b}, o);
  RefParam ra = ref_of(av), rb = ref_of(bv);

  const std::vector<float> g1 = lcg_values(5, 6);
  a.set_grad(make(g1, {5}, device()));
  opt.step();
  adam_ref(ra, g1, o);
  EXPECT_TRUE(all_close(a, narrow(ra.p), 1e-6, 1e-5));
  EXPECT_TRUE(all_close(b, bv, 0.0, 0.0));
  EXPECT_TRUE(all_close(opt.exp_avg()[1], std::vector<float>(3, 0.f), 0.0, 0.0));

  const std::vector<float> g2 = lcg_values(5, 7), h2 = lcg_values(3, 8);
  a.set_grad(make(g2, {5}, device()));
  b.set_grad(make(h2, {3}, device()));
  opt.step();
  adam_ref(ra, g2, o);
  adam_ref(rb, h2, o);  // b's first step: bias corrections of step 1
  EXPECT_TRUE(all_close(a, narrow(ra.p), 1e-6, 1e-5));
  EXPECT_TRUE(all_close(b, narrow(rb.p), 1e-6, 1e-5));
  EXPECT_TRUE(all_close(opt.exp_avg()[0], narrow(ra.m), 1e-7, 1e-5));
  EXPECT_TRUE(all_close(opt.exp_avg_sq()[1], narrow(rb.v), 1e-9, 1e-5));
  EXPECT_EQ(opt.steps(), 2);

  opt.zero_grad();
  EXPECT_FALSE(a.grad().defined());
  EXPECT_FALSE(b.grad().defined());
  opt.step();  // nothing to update
  EXPECT_TRUE(all_close(a, narrow(ra.p), 1e-6, 1e-5));
  EXPECT_EQ(opt.steps(), 3);
}

// A restored optimizer (moments copied, counters set) takes the same next step as the one it
// was saved from; the counters are checked.
TEST_P(OptimTest, AdamRestoredFromSavedStateContinuesExactly) {
  const std::vector<float> av = lcg_values(5, 9), bv = lcg_values(3, 10);
  const Tensor a = make(av, {5}, device(), true), b = make(bv, {3}, device(), true);
  AdamOptions o;
  o.lr = 0.05f;
  optim::Adam opt({a, b}, o);
  RefParam ra = ref_of(av), rb = ref_of(bv);
  for (int s = 0; s < 2; ++s) {
    const std::vector<float> g = lcg_values(5, 11 + s);
    a.set_grad(make(g, {5}, device()));
    opt.step();
    adam_ref(ra, g, o);
  }
  const std::vector<float> hb = lcg_values(3, 13);
  b.set_grad(make(hb, {3}, device()));
  a.zero_grad();
  opt.step();  // b's first update: counters now {2, 1} of 3 steps
  adam_ref(rb, hb, o);
  ASSERT_EQ(opt.param_steps(), (std::vector<int64_t>{2, 1}));

  const Tensor a2 = a.detach().clone().requires_grad_(), b2 = b.detach().clone().requires_grad_();
  optim::Adam restored({a2, b2}, o);
  for (size_t i = 0; i < 2; ++i) {
    Tensor m = restored.exp_avg()[i], v = restored.exp_avg_sq()[i];  // handles to the buffers
    m.copy_(opt.exp_avg()[i]);
    v.copy_(opt.exp_avg_sq()[i]);
  }
  restored.set_counters(opt.steps(), opt.param_steps());
  const std::vector<float> g = lcg_values(5, 14), h = lcg_values(3, 15);
  a2.set_grad(make(g, {5}, device()));
  b2.set_grad(make(h, {3}, device()));
  restored.step();
  adam_ref(ra, g, o);
  adam_ref(rb, h, o);  // bias corrections of steps 3 and 2
  EXPECT_TRUE(all_close(a2, narrow(ra.p), 1e-6, 1e-5));
  EXPECT_TRUE(all_close(b2, narrow(rb.p), 1e-6, 1e-5));
  EXPECT_EQ(restored.param_steps(), (std::vector<int64_t>{3, 2}));

  EXPECT_TRUE(throws_with([&] { restored.set_counters(4, {1}); }, {"expected 2 parameter step"}));
  EXPECT_TRUE(throws_with(
      [&] {
        restored.set_counters(1, {2, 0});
      },
      {"step count in [0, 1], got 2"}));
}

// Gradients from backward: one contiguous, one broadcast (sum's backward expands a scalar), both
// taken as they come. Changing options() between steps takes effect at the next step.
TEST_P(OptimTest, AdamWithBackwardGradients) {
  const std::vector<float> wv = lcg_values(12, 9), cv = lcg_values(4, 10);
  const Tensor w = make(wv, {3, 4}, device(), true), c = make(cv, {4}, device(), true);
  AdamOptions o;
  o.lr = 0.05f;
  o.weight_decay = 0.01f;
  o.decoupled_weight_decay = true;
  optim::Adam opt({w, c}, o);
  EXPECT_EQ(opt.params().size(), 2u);
  RefParam rw = ref_of(wv), rc = ref_of(cv);
  for (int step = 0; step < 3; ++step) {
    if (step == 2) opt.options().lr = 0.02f;
    const AdamOptions now = opt.options();
    const std::vector<double> w_before = rw.p;
    // loss = 0.5 sum(w^2) + sum(c): grads w and ones.
    opt.zero_grad();
    (sum(w * w) * 0.5f + sum(c)).backward();
    adam_ref(rw, narrow(w_before), now);
    adam_ref(rc, std::vector<float>(4, 1.f), now);
    opt.step();
    SCOPED_TRACE("step " + std::to_string(step));
    EXPECT_TRUE(all_close(w, narrow(rw.p), 1e-6, 1e-5));
    EXPECT_TRUE(all_close(c, narrow(rc.p), 1e-6, 1e-5));
  }
  EXPECT_FLOAT_EQ(opt.options().lr, 0.02f);
}

TEST_P(OptimTest, EmaUpdateMatchesReference) {
  std::vector<Tensor> avg, src;
  std::vector<std::vector<float>> want;
  const float decay = 0.9f;
  for (int i = 0; i < 100; ++i) {  // more than one CUDA launch's table (96)
    const Shape shape = {1 + i % 5, 1 + (i * 7) % 11};
    const std::vector<float> a = lcg_values(count(shape), static_cast<uint32_t>(i));
    const std::vector<float> s = lcg_values(count(shape), static_cast<uint32_t>(i + 300));
    avg.push_back(make(a, shape, device()));
    std::vector<float> w(a.size());
    if (i % 10 == 3) {
      // A transposed (non-contiguous) source.
      const Shape tshape = {shape[1], shape[0]};
      src.push_back(make(s, tshape, device()).t());
      const std::vector<float> st = permuted(s, tshape, {1, 0});
      for (size_t k = 0; k < w.size(); ++k)
        w[k] = static_cast<float>(st[k] + static_cast<double>(decay) * (a[k] - st[k]));
    } else {
      src.push_back(make(s, shape, device(), true));
      for (size_t k = 0; k < w.size(); ++k)
        w[k] = static_cast<float>(s[k] + static_cast<double>(decay) * (a[k] - s[k]));
    }
    want.push_back(w);
  }
  const uint64_t version = avg[0].version();
  optim::ema_update(avg, src, decay);
  for (size_t i = 0; i < avg.size(); ++i) {
    SCOPED_TRACE("tensor " + std::to_string(i));
    ASSERT_TRUE(all_close(avg[i], want[i], 1e-6, 1e-6));
  }
  EXPECT_GT(avg[0].version(), version);
  // decay 0 copies the source, decay 1 keeps the average.
  const Tensor a = make({1, 2, 3}, {3}, device()), s = make({4, 5, 6}, {3}, device());
  optim::ema_update({a}, {s}, 1.f);
  EXPECT_TRUE(all_close(a, {1, 2, 3}, 0.0, 0.0));
  optim::ema_update({a}, {s}, 0.f);
  EXPECT_TRUE(all_close(a, {4, 5, 6}, 0.0, 0.0));
  EXPECT_NO_THROW(optim::ema_update({}, {}, 0.5f));
}

TEST_P(OptimTest, AdamStepErrors) {
  const Tensor p = zeros({3}, device()), q = zeros({2, 2}, device());
  const Tensor g = zeros({3}, device()), m = zeros({3}, device()), v = zeros({3}, device());
  EXPECT_TRUE(throws_with(
      [&] {
        optim::adam_step({p, q}, {g}, {m}, {v}, 1, {});
      },
      {"adam_step", "expected as many grads as params (2), got 1"}));
  EXPECT_TRUE(throws_with(
      [&] {
        optim::adam_step({p}, {g}, {m}, {v, v}, 1, {});
      },
      {"adam_step", "as many exp_avg_sq as params (1), got 2"}));
  EXPECT_TRUE(throws_with([&] { optim::adam_step({p}, {g}, {zeros({4}, device())}, {v}, 1, {}); },
                          {"adam_step", "exp_avg[0] of shape [3] (params[0]'s shape), got [4]"}));
  EXPECT_TRUE(throws_with([&] { optim::adam_step({p}, {g}, {m}, {v}, 0, {}); },
                          {"adam_step", "step >= 1", "got 0"}));
  AdamOptions bad;
  bad.beta2 = 1.f;
  EXPECT_TRUE(throws_with([&] { optim::adam_step({p}, {g}, {m}, {v}, 1, bad); },
                          {"adam_step", "beta2 in [0, 1), got 1"}));
  bad = {};
  bad.lr = -0.1f;
  EXPECT_TRUE(throws_with([&] { optim::adam_step({p}, {g}, {m}, {v}, 1, bad); },
                          {"adam_step", "lr >= 0, got -0.1"}));
  const Tensor wide = zeros({3, 2}, device()).t();  // [2, 3], not contiguous
  const Tensor g23 = zeros({2, 3}, device());
  EXPECT_TRUE(throws_with([&] { optim::adam_step({g23}, {wide}, {g23}, {g23}, 1, {}); },
                          {"adam_step", "grads[0] to be contiguous"}));
  EXPECT_TRUE(throws_with([&] { optim::adam_step({p}, {Tensor()}, {m}, {v}, 1, {}); },
                          {"adam_step", "grads[0] to be a defined tensor"}));
  if (cuda_is_available()) {
    const Tensor elsewhere = zeros({3}, other_device(device()));
    EXPECT_TRUE(throws_with([&] { optim::adam_step({p}, {g}, {m}, {elsewhere}, 1, {}); },
                            {"adam_step", "exp_avg_sq[0] on " + device().str(),
                             "got " + other_device(device()).str()}));
  }
}

TEST_P(OptimTest, AdamAndEmaErrors) {
  const Tensor leaf = make({1, 2}, {2}, device(), true);
  EXPECT_TRUE(throws_with([&] { optim::Adam({leaf * 2.f}); },
                          {"Adam", "params[0] to be a leaf", "MulScalarBackward"}));
  EXPECT_TRUE(throws_with(
      [&] {
        optim::Adam({leaf, leaf});
      },
      {"Adam", "distinct params", "params[1] equal to params[0]"}));
  EXPECT_TRUE(throws_with(
      [&] {
        optim::Adam({zeros({2, 3}, device()).t()});
      },
      {"Adam", "params[0] to be contiguous"}));
  AdamOptions bad;
  bad.eps = -1.f;
  EXPECT_TRUE(throws_with([&] { optim::Adam({leaf}, bad); }, {"Adam", "eps >= 0, got -1"}));
  optim::Adam opt({leaf});
  opt.options().beta1 = 1.5f;
  leaf.set_grad(make({1, 1}, {2}, device()));
  EXPECT_TRUE(throws_with([&] { opt.step(); }, {"adam_step", "beta1 in [0, 1), got 1.5"}));

  const Tensor a = zeros({3}, device()), s = zeros({3}, device());
  EXPECT_TRUE(throws_with([&] { optim::ema_update({a}, {s}, 1.5f); },
                          {"ema_update", "decay in [0, 1], got 1.5"}));
  EXPECT_TRUE(throws_with(
      [&] {
        optim::ema_update({a, a}, {s}, 0.5f);
      },
      {"ema_update", "as many sources as averages (2), got 1"}));
  EXPECT_TRUE(throws_with(
      [&] {
        optim::ema_update({a}, {zeros({1, 3}, device())}, 0.5f);
      },
      {"ema_update", "sources[0] of shape [3] (averages[0]'s shape)"}));
  EXPECT_TRUE(throws_with(
      [&] {
        optim::ema_update({zeros({2, 3}, device()).t()}, {s}, 0.5f);
      },
      {"ema_update", "averages[0] to be contiguous"}));
  if (cuda_is_available()) {
    const Tensor elsewhere = zeros({3}, other_device(device()));
    EXPECT_TRUE(throws_with([&] { optim::ema_update({a}, {elsewhere}, 0.5f); },
                            {"ema_update", "sources[0] on " + device().str()}));
  }
}

GE_INSTANTIATE_DEVICE_TEST(OptimTest);

}  // namespace
}  // namespace ge::optest
