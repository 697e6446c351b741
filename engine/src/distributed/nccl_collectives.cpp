// CUDA tensors' collectives through NCCL (the emulator's over MPI in emulator builds).
#include <nccl.h>

#include <algorithm>
#include <climits>
#include <cstring>

#include "cuda/runtime.h"
#include "distributed/device_collectives.h"
#include "ganengine/error.h"

namespace ge::distributed::detail {
namespace {

void check(ncclResult_t result, const char* what) {
  if (result != ncclSuccess)
    fail("ge::distributed: ", what, " failed: ", ncclGetErrorString(result));
}

// Elements per NCCL call, so that a counted int never overflows in any implementation.
constexpr int64_t kSegment = int64_t{1} << 28;

class NcclCollectives final : public DeviceCollectives {
 public:
  NcclCollectives(ProcessGroup& group, Device device) : device_(device) {
    const World w = group.world();
    ncclUniqueId id;
    std::memset(&id, 0, sizeof id);
    if (w.rank == 0) check(ncclGetUniqueId(&id), "ncclGetUniqueId");
    group.broadcast_bytes(&id, sizeof id, 0);
    cuda_rt::set_device(device_);
    check(ncclCommInitRank(&comm_, w.size, id, w.rank), "ncclCommInitRank");
  }
  ~NcclCollectives() override { ncclCommDestroy(comm_); }

  void all_reduce_sum(float* data, int64_t count) override {
    cuda_rt::set_device(device_);
    for (int64_t start = 0; start < count; start += kSegment)
      check(ncclAllReduce(data + start, data + start,
                          static_cast<size_t>(std::min(kSegment, count - start)), ncclFloat32,
                          ncclSum, comm_, stream()),
            "ncclAllReduce");
  }

  void broadcast(float* data, int64_t count, int src) override {
    cuda_rt::set_device(device_);
    for (int64_t start = 0; start < count; start += kSegment)
      check(ncclBroadcast(data + start, data + start,
                          static_cast<size_t>(std::min(kSegment, count - start)), ncclFloat32, src,
                          comm_, stream()),
            "ncclBroadcast");
  }

  void all_gather(const float* in, float* out, int64_t count) override {
    GE_CHECK(count <= INT_MAX, "all_gather: at most ", INT_MAX, " elements per rank, got ", count);
    cuda_rt::set_device(device_);
    check(ncclAllGather(in, out, static_cast<size_t>(count), ncclFloat32, comm_, stream()),
          "ncclAllGather");
  }

 private:
  cudaStream_t stream() const { return cuda_rt::stream(device_); }

  Device device_;
  ncclComm_t comm_ = nullptr;
};

}  // namespace

std::unique_ptr<DeviceCollectives> make_nccl(ProcessGroup& group, Device device) {
  return std::make_unique<NcclCollectives>(group, device);
}

bool nccl_available() {
  return true;
}

}  // namespace ge::distributed::detail
