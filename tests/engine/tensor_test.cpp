// Tensor handles: views and strides, contiguity, device transfer, in-place updates, errors.
#include <gtest/gtest.h>

#include <thread>

#include "ganengine/ganengine.h"
#include "ganengine/kernels/random.h"
#include "support/devices.h"
#include "support/reference.h"

namespace {

using ge::testing::all_close;

class TensorTest : public DeviceTest {};

ge::Tensor iota(const ge::Shape& shape, ge::Device device) {
  std::vector<float> v(static_cast<size_t>(ge::numel(shape)));
  for (size_t i = 0; i < v.size(); ++i)
    v[i] = static_cast<float>(i);
  return ge::from_vector(v, shape, device);
}

TEST_P(TensorTest, FactoryMetadata) {
  const ge::Tensor t = ge::zeros({2, 3}, device());
  EXPECT_EQ(t.shape(), (ge::Shape{2, 3}));
  EXPECT_EQ(t.strides(), (ge::Shape{3, 1}));
  EXPECT_EQ(t.numel(), 6);
  EXPECT_EQ(t.dim(), 2);
  EXPECT_EQ(t.size(-1), 3);
  EXPECT_EQ(t.device(), device());
  EXPECT_TRUE(t.is_contiguous());
  EXPECT_TRUE(all_close(t, std::vector<float>(6, 0.f)));
  EXPECT_TRUE(all_close(ge::full({2}, 2.5f, device()), {2.5f, 2.5f}));
  EXPECT_TRUE(all_close(ge::arange(4, device()), {0, 1, 2, 3}));
  EXPECT_FLOAT_EQ(ge::scalar_tensor(7.f, device()).item(), 7.f);
}

TEST_P(TensorTest, TransposeIsAStridedView) {
  const ge::Tensor x = iota({2, 3}, device());
  const ge::Tensor y = x.t();
  EXPECT_EQ(y.shape(), (ge::Shape{3, 2}));
  EXPECT_EQ(y.strides(), (ge::Shape{1, 3}));
  EXPECT_FALSE(y.is_contiguous());
  EXPECT_TRUE(all_close(y, {0, 3, 1, 4, 2, 5}));
  const ge::Tensor c = y.contiguous();
  EXPECT_TRUE(c.is_contiguous());
  EXPECT_TRUE(all_close(c, {0, 3, 1, 4, 2, 5}));
}

TEST_P(TensorTest, SliceSelectAndPermute) {
  const ge::Tensor x = iota({2, 3, 4}, device());
  const ge::Tensor s = x.slice(2, 1, 4, 2);  // columns 1 and 3
  EXPECT_EQ(s.shape(), (ge::Shape{2, 3, 2}));
  EXPECT_EQ(s.storage_offset(), 1);
  EXPECT_TRUE(all_close(s, {1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23}));
  EXPECT_TRUE(all_close(x.select(1, -1), {8, 9, 10, 11, 20, 21, 22, 23}));
  const ge::Tensor p = x.permute({2, 0, 1});
  EXPECT_EQ(p.shape(), (ge::Shape{4, 2, 3}));
  EXPECT_FLOAT_EQ(p.select(0, 3).select(0, 1).select(0, 2).item(), 23.f);
}

TEST_P(TensorTest, ViewReshapeExpandSqueeze) {
  const ge::Tensor x = iota({2, 6}, device());
  const ge::Tensor v = x.view({3, -1});
  EXPECT_EQ(v.shape(), (ge::Shape{3, 4}));
  EXPECT_EQ(v.data_ptr(), x.data_ptr()) << "view must share storage";
  // A transposed tensor cannot be viewed flat, but can be reshaped (copy).
  EXPECT_NE(ge::testing::error_of([&] { (void)x.t().view({12}); }).find("view: shape [12]"),
            std::string::npos);
  EXPECT_TRUE(all_close(x.t().reshape({12}), {0, 6, 1, 7, 2, 8, 3, 9, 4, 10, 5, 11}));
  const ge::Tensor e = ge::from_vector({1, 2}, {2, 1}, device()).expand({2, 3});
  EXPECT_EQ(e.strides()[1], 0);
  EXPECT_TRUE(all_close(e, {1, 1, 1, 2, 2, 2}));
  EXPECT_EQ(x.unsqueeze(1).shape(), (ge::Shape{2, 1, 6}));
  EXPECT_EQ(x.unsqueeze(1).squeeze(1).shape(), (ge::Shape{2, 6}));
  EXPECT_EQ(iota({2, 3, 4}, device()).flatten(1).shape(), (ge::Shape{2, 12}));
}

TEST_P(TensorTest, ViewsShareTheVersionCounter) {
  ge::Tensor x = ge::zeros({2, 3}, device());
  ge::Tensor row = x.select(0, 1);
  const uint64_t before = x.version();
  row.fill_(5.f);
  EXPECT_GT(x.version(), before);
  EXPECT_EQ(x.version(), row.version());
  EXPECT_TRUE(all_close(x, {0, 0, 0, 5, 5, 5}));
}

TEST_P(TensorTest, ToRoundTripAndCrossDeviceCopy) {
  const ge::Tensor x = iota({3, 2}, device());
  const ge::Tensor host = x.cpu();
  EXPECT_TRUE(host.device().is_cpu());
  EXPECT_TRUE(all_close(host, {0, 1, 2, 3, 4, 5}));
  EXPECT_TRUE(all_close(x.t().to(ge::kCPU), {0, 2, 4, 1, 3, 5}));
  ge::Tensor dst = ge::zeros({2, 3}, ge::kCPU);
  dst.copy_(x.t());
  EXPECT_TRUE(all_close(dst, {0, 2, 4, 1, 3, 5}));
  ge::Tensor back = ge::zeros({3, 2}, device());
  back.copy_(host);
  EXPECT_TRUE(all_close(back, {0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(x.to(device()).impl(), x.impl()) << "to() of the same device returns *this";
}

TEST_P(TensorTest, InPlaceUpdates) {
  ge::Tensor x = ge::ones({2, 2}, device());
  x.add_(ge::from_vector({1, 2}, {2}, device()), 2.f);
  EXPECT_TRUE(all_close(x, {3, 5, 3, 5}));
  x.mul_(0.5f);
  EXPECT_TRUE(all_close(x, {1.5f, 2.5f, 1.5f, 2.5f}));
  x.t().slice(0, 0, 1).zero_();  // column 0 through a strided view
  EXPECT_TRUE(all_close(x, {0, 2.5f, 0, 2.5f}));
  // Overlapping copy: x[:, 1] <- x[:, 0]
  x.select(1, 1).copy_(x.select(1, 0));
  EXPECT_TRUE(all_close(x, {0, 0, 0, 0}));
}

TEST_P(TensorTest, ItemAndToVector) {
  EXPECT_FLOAT_EQ(ge::full({1, 1}, 3.f, device()).item(), 3.f);
  const std::string msg = ge::testing::error_of([&] { (void)ge::zeros({2, 3}, device()).item(); });
  EXPECT_NE(msg.find("item"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[2, 3]"), std::string::npos) << msg;
  EXPECT_EQ(iota({2, 2}, device()).t().to_vector(), (std::vector<float>{0, 2, 1, 3}));
}

TEST_P(TensorTest, ErrorsNameOpExpectedAndActual) {
  const ge::Tensor a = ge::zeros({2, 3}, device());
  std::string msg = ge::testing::error_of([&] { (void)(a + ge::zeros({4}, device())); });
  EXPECT_EQ(msg, "add: shapes [2, 3] and [4] cannot be broadcast (dim 1: 3 vs 4)");
  if (device().is_cuda()) {
    msg =
        ge::testing::error_of([&] { (void)(ge::zeros({2}, ge::kCPU) + ge::zeros({2}, device())); });
    EXPECT_EQ(msg, "add: expected all tensors on the same device, got cpu and cuda:0");
  }
  const ge::Tensor half = ge::empty({2}, ge::TensorOptions(device()).dtype(ge::Dtype::Float16));
  msg = ge::testing::error_of([&] { (void)ge::exp(half); });
  EXPECT_NE(msg.find("exp: expected dtype float32, got float16"), std::string::npos) << msg;
  msg = ge::testing::error_of([&] { (void)a.permute({0, 0}); });
  EXPECT_NE(msg.find("permute"), std::string::npos) << msg;
  msg = ge::testing::error_of([&] { (void)a.size(2); });
  EXPECT_NE(msg.find("dim 2 out of range"), std::string::npos) << msg;
  msg = ge::testing::error_of([&] { (void)ge::from_vector({1, 2, 3}, {2, 2}, device()); });
  EXPECT_NE(msg.find("expected 4 values"), std::string::npos) << msg;
  msg = ge::testing::error_of([&] { (void)ge::parse_device("gpu"); });
  EXPECT_NE(msg.find("\"gpu\""), std::string::npos) << msg;
  ge::Tensor dst = ge::zeros({3}, device());
  msg = ge::testing::error_of([&] { dst.copy_(ge::zeros({2}, device())); });
  EXPECT_NE(msg.find("copy_"), std::string::npos) << msg;
}

TEST_P(TensorTest, RandomIsReproducibleAcrossDevices) {
  ge::Generator g1(1234), g2(1234);
  const ge::Tensor a = ge::randn({37}, device(), &g1);
  const ge::Tensor b = ge::randn({37}, ge::kCPU, &g2);
  EXPECT_TRUE(all_close(a, b, 1e-5, 1e-5));
  EXPECT_EQ(g1.offset(), ge::kernels::philox_offset_increment(37));
  const ge::Tensor u = ge::rand({1000}, device(), &g1);
  for (float v : u.to_vector()) {
    ASSERT_GE(v, 0.f);
    ASSERT_LT(v, 1.f);
  }
}

TEST(Generator, AdvanceReservesDisjointCountersAcrossThreads) {
  ge::Generator gen(7);
  auto work = [&] {
    for (int i = 0; i < 10000; ++i)
      gen.advance(3);
  };
  std::thread a(work), b(work);
  a.join();
  b.join();
  EXPECT_EQ(gen.offset(), 60000u);
}

TEST(Device, ParseAndName) {
  EXPECT_EQ(ge::parse_device("cpu"), ge::kCPU);
  EXPECT_EQ(ge::parse_device("cuda"), ge::kCUDA);
  EXPECT_EQ(ge::parse_device("cuda:1"), ge::Device::cuda(1));
  EXPECT_EQ(ge::Device::cuda(0).str(), "cuda:0");
#if defined(GE_CUDA_EMULATOR)
  EXPECT_TRUE(ge::cuda_is_emulated());
  EXPECT_TRUE(ge::cuda_is_available());
#endif
}

TEST(Device, DescribeNamesWhatRunsTheWork) {
  EXPECT_EQ(ge::describe_device(ge::kCPU), "cpu");
  if (!ge::cuda_is_available()) GTEST_SKIP() << "no CUDA device (nor the emulator)";
  const std::string cuda = ge::describe_device(ge::kCUDA);
  EXPECT_EQ(cuda.rfind("cuda:0 (", 0), 0u) << cuda;
  if (ge::cuda_is_emulated()) {
    EXPECT_NE(cuda.find("CUDA emulator: a test tool"), std::string::npos) << cuda;
    EXPECT_NE(cuda.find("build the cuda preset for a real GPU"), std::string::npos) << cuda;
  } else {
    EXPECT_NE(cuda.find(", sm_"), std::string::npos) << cuda;
    EXPECT_NE(cuda.find(" SMs)"), std::string::npos) << cuda;
  }
  const std::string msg =
      ge::testing::error_of([] { (void)ge::describe_device(ge::Device::cuda(99)); });
  EXPECT_NE(msg.find("cuda:99 does not exist"), std::string::npos) << msg;
}

GE_INSTANTIATE_DEVICE_TEST(TensorTest);

}  // namespace
