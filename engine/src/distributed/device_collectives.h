#pragma once
// Collectives on CUDA device buffers: NCCL, one communicator per device, bootstrapped over the
// process group (rank 0's ncclUniqueId broadcast to every rank).
#include <cstdint>
#include <memory>

#include "distributed/process_group.h"
#include "ganengine/device.h"

namespace ge::distributed::detail {

class DeviceCollectives {
 public:
  virtual ~DeviceCollectives() = default;
  // Each queued on `device`'s engine stream, after the work already there.
  virtual void all_reduce_sum(float* data, int64_t count) = 0;
  virtual void broadcast(float* data, int64_t count, int src) = 0;
  // out holds world size * count values: rank r's `in` at out + r * count.
  virtual void all_gather(const float* in, float* out, int64_t count) = 0;
};

// NCCL over `group` for `device` (a collective call: every rank makes it at the same point), or
// nullptr in builds without NCCL, whose CUDA tensors go through host memory (nccl_absent.cpp).
std::unique_ptr<DeviceCollectives> make_nccl(ProcessGroup& group, Device device);
bool nccl_available();

}  // namespace ge::distributed::detail
