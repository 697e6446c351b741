// A build without NCCL: CUDA tensors' collectives go through host memory.
#include "distributed/device_collectives.h"

namespace ge::distributed::detail {

std::unique_ptr<DeviceCollectives> make_nccl(ProcessGroup&, Device) {
  return nullptr;
}

bool nccl_available() {
  return false;
}

}  // namespace ge::distributed::detail
