// Asynchronous streams: work is queued per stream and runs only when the host synchronises with
// it, so a missing stream or event synchronisation reads data not yet written, as it may on a GPU.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "cuda/launch.cuh"
#include "ganengine/emu/emulator.h"
#include "test_support.h"

namespace ge::emu_test {
namespace {

__global__ void fill_value(int* out, int value, int n) {
  const int i = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  if (i < n) out[i] = value;
}

__global__ void add_one(int* out, int n) {
  const int i = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  if (i < n) out[i] += 1;
}

__global__ void fault_in_block_1(int* out) {
  if (blockIdx.x == 1 && threadIdx.x == 2) throw std::runtime_error("deferred fault");
  out[blockIdx.x * blockDim.x + threadIdx.x] = 1;
}

class Streams : public ::testing::Test {
 protected:
  void SetUp() override {
    if (launch_blocking()) GTEST_SKIP() << "CUDA_LAUNCH_BLOCKING=1: nothing stays queued";
    ASSERT_EQ(cudaStreamCreate(&blocking_), cudaSuccess);
    ASSERT_EQ(cudaStreamCreateWithFlags(&producer_, cudaStreamNonBlocking), cudaSuccess);
    ASSERT_EQ(cudaStreamCreateWithFlags(&consumer_, cudaStreamNonBlocking), cudaSuccess);
  }
  void TearDown() override {
    if (blocking_ == nullptr) return;
    EXPECT_EQ(cudaStreamDestroy(blocking_), cudaSuccess);
    EXPECT_EQ(cudaStreamDestroy(producer_), cudaSuccess);
    EXPECT_EQ(cudaStreamDestroy(consumer_), cudaSuccess);
  }
  cudaStream_t blocking_ = nullptr, producer_ = nullptr, consumer_ = nullptr;
  static constexpr int kN = 100;
};

TEST_F(Streams, KernelRunsWhenItsStreamIsSynchronised) {
  DeviceVector<int> out(kN);
  GE_LAUNCH(fill_value, dim3(1), dim3(128), 0, producer_, out.data(), 5, kN);
  // Device memory is host memory here: reading it directly shows the kernel has not run.
  EXPECT_EQ(out.data()[0], 0);
  ASSERT_EQ(cudaStreamSynchronize(consumer_), cudaSuccess);
  EXPECT_EQ(out.data()[0], 0);
  ASSERT_EQ(cudaStreamSynchronize(producer_), cudaSuccess);
  EXPECT_EQ(out.data()[0], 5);
}

TEST_F(Streams, WorkOnOneStreamRunsInOrder) {
  DeviceVector<int> out(kN);
  GE_LAUNCH(fill_value, dim3(1), dim3(128), 0, producer_, out.data(), 5, kN);
  GE_LAUNCH(add_one, dim3(1), dim3(128), 0, producer_, out.data(), kN);
  ASSERT_EQ(cudaMemsetAsync(out.data(), 0, sizeof(int), producer_), cudaSuccess);
  GE_LAUNCH(add_one, dim3(1), dim3(128), 0, producer_, out.data(), kN);
  std::vector<int> host(kN, -1);
  ASSERT_EQ(
      cudaMemcpyAsync(host.data(), out.data(), kN * sizeof(int), cudaMemcpyDeviceToHost, producer_),
      cudaSuccess);
  EXPECT_EQ(host[0], 1);
  EXPECT_EQ(host[kN - 1], 7);
}

// The bug the deferral exists to catch: a copy on another stream than the kernel's, without an
// event between them, copies what was there before the kernel.
TEST_F(Streams, CopyOnAnotherStreamWithoutAnEventMissesTheKernelsResult) {
  DeviceVector<int> out(kN);
  std::vector<int> host(kN, -1);
  GE_LAUNCH(fill_value, dim3(1), dim3(128), 0, producer_, out.data(), 5, kN);
  ASSERT_EQ(
      cudaMemcpyAsync(host.data(), out.data(), kN * sizeof(int), cudaMemcpyDeviceToHost, consumer_),
      cudaSuccess);
  ASSERT_EQ(cudaStreamSynchronize(consumer_), cudaSuccess);
  EXPECT_EQ(host[0], 0) << "the copy saw the kernel's result without synchronisation";

  // With the event the copy waits for the kernel.
  cudaEvent_t done = nullptr;
  ASSERT_EQ(cudaEventCreateWithFlags(&done, cudaEventDisableTiming), cudaSuccess);
  GE_LAUNCH(fill_value, dim3(1), dim3(128), 0, producer_, out.data(), 6, kN);
  ASSERT_EQ(cudaEventRecord(done, producer_), cudaSuccess);
  GE_LAUNCH(add_one, dim3(1), dim3(128), 0, producer_, out.data(), kN);  // after the event
  ASSERT_EQ(cudaStreamWaitEvent(consumer_, done, 0), cudaSuccess);
  ASSERT_EQ(
      cudaMemcpyAsync(host.data(), out.data(), kN * sizeof(int), cudaMemcpyDeviceToHost, consumer_),
      cudaSuccess);
  EXPECT_EQ(host[0], 6);
  EXPECT_EQ(out.data()[0], 6);  // the work after the event is still queued
  ASSERT_EQ(cudaEventSynchronize(done), cudaSuccess);
  EXPECT_EQ(out.data()[0], 6);
  ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  EXPECT_EQ(out.data()[0], 7);
  EXPECT_EQ(cudaEventDestroy(done), cudaSuccess);
}

TEST_F(Streams, LegacyDefaultStreamWaitsForBlockingStreamsOnly) {
  DeviceVector<int> a(kN), b(kN);
  GE_LAUNCH(fill_value, dim3(1), dim3(128), 0, blocking_, a.data(), 3, kN);
  GE_LAUNCH(fill_value, dim3(1), dim3(128), 0, producer_, b.data(), 4, kN);
  // cudaMemcpy runs on the legacy default stream: it waits for the blocking stream's kernel but
  // not for the non-blocking one's.
  EXPECT_EQ(a.get()[0], 3);
  EXPECT_EQ(b.get()[0], 0);
  ASSERT_EQ(cudaStreamSynchronize(producer_), cudaSuccess);
  EXPECT_EQ(b.get()[0], 4);
  // And work queued on a blocking stream waits for the legacy stream's earlier work.
  GE_LAUNCH(fill_value, dim3(1), dim3(128), 0, nullptr, a.data(), 8, kN);
  GE_LAUNCH(add_one, dim3(1), dim3(128), 0, blocking_, a.data(), kN);
  ASSERT_EQ(cudaStreamSynchronize(blocking_), cudaSuccess);
  EXPECT_EQ(a.data()[0], 9);
}

TEST_F(Streams, PageableSourcesAreStagedPinnedOnesReadWhenTheCopyRuns) {
  DeviceVector<int> out(kN);
  std::vector<int> pageable(kN, 1);
  ASSERT_EQ(cudaMemcpyAsync(out.data(), pageable.data(), kN * sizeof(int), cudaMemcpyHostToDevice,
                            producer_),
            cudaSuccess);
  pageable.assign(kN, 2);  // allowed: the runtime has staged the pageable buffer
  ASSERT_EQ(cudaStreamSynchronize(producer_), cudaSuccess);
  EXPECT_EQ(out.data()[0], 1);

  int* pinned = nullptr;
  ASSERT_EQ(cudaMallocHost(reinterpret_cast<void**>(&pinned), kN * sizeof(int)), cudaSuccess);
  pinned[0] = 10;
  ASSERT_EQ(
      cudaMemcpyAsync(out.data(), pinned, kN * sizeof(int), cudaMemcpyHostToDevice, producer_),
      cudaSuccess);
  pinned[0] = 11;  // a race on a GPU: the copy reads pinned memory when the stream gets there
  ASSERT_EQ(cudaStreamSynchronize(producer_), cudaSuccess);
  EXPECT_EQ(out.data()[0], 11);
  // A copy into pinned memory is not there before the host synchronises.
  pinned[0] = -1;
  ASSERT_EQ(cudaMemcpyAsync(pinned, out.data(), sizeof(int), cudaMemcpyDeviceToHost, producer_),
            cudaSuccess);
  EXPECT_EQ(pinned[0], -1);
  ASSERT_EQ(cudaStreamSynchronize(producer_), cudaSuccess);
  EXPECT_EQ(pinned[0], 11);
  EXPECT_EQ(cudaFreeHost(pinned), cudaSuccess);
}

TEST_F(Streams, EventsCompleteWithTheirStream) {
  cudaEvent_t start = nullptr, stop = nullptr;
  ASSERT_EQ(cudaEventCreate(&start), cudaSuccess);
  ASSERT_EQ(cudaEventCreate(&stop), cudaSuccess);
  DeviceVector<int> out(kN);
  ASSERT_EQ(cudaEventRecord(start, producer_), cudaSuccess);
  GE_LAUNCH(fill_value, dim3(1), dim3(128), 0, producer_, out.data(), 2, kN);
  ASSERT_EQ(cudaEventRecord(stop, producer_), cudaSuccess);
  float ms = -1.0f;
  EXPECT_EQ(cudaEventElapsedTime(&ms, start, stop), cudaErrorNotReady);
  (void)cudaGetLastError();
  EXPECT_EQ(cudaEventQuery(stop), cudaSuccess);
  EXPECT_EQ(out.data()[0], 2);
  EXPECT_EQ(cudaEventElapsedTime(&ms, start, stop), cudaSuccess);
  EXPECT_GE(ms, 0.0f);
  EXPECT_EQ(cudaEventDestroy(start), cudaSuccess);
  EXPECT_EQ(cudaEventDestroy(stop), cudaSuccess);
}

TEST_F(Streams, FreeAsyncWaitsForTheStreamsEarlierWork) {
  int* buffer = nullptr;
  ASSERT_EQ(cudaMallocAsync(reinterpret_cast<void**>(&buffer), kN * sizeof(int), producer_),
            cudaSuccess);
  GE_LAUNCH(fill_value, dim3(1), dim3(128), 0, producer_, buffer, 1, kN);
  ASSERT_EQ(cudaFreeAsync(buffer, producer_), cudaSuccess);
  ASSERT_EQ(cudaStreamSynchronize(producer_), cudaSuccess);
  EXPECT_EQ(cudaFree(buffer), cudaErrorInvalidValue);  // already freed by the stream
  (void)cudaGetLastError();
}

// A fault inside a queued kernel is an asynchronous error: the launch succeeds, the next
// synchronisation reports it (once), naming the kernel and block.
TEST_F(Streams, KernelFaultSurfacesAtTheNextSynchronisation) {
  DeviceVector<int> out(64);
  (void)cudaGetLastError();
  GE_LAUNCH(fault_in_block_1, dim3(2), dim3(32), 0, producer_, out.data());
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);
  EXPECT_EQ(cudaStreamSynchronize(producer_), cudaErrorLaunchFailure);
  const std::string detail = emu::last_error_detail();
  EXPECT_NE(detail.find("kernel 'fault_in_block_1' block (1,0,0)"), std::string::npos) << detail;
  EXPECT_NE(detail.find("deferred fault"), std::string::npos) << detail;
  EXPECT_EQ(cudaGetLastError(), cudaErrorLaunchFailure);
  EXPECT_EQ(cudaStreamSynchronize(producer_), cudaSuccess);

  // Found by a copy into pageable memory, which waits for the stream, it is reported by the copy.
  GE_LAUNCH(fault_in_block_1, dim3(2), dim3(32), 0, producer_, out.data());
  std::vector<int> host(64);
  EXPECT_EQ(
      cudaMemcpyAsync(host.data(), out.data(), 64 * sizeof(int), cudaMemcpyDeviceToHost, producer_),
      cudaErrorLaunchFailure);
  EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  (void)cudaGetLastError();
}

}  // namespace
}  // namespace ge::emu_test
