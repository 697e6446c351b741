// The CUDA caching allocator: reuse instead of cudaMalloc, stats, empty_cache.
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "ganengine/ganengine.h"
#include "support/devices.h"

namespace {

class AllocatorTest : public DeviceTest {};

// The CUDA caching allocator alone.
class CudaAllocatorTest : public ::testing::Test {
 protected:
  void SetUp() override { GE_SKIP_IF_UNAVAILABLE(ge::kCUDA); }
  static ge::Device device() { return ge::kCUDA; }
};

TEST_P(AllocatorTest, RepeatedAllocationOfOneSizeHitsTheCache) {
  { ge::Tensor warm = ge::empty({1000}, device()); }
  const ge::CudaAllocatorStats before = ge::cuda_allocator_stats();
  for (int i = 0; i < 20; ++i) {
    ge::Tensor t = ge::empty({1000}, device());
    ASSERT_NE(t.data_ptr(), nullptr);
  }
  const ge::CudaAllocatorStats after = ge::cuda_allocator_stats();
  if (device().is_cuda()) {
    EXPECT_EQ(after.device_mallocs, before.device_mallocs);
    EXPECT_GE(after.cache_hits, before.cache_hits + 20);
    EXPECT_EQ(after.bytes_in_use, before.bytes_in_use);
  } else {
    EXPECT_EQ(after.device_mallocs, before.device_mallocs) << "cpu tensors used the CUDA pool";
  }
}

TEST(CpuAllocatorTest, MemoryIsAligned) {
  for (int64_t n : {1, 3, 17, 1000}) {
    const ge::Tensor t = ge::empty({n}, ge::kCPU);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(t.data_ptr()) % 64, 0u) << n;
  }
}

TEST_F(CudaAllocatorTest, StatsTrackUseAndEmptyCacheReleases) {
  ge::cuda_empty_cache();
  const ge::CudaAllocatorStats base = ge::cuda_allocator_stats();
  {
    ge::Tensor a = ge::empty({3 << 20}, device());  // 12 MiB: large pool, 2 MiB granules
    ge::Tensor b = ge::empty({100}, device());      // 400 B: rounded to 512
    const ge::CudaAllocatorStats s = ge::cuda_allocator_stats();
    EXPECT_EQ(s.bytes_in_use - base.bytes_in_use, (12u << 20) + 512u);
    EXPECT_EQ(s.device_mallocs - base.device_mallocs, 2u);
  }
  const ge::CudaAllocatorStats freed = ge::cuda_allocator_stats();
  EXPECT_EQ(freed.bytes_in_use, base.bytes_in_use);
  EXPECT_EQ(freed.bytes_reserved - base.bytes_reserved, (12u << 20) + 512u) << "kept cached";
  ge::cuda_empty_cache();
  EXPECT_EQ(ge::cuda_allocator_stats().bytes_reserved, base.bytes_reserved);
}

TEST_F(CudaAllocatorTest, SmallRequestDoesNotTakeAHugeCachedBlock) {
  ge::cuda_empty_cache();
  { ge::Tensor big = ge::empty({4 << 20}, device()); }
  const ge::CudaAllocatorStats before = ge::cuda_allocator_stats();
  ge::Tensor small = ge::empty({16}, device());
  EXPECT_EQ(ge::cuda_allocator_stats().device_mallocs, before.device_mallocs + 1);
}

TEST_F(CudaAllocatorTest, ConcurrentAllocationsBalance) {
  const uint64_t in_use = ge::cuda_allocator_stats().bytes_in_use;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([this, t] {
      for (int i = 0; i < 50; ++i)
        ge::Tensor x = ge::empty({(t + 1) * 100 + i}, device());
    });
  }
  for (auto& th : threads)
    th.join();
  EXPECT_EQ(ge::cuda_allocator_stats().bytes_in_use, in_use);
}

GE_INSTANTIATE_DEVICE_TEST(AllocatorTest);

}  // namespace
