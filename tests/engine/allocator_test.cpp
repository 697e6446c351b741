// The caching allocators: reuse instead of cudaMalloc or aligned_alloc, stats, empty_cache, and on
// the host the size classes and the limit on cached bytes.
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

TEST(CpuAllocatorTest, LargeBlocksAreReusedSmallOnesGoToMalloc) {
  ge::cpu_empty_cache();
  const ge::CpuAllocatorStats base = ge::cpu_allocator_stats();
  const void* first = nullptr;
  {
    ge::Tensor t = ge::empty({1 << 18}, ge::kCPU);  // 1 MiB
    first = t.data_ptr();
  }
  for (int i = 0; i < 10; ++i) {
    ge::Tensor t = ge::empty({1 << 18}, ge::kCPU);
    EXPECT_EQ(t.data_ptr(), first);
  }
  const ge::CpuAllocatorStats after = ge::cpu_allocator_stats();
  EXPECT_EQ(after.system_allocs - base.system_allocs, 1u);
  EXPECT_EQ(after.cache_hits - base.cache_hits, 10u);
  EXPECT_EQ(after.bytes_in_use, base.bytes_in_use);
  EXPECT_EQ(after.bytes_reserved - base.bytes_reserved, 1u << 20);
  {
    ge::Tensor small = ge::empty({100}, ge::kCPU);  // under kCpuCachedMinBytes
  }
  EXPECT_EQ(ge::cpu_allocator_stats().system_allocs, after.system_allocs);
  ge::cpu_empty_cache();
  EXPECT_EQ(ge::cpu_allocator_stats().bytes_reserved, base.bytes_reserved);
}

TEST(CpuAllocatorTest, SizeClassesWasteAtMostAQuarter) {
  ge::cpu_empty_cache();
  const ge::CpuAllocatorStats base = ge::cpu_allocator_stats();
  for (int64_t floats : {(1 << 18) + 1, 100000, 3 << 20}) {
    ge::Tensor t = ge::empty({floats}, ge::kCPU);
    const uint64_t bytes = static_cast<uint64_t>(floats) * 4;
    const uint64_t in_use = ge::cpu_allocator_stats().bytes_in_use - base.bytes_in_use;
    EXPECT_GE(in_use, bytes) << floats;
    EXPECT_LE(in_use, bytes + bytes / 4 + 4096) << floats;
    EXPECT_EQ(reinterpret_cast<uintptr_t>(t.data_ptr()) % 64, 0u) << floats;
  }
  // A small request does not take a much larger cached block.
  ge::cpu_empty_cache();
  { ge::Tensor big = ge::empty({4 << 20}, ge::kCPU); }
  const uint64_t allocs = ge::cpu_allocator_stats().system_allocs;
  { ge::Tensor smaller = ge::empty({1 << 18}, ge::kCPU); }
  EXPECT_EQ(ge::cpu_allocator_stats().system_allocs, allocs + 1);
  ge::cpu_empty_cache();
}

TEST(CpuAllocatorTest, CachedBytesStayWithinTheLimit) {
  ge::cpu_empty_cache();
  const ge::CpuAllocatorStats base = ge::cpu_allocator_stats();
  const uint64_t before = ge::set_cpu_cache_limit(3u << 20);
  {
    ge::Tensor a = ge::empty({1 << 19}, ge::kCPU);  // 2 MiB
    ge::Tensor b = ge::empty({1 << 19}, ge::kCPU);  // 2 MiB more: over the limit once freed
  }
  EXPECT_EQ(ge::cpu_allocator_stats().bytes_reserved - base.bytes_reserved, 2u << 20);
  ge::set_cpu_cache_limit(0);  // releases what is cached, and caches nothing more
  EXPECT_EQ(ge::cpu_allocator_stats().bytes_reserved, base.bytes_reserved);
  { ge::Tensor c = ge::empty({1 << 19}, ge::kCPU); }
  EXPECT_EQ(ge::cpu_allocator_stats().bytes_reserved, base.bytes_reserved);
  EXPECT_EQ(ge::set_cpu_cache_limit(before), 0u);
}

TEST(CpuAllocatorTest, ConcurrentAllocationsBalance) {
  const uint64_t in_use = ge::cpu_allocator_stats().bytes_in_use;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t] {
      for (int i = 0; i < 50; ++i)
        ge::Tensor x = ge::empty({(t + 1) * 20000 + i * 100}, ge::kCPU);
    });
  }
  for (auto& th : threads)
    th.join();
  EXPECT_EQ(ge::cpu_allocator_stats().bytes_in_use, in_use);
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
