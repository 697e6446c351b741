#include "ganengine/nn/init.h"

#include "ganengine/autograd.h"
#include "ganengine/error.h"
#include "ganengine/ops.h"

namespace ge::nn::init {

namespace {

void check_defined(const Tensor& t, const char* op) {
  GE_CHECK(t.defined(), "nn::init::", op, ": expected a defined tensor");
}

}  // namespace

void normal_(Tensor& t, float mean, float std, Generator* generator) {
  check_defined(t, "normal_");
  GE_CHECK(std >= 0.f, "nn::init::normal_: expected std >= 0, got ", std);
  NoGradGuard no_grad;
  t.copy_(randn(t.shape(), t.device(), generator) * std + mean);
}

void uniform_(Tensor& t, float lo, float hi, Generator* generator) {
  check_defined(t, "uniform_");
  GE_CHECK(lo <= hi, "nn::init::uniform_: expected lo <= hi, got [", lo, ", ", hi, ")");
  NoGradGuard no_grad;
  t.copy_(rand(t.shape(), t.device(), generator) * (hi - lo) + lo);
}

void zeros_(Tensor& t) {
  check_defined(t, "zeros_");
  NoGradGuard no_grad;
  t.zero_();
}

void ones_(Tensor& t) {
  check_defined(t, "ones_");
  NoGradGuard no_grad;
  t.fill_(1.f);
}

int64_t fan_in(const Tensor& weight) {
  check_defined(weight, "fan_in");
  GE_CHECK(weight.dim() >= 2,
           "nn::init::fan_in: expected a weight with at least 2 dims, got shape ",
           to_string(weight.shape()));
  int64_t n = weight.size(1);
  for (int64_t d = 2; d < weight.dim(); ++d)
    n *= weight.size(d);
  return n;
}

}  // namespace ge::nn::init
