// adam_step (Adam with and without L2 weight decay, AdamW), rmsprop_step (with and without L2)
// and ema_update against three steps of torch.optim.Adam / AdamW / RMSprop and StyleGAN's lerp
// EMA (PyTorch 1.13, tests/golden/), with fixed gradients that include a zero and a tiny
// (eps-dominated) entry.
#include "ganengine/optim.h"

#include <string>
#include <vector>

#include "ganengine/ops.h"
#include "golden/golden.h"
#include "support/devices.h"

namespace ge::golden {
namespace {

class GoldenOptim : public DeviceTest {};

// Elementwise updates: a handful of roundings per step, three steps.
const Tol kTol{1, 8};

TEST_P(GoldenOptim, AdamAndAdamW) {
  const File& f = File::get("optim");
  const auto check = [&](const std::string& c, const Params& p) {
    optim::AdamOptions o;
    o.lr = p.f("lr");
    o.beta1 = p.f("beta1");
    o.beta2 = p.f("beta2");
    o.eps = p.f("eps");
    o.weight_decay = p.f("weight_decay");
    o.decoupled_weight_decay = p.flag("decoupled_weight_decay");
    const int64_t n = p.i("params");
    std::vector<Tensor> params, m, v;
    for (int64_t i = 0; i < n; ++i) {
      params.push_back(f.on(c, "p" + std::to_string(i) + "_init", device()));
      m.push_back(zeros_like(params.back()));
      v.push_back(zeros_like(params.back()));
    }
    for (int64_t s = 1; s <= p.i("steps"); ++s) {
      std::vector<Tensor> grads;
      for (int64_t i = 0; i < n; ++i)
        grads.push_back(f.on(c, "g" + std::to_string(i) + "_step" + std::to_string(s), device()));
      optim::adam_step(params, grads, m, v, s, o);
      for (int64_t i = 0; i < n; ++i) {
        const std::string key = "p" + std::to_string(i) + "_step" + std::to_string(s);
        EXPECT_TRUE(close(c + " " + key, params[static_cast<size_t>(i)], f.host(c, key), kTol));
      }
    }
    for (int64_t i = 0; i < n; ++i) {
      const std::string k = std::to_string(i);
      EXPECT_TRUE(
          close(c + " exp_avg" + k, m[static_cast<size_t>(i)], f.host(c, "exp_avg" + k), kTol));
      EXPECT_TRUE(close(c + " exp_avg_sq" + k, v[static_cast<size_t>(i)],
                        f.host(c, "exp_avg_sq" + k), kTol));
    }
  };
  const auto adam = [](const std::string& c, const Params&) { return c.starts_with("adam"); };
  EXPECT_EQ(for_each_case(f, adam, check), 3);
}

TEST_P(GoldenOptim, RMSprop) {
  const File& f = File::get("optim");
  const auto check = [&](const std::string& c, const Params& p) {
    optim::RmspropOptions o;
    o.lr = p.f("lr");
    o.alpha = p.f("alpha");
    o.eps = p.f("eps");
    o.weight_decay = p.f("weight_decay");
    const int64_t n = p.i("params");
    std::vector<Tensor> params, v;
    for (int64_t i = 0; i < n; ++i) {
      params.push_back(f.on(c, "p" + std::to_string(i) + "_init", device()));
      v.push_back(zeros_like(params.back()));
    }
    for (int64_t s = 1; s <= p.i("steps"); ++s) {
      std::vector<Tensor> grads;
      for (int64_t i = 0; i < n; ++i)
        grads.push_back(f.on(c, "g" + std::to_string(i) + "_step" + std::to_string(s), device()));
      optim::rmsprop_step(params, grads, v, o);
      for (int64_t i = 0; i < n; ++i) {
        const std::string key = "p" + std::to_string(i) + "_step" + std::to_string(s);
        EXPECT_TRUE(close(c + " " + key, params[static_cast<size_t>(i)], f.host(c, key), kTol));
      }
    }
    for (int64_t i = 0; i < n; ++i) {
      const std::string k = "square_avg" + std::to_string(i);
      EXPECT_TRUE(close(c + " " + k, v[static_cast<size_t>(i)], f.host(c, k), kTol));
    }
  };
  const auto rmsprop = [](const std::string& c, const Params&) { return c.starts_with("rmsprop"); };
  EXPECT_EQ(for_each_case(f, rmsprop, check), 2);
}

TEST_P(GoldenOptim, Ema) {
  const File& f = File::get("optim");
  const std::string c = "ema";
  const Params p = f.params(c);
  const int64_t n = p.i("params");
  std::vector<Tensor> avgs;
  for (int64_t i = 0; i < n; ++i)
    avgs.push_back(f.on(c, "avg" + std::to_string(i) + "_init", device()));
  for (int64_t s = 1; s <= p.i("steps"); ++s) {
    std::vector<Tensor> sources;
    for (int64_t i = 0; i < n; ++i)
      sources.push_back(f.on(c, "src" + std::to_string(i) + "_step" + std::to_string(s), device()));
    optim::ema_update(avgs, sources, p.f("decay"));
    for (int64_t i = 0; i < n; ++i) {
      const std::string key = "avg" + std::to_string(i) + "_step" + std::to_string(s);
      EXPECT_TRUE(close(key, avgs[static_cast<size_t>(i)], f.host(c, key), kTol));
    }
  }
}

GE_INSTANTIATE_DEVICE_TEST(GoldenOptim);

}  // namespace
}  // namespace ge::golden
