// The TF32 policy (precision.h): its environment variable, and what it changes: CUDA
// convolutions (forward, and both gradients through autograd) on the tensor cores with inputs
// rounded to TF32, against the definition computed on rounded inputs; off, the exact FP32 path.
#include "ganengine/precision.h"

#include <string>
#include <vector>

#include "engine/op_test_util.h"
#include "ganengine/conv.h"
#include "ganengine/ops.h"
#include "support/tf32_reference.h"

namespace ge::optest {
namespace {

using ge::testing::tf32_rounded;

// Sets a policy (its getter and setter) for a scope; the test binaries otherwise run with TF32
// off for convolutions and matmul.
template <bool (*Get)(), void (*Set)(bool)>
class PolicyScope {
 public:
  explicit PolicyScope(bool allow) : saved_(Get()) { Set(allow); }
  ~PolicyScope() { Set(saved_); }
  PolicyScope(const PolicyScope&) = delete;
  PolicyScope& operator=(const PolicyScope&) = delete;

 private:
  bool saved_;
};
using Tf32Scope = PolicyScope<allow_tf32, set_allow_tf32>;
using Tf32MatmulScope = PolicyScope<allow_tf32_matmul, set_allow_tf32_matmul>;

TEST(PrecisionTest, Tf32FromEnvironment) {
  {
    EnvScope env("GE_ALLOW_TF32", nullptr);
    EXPECT_TRUE(allow_tf32_from_env()) << "on by default, as PyTorch's cuDNN convolutions";
  }
  {
    EnvScope env("GE_ALLOW_TF32", "0");
    EXPECT_FALSE(allow_tf32_from_env());
  }
  {
    EnvScope env("GE_ALLOW_TF32", "1");
    EXPECT_TRUE(allow_tf32_from_env());
  }
  EnvScope env("GE_ALLOW_TF32", "yes");
  const std::string msg = error_of([] { allow_tf32_from_env(); });
  EXPECT_TRUE(contains(msg, "GE_ALLOW_TF32: expected 0 or 1, got 'yes'")) << msg;
}

TEST(PrecisionTest, SetAndGet) {
  const Tf32Scope scope(true);
  EXPECT_TRUE(allow_tf32());
  set_allow_tf32(false);
  EXPECT_FALSE(allow_tf32());
}

// conv2d(x, w) and, through autograd with output gradient g, dL/dx and dL/dw on cuda, against
// the same three on cpu (always FP32) from the given inputs.
struct ConvResults {
  Tensor y, dx, dw;
};

ConvResults conv_with_grads(Device d, const std::vector<float>& x, const std::vector<float>& w,
                            const std::vector<float>& g) {
  const Tensor tx = make(x, {2, 24, 8, 8}, d, true), tw = make(w, {32, 24, 4, 4}, d, true);
  const Tensor y = conv2d(tx, tw, Tensor(), Conv2dOptions(2, 1));
  const Tensor tg = make(g, y.shape(), d);
  const std::vector<Tensor> grads = grad({y}, {tx, tw}, {tg});
  return {y, grads[0], grads[1]};
}

TEST(PrecisionTest, Tf32RoutesCudaConvolutionsToTheTensorCores) {
  if (!cuda_is_available()) GTEST_SKIP() << "no CUDA device (nor the emulator)";
  const std::vector<float> x = lcg_values(2 * 24 * 8 * 8, 1), w = lcg_values(32 * 24 * 16, 2);
  const std::vector<float> g = lcg_values(2 * 32 * 4 * 4, 3);
  // The definition (cpu, FP32) on TF32-rounded inputs: each product exact, sums in FP32. The
  // input gradient multiplies g by w and the weight gradient g by x, so g is rounded too.
  const ConvResults rounded =
      conv_with_grads(kCPU, tf32_rounded(x), tf32_rounded(w), tf32_rounded(g));
  const ConvResults exact = conv_with_grads(kCPU, x, w, g);
  ConvResults tf32, fp32;
  {
    const Tf32Scope on(true);
    tf32 = conv_with_grads(kCUDA, x, w, g);
  }
  {
    const Tf32Scope off(false);
    fp32 = conv_with_grads(kCUDA, x, w, g);
  }
  const double atol = 1e-4, rtol = 1e-4;
  EXPECT_TRUE(all_close(tf32.y, rounded.y.to_vector(), atol, rtol)) << "forward";
  EXPECT_TRUE(all_close(tf32.dx, rounded.dx.to_vector(), atol, rtol)) << "input gradient";
  EXPECT_TRUE(all_close(tf32.dw, rounded.dw.to_vector(), atol, rtol)) << "weight gradient";
  EXPECT_TRUE(all_close(fp32.y, exact.y.to_vector(), atol, rtol)) << "forward, TF32 off";
  EXPECT_TRUE(all_close(fp32.dx, exact.dx.to_vector(), atol, rtol)) << "input gradient, TF32 off";
  EXPECT_TRUE(all_close(fp32.dw, exact.dw.to_vector(), atol, rtol)) << "weight gradient, TF32 off";
  EXPECT_NE(tf32.y.to_vector(), fp32.y.to_vector()) << "TF32 on and off computed the same bits";
}

TEST(PrecisionTest, Tf32MatmulFromEnvironmentIsOffByDefault) {
  {
    EnvScope env("GE_ALLOW_TF32_MATMUL", nullptr);
    EXPECT_FALSE(allow_tf32_matmul_from_env()) << "off by default, as PyTorch's matmul";
  }
  {
    EnvScope env("GE_ALLOW_TF32_MATMUL", "1");
    EXPECT_TRUE(allow_tf32_matmul_from_env());
  }
  EnvScope env("GE_ALLOW_TF32_MATMUL", "on");
  const std::string msg = error_of([] { allow_tf32_matmul_from_env(); });
  EXPECT_TRUE(contains(msg, "GE_ALLOW_TF32_MATMUL: expected 0 or 1, got 'on'")) << msg;
}

// matmul (and so linear) on cuda with the matmul policy on: the product of TF32-rounded inputs;
// off: the FP32 product. The convolution policy does not reach matmul, nor the matmul one convs.
TEST(PrecisionTest, Tf32MatmulRoutesCudaMatmulToTheTensorCores) {
  if (!cuda_is_available()) GTEST_SKIP() << "no CUDA device (nor the emulator)";
  const std::vector<float> a = lcg_values(3 * 17 * 40, 4), b = lcg_values(3 * 40 * 9, 5);
  auto product = [&](Device d, const std::vector<float>& av, const std::vector<float>& bv) {
    return matmul(make(av, {3, 17, 40}, d), make(bv, {3, 40, 9}, d));
  };
  const Tensor rounded = product(kCPU, tf32_rounded(a), tf32_rounded(b));
  const Tensor exact = product(kCPU, a, b);
  Tensor tf32, fp32;
  {
    const Tf32Scope convs_on(true);  // the convolution policy leaves matmul alone
    const Tf32MatmulScope off(false);
    fp32 = product(kCUDA, a, b);
  }
  {
    const Tf32Scope convs_off(false);
    const Tf32MatmulScope on(true);
    tf32 = product(kCUDA, a, b);
    EXPECT_TRUE(allow_tf32_matmul());
  }
  const double atol = 1e-5, rtol = 1e-5;
  EXPECT_TRUE(all_close(tf32, rounded.to_vector(), atol, rtol)) << "TF32 on";
  EXPECT_TRUE(all_close(fp32, exact.to_vector(), atol, rtol)) << "TF32 off";
  EXPECT_NE(tf32.to_vector(), fp32.to_vector()) << "TF32 on and off computed the same bits";
}

}  // namespace
}  // namespace ge::optest
