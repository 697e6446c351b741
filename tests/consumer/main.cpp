// Fits y = 2x + 1 with one linear layer on every available device and checks the result.
#include <cmath>
#include <cstdio>

#include "ganengine/ganengine.h"

namespace {

bool fit(ge::Device device) {
  ge::manual_seed(1);
  const auto opts = ge::TensorOptions().device(device);
  ge::Tensor x = ge::rand({64, 1}, opts);
  ge::Tensor y = x * 2.f + 1.f;
  ge::Tensor w = ge::zeros({1, 1}, opts.requires_grad(true));
  ge::Tensor b = ge::zeros({1}, opts.requires_grad(true));
  for (int step = 0; step < 500; ++step) {
    ge::Tensor loss = ge::mean(ge::square(ge::linear(x, w, b) - y));
    w.zero_grad();
    b.zero_grad();
    loss.backward();
    ge::NoGradGuard no_grad;
    w.add_(w.grad(), -0.5f);
    b.add_(b.grad(), -0.5f);
  }
  const float wv = w.item(), bv = b.item();
  std::printf("%s: w = %.4f (expected 2), b = %.4f (expected 1)\n", device.str().c_str(), wv, bv);
  return std::fabs(wv - 2.f) < 1e-2f && std::fabs(bv - 1.f) < 1e-2f;
}

}  // namespace

int main() {
  std::printf("ganengine %s\n", ge::version());
  bool ok = fit(ge::kCPU);
  if (ge::cuda_is_available()) {
    ok = fit(ge::kCUDA) && ok;
  } else {
    std::printf("cuda: no CUDA device in this build or on this machine, skipped\n");
  }
  std::printf("%s\n", ok ? "consumer: OK" : "consumer: FAILED");
  return ok ? 0 : 1;
}
