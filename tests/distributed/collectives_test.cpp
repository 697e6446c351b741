// ge::distributed's collectives against references computed from each rank's known inputs.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "ganengine/autograd.h"
#include "ganengine/distributed.h"
#include "ganengine/error.h"
#include "ganengine/ops.h"
#include "support/devices.h"
#include "support/reference.h"

namespace ge {
namespace {

namespace dist = ge::distributed;

// Rank r's i-th input: a value with a full mantissa, so the order of a float sum shows in its
// bits.
float input(int rank, int64_t i) {
  uint64_t h = (static_cast<uint64_t>(rank) + 1) * 0x9E3779B97F4A7C15ull ^
               (static_cast<uint64_t>(i) + 7) * 0xC2B2AE3D27D4EB4Full;
  h ^= h >> 29;
  h *= 0xBF58476D1CE4E5B9ull;
  h ^= h >> 32;
  return static_cast<float>(static_cast<double>(h % 2000003) / 1000003.0 - 1.0) *
         static_cast<float>(1 + rank % 3);
}

std::vector<float> inputs(int rank, int64_t n) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    v[static_cast<size_t>(i)] = input(rank, i);
  return v;
}

// The sum over ranks, added in rank order in float, as the contract says.
std::vector<float> rank_order_sum(int64_t n, int world) {
  std::vector<float> sum = inputs(0, n);
  for (int r = 1; r < world; ++r) {
    const std::vector<float> v = inputs(r, n);
    for (size_t i = 0; i < sum.size(); ++i)
      sum[i] += v[i];
  }
  return sum;
}

uint32_t bits(float v) {
  uint32_t b;
  std::memcpy(&b, &v, sizeof b);
  return b;
}

void expect_bits(const std::vector<float>& got, const std::vector<float>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i)
    ASSERT_EQ(bits(got[i]), bits(want[i])) << "element " << i << ": " << got[i] << " vs " << want[i]
                                           << " on rank " << dist::get_rank();
}

// A sum over ranks from a collective on `device`: the rank-order bits on CPU tensors; through
// NCCL, which adds in its own order, within rounding of them (the bits themselves for 2 ranks,
// where a + b is one addition).
void expect_reduced(const std::vector<float>& got, const std::vector<float>& want, Device device) {
  if (dist::get_backend(device) != "nccl" || dist::get_world_size() <= 2) {
    expect_bits(got, want);
    return;
  }
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i)
    ASSERT_NEAR(got[i], want[i], 1e-6 * (1 + std::abs(want[i]))) << "element " << i;
}

TEST(ProcessGroupTest, WorldMatchesTheLauncher) {
  // mpirun's variables, or torchrun's.
  const char* launched = std::getenv("OMPI_COMM_WORLD_SIZE");
  const char* torchrun = std::getenv("WORLD_SIZE");
  const int expected = launched ? std::atoi(launched) : torchrun ? std::atoi(torchrun) : 1;
  EXPECT_EQ(dist::get_world_size(), expected);
  const bool mpi = launched != nullptr && dist::is_mpi_available();
  EXPECT_EQ(dist::get_backend(), mpi ? "mpi" : expected > 1 ? "tcp" : "single");
  EXPECT_EQ(dist::get_backend(kCPU), dist::get_backend());
  // CUDA tensors of an MPI group go through NCCL in the builds that have a CUDA backend and MPI.
  if (cuda_is_available() && mpi) {
    EXPECT_EQ(dist::get_backend(kCUDA), "nccl");
  }
  if (const char* rank = std::getenv(launched ? "OMPI_COMM_WORLD_RANK" : "RANK")) {
    EXPECT_EQ(dist::get_rank(), std::atoi(rank));
  } else {
    EXPECT_EQ(dist::get_rank(), 0);
  }
  if (const char* local = std::getenv("OMPI_COMM_WORLD_LOCAL_RANK")) {
    EXPECT_EQ(dist::get_local_rank(), std::atoi(local));
  }
  EXPECT_TRUE(dist::is_initialized());
}

// Each process drives its own GPU: the one of its local rank on a real machine (NCCL refuses two
// ranks on one GPU), its own emulated GPU under the emulator.
class CollectivesTest : public DeviceTest {
 protected:
  void SetUp() override {
    DeviceTest::SetUp();
    if (IsSkipped() || !GetParam().is_cuda() || cuda_is_emulated()) return;
    // The same decision on every rank, or one would wait for the others in a collective.
    if (dist::get_world_size() > cuda_device_count())
      GTEST_SKIP() << "one GPU per process: " << dist::get_world_size() << " processes, "
                   << cuda_device_count() << " GPUs";
  }
  Device device() const {
    return GetParam().is_cuda() && !cuda_is_emulated() ? Device::cuda(dist::get_local_rank())
                                                       : GetParam();
  }
};

TEST_P(CollectivesTest, AllReduceSumsWithTheSameBitsEverywhere) {
  const int world = dist::get_world_size();
  // Lengths that do and do not split evenly over the ranks, and one below the world size.
  for (const int64_t n : {int64_t{1}, int64_t{7}, int64_t{1000}, int64_t{4099}}) {
    Tensor t = from_vector(inputs(dist::get_rank(), n), {n}).to(device());
    dist::all_reduce(t);
    EXPECT_EQ(t.device(), device());
    const std::vector<float> got = t.to_vector();
    expect_reduced(got, rank_order_sum(n, world), device());
    // Every rank holds the same bits: gather them and compare with rank 0's.
    const std::vector<Tensor> all = dist::all_gather(t);
    for (const Tensor& other : all)
      expect_bits(other.to_vector(), all[0].to_vector());
  }
}

TEST_P(CollectivesTest, AllReduceAverage) {
  const int world = dist::get_world_size();
  const int64_t n = 513;
  Tensor t = from_vector(inputs(dist::get_rank(), n), {3, 171}).to(device());
  dist::all_reduce(t, dist::ReduceOp::Avg);
  std::vector<float> want = rank_order_sum(n, world);
  for (float& v : want)
    v *= 1.f / static_cast<float>(world);
  EXPECT_EQ(t.shape(), Shape({3, 171}));
  expect_reduced(t.to_vector(), want, device());
}

TEST_P(CollectivesTest, AllReduceWritesBackIntoAStridedView) {
  const int world = dist::get_world_size();
  Tensor base = from_vector(inputs(dist::get_rank(), 24), {4, 6}).to(device());
  Tensor view = base.t();  // [6, 4], not contiguous
  ASSERT_FALSE(view.is_contiguous());
  dist::all_reduce(view);
  expect_reduced(base.to_vector(), rank_order_sum(24, world), device());
}

TEST_P(CollectivesTest, AllReduceCoalescedMatchesOneByOne) {
  const int world = dist::get_world_size();
  const int rank = dist::get_rank();
  // Shapes of a conv weight, a bias and a scalar; each tensor takes its own slice of inputs.
  const std::vector<Shape> shapes = {{8, 3, 3, 3}, {8}, {1}};
  std::vector<Tensor> tensors;
  int64_t offset = 0;
  for (const Shape& s : shapes) {
    const int64_t n = numel(s);
    std::vector<float> v = inputs(rank, offset + n);
    tensors.push_back(from_vector(std::vector<float>(v.begin() + offset, v.end()), s).to(device()));
    offset += n;
  }
  dist::all_reduce_coalesced(tensors, dist::ReduceOp::Avg);
  const std::vector<float> sum = rank_order_sum(offset, world);
  offset = 0;
  for (size_t k = 0; k < tensors.size(); ++k) {
    EXPECT_EQ(tensors[k].shape(), shapes[k]);
    std::vector<float> want(sum.begin() + offset, sum.begin() + offset + tensors[k].numel());
    for (float& v : want)
      v *= 1.f / static_cast<float>(world);
    expect_reduced(tensors[k].to_vector(), want, device());
    offset += tensors[k].numel();
  }
}

TEST_P(CollectivesTest, BroadcastFromEveryRank) {
  const int world = dist::get_world_size();
  for (int src = 0; src < world; ++src) {
    Tensor t = from_vector(inputs(dist::get_rank(), 77), {7, 11}).to(device());
    dist::broadcast(t, src);
    expect_bits(t.to_vector(), inputs(src, 77));
  }
}

TEST_P(CollectivesTest, BroadcastLeavesTheAutogradLeafALeaf) {
  Tensor w = from_vector(inputs(dist::get_rank(), 5), {5}).to(device());
  w.requires_grad_(true);
  dist::broadcast(w, 0);
  EXPECT_TRUE(w.requires_grad());
  EXPECT_TRUE(w.is_leaf());
  expect_bits(w.to_vector(), inputs(0, 5));
}

TEST_P(CollectivesTest, AllGatherReturnsEveryRankInOrder) {
  const int world = dist::get_world_size();
  const Tensor t = from_vector(inputs(dist::get_rank(), 10), {2, 5}).to(device());
  const std::vector<Tensor> all = dist::all_gather(t);
  ASSERT_EQ(static_cast<int>(all.size()), world);
  for (int r = 0; r < world; ++r) {
    EXPECT_EQ(all[r].shape(), Shape({2, 5}));
    EXPECT_EQ(all[r].device(), device());
    expect_bits(all[r].to_vector(), inputs(r, 10));
  }
}

GE_INSTANTIATE_DEVICE_TEST(CollectivesTest);

TEST(CollectivesErrorsTest, AllGatherNamesTheRankWhoseSizeDiffers) {
  if (dist::get_world_size() < 2) GTEST_SKIP() << "needs two ranks";
  // Rank 1 holds one element more than the others: every rank refuses, naming rank 1.
  const Tensor t = zeros({dist::get_rank() == 1 ? 4 : 3});
  try {
    (void)dist::all_gather(t);
    FAIL() << "expected ge::Error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("from rank " + std::string(dist::get_rank() == 1 ? "0" : "1")),
              std::string::npos)
        << msg;
  }
}

TEST(CollectivesErrorsTest, BadInputsNameWhatWasExpected) {
  Tensor t = zeros({3});
  EXPECT_THROW(
      {
        try {
          dist::broadcast(t, dist::get_world_size());
        } catch (const Error& e) {
          EXPECT_NE(std::string(e.what()).find("expected a source rank in [0, "),
                    std::string::npos);
          throw;
        }
      },
      Error);
  Tensor undefined;
  EXPECT_THROW(dist::all_reduce(undefined), Error);
  dist::barrier();
}

TEST(SingleProcessGroupTest, IncompleteTorchrunVariablesAreRefused) {
  if (dist::get_backend() != "single") GTEST_SKIP() << "runs in the one-process world only";
  dist::destroy_process_group();
  EXPECT_FALSE(dist::is_initialized());
  EXPECT_THROW(dist::get_rank(), Error);
  ::setenv("WORLD_SIZE", "2", 1);
  ::setenv("RANK", "1", 1);
  EXPECT_NE(testing::error_of([] {
              dist::init_process_group();
            }).find("expects MASTER_ADDR and MASTER_PORT"),
            std::string::npos);
  ::setenv("RANK", "2", 1);
  EXPECT_NE(testing::error_of([] { dist::init_process_group(); }).find("expects RANK in [0, 2)"),
            std::string::npos);
  ::setenv("WORLD_SIZE", "1", 1);
  dist::init_process_group();
  EXPECT_EQ(dist::get_world_size(), 1);
  ::unsetenv("WORLD_SIZE");
  ::unsetenv("RANK");
}

}  // namespace
}  // namespace ge
