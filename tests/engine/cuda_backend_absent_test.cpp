// A build without the CUDA backend (GE_CUDA_MODE=off, the cpu preset): no CUDA device is counted,
// and every way onto one is refused with an error that names the build mode, before any CUDA
// code could run. In builds with a CUDA backend these cases skip.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ganengine/ganengine.h"
#include "support/reference.h"

namespace ge {
namespace {

using ::ge::testing::error_of;
using ::testing::HasSubstr;

#if defined(GE_CUDA_OFF)
constexpr bool kBackendOff = true;
#else
constexpr bool kBackendOff = false;
#endif

class CudaBackendAbsent : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!kBackendOff) GTEST_SKIP() << "this build has a CUDA backend";
  }
};

TEST_F(CudaBackendAbsent, NoDeviceIsCounted) {
  EXPECT_FALSE(cuda_is_available());
  EXPECT_EQ(cuda_device_count(), 0);
  EXPECT_FALSE(cuda_is_emulated());
  EXPECT_FALSE(conv_algo_available(ConvAlgo::Cudnn));
  EXPECT_TRUE(conv_algo_available(ConvAlgo::Native));
  // "cuda" still parses: the refusal comes when a tensor would be placed there.
  EXPECT_EQ(parse_device("cuda:0"), kCUDA);
}

TEST_F(CudaBackendAbsent, TensorsOnCudaAreRefused) {
  EXPECT_THAT(error_of([] {
                (void)zeros({2, 3}, TensorOptions().device(kCUDA));
              }),
              HasSubstr("GE_CUDA_MODE=off"));
  EXPECT_THAT(error_of([] { (void)randn({4}, TensorOptions().device(kCUDA)); }),
              HasSubstr("GE_CUDA_MODE=off"));
  const Tensor x = ones({3});
  EXPECT_THAT(error_of([&] { (void)x.to(kCUDA); }), HasSubstr("GE_CUDA_MODE=off"));
  EXPECT_THAT(error_of([] { synchronize(kCUDA); }), HasSubstr("GE_CUDA_MODE=off"));
}

TEST_F(CudaBackendAbsent, CpuWorkIsUnaffected) {
  const Tensor a = full({2, 2}, 3.f);
  const Tensor b = matmul(a, a);
  EXPECT_FLOAT_EQ(b.sum().item(), 72.f);
  const CudaAllocatorStats stats = cuda_allocator_stats();
  EXPECT_EQ(stats.device_mallocs, 0u);
  EXPECT_EQ(stats.bytes_in_use, 0u);
  cuda_empty_cache();  // nothing to return, and no error
}

}  // namespace
}  // namespace ge
