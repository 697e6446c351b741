// The CUDA runtime and allocator of a build without the CUDA backend (GE_CUDA_MODE=off). No
// device is counted, so code that asks first (cuda_is_available(), the tests' device lists)
// stays on the CPU; anything that would place work or memory on a CUDA device is refused here,
// before a kernel could be reached.
#include "cuda/runtime.h"
#include "ganengine/allocator.h"
#include "ganengine/error.h"
#include "storage.h"

namespace ge {

namespace cuda_rt {

namespace {

[[noreturn]] void refuse(const char* what, Device device) {
  fail(what, ": ", device.str(), " is not available: ", unavailable_reason());
}

}  // namespace

int device_count() {
  return 0;
}

const char* unavailable_reason() {
  return "no CUDA device is available: this ganengine was built without the CUDA backend "
         "(GE_CUDA_MODE=off); use the cpu device, or build the dev (emulator) or cuda preset";
}

kernels::Stream stream(Device device) {
  refuse("cuda stream", device);
}

std::string device_label(Device device) {
  refuse("cuda device_label", device);
}

void set_device(Device device) {
  refuse("cuda set_device", device);
}

void sync_stream(Device device) {
  refuse("cuda synchronize", device);
}

void copy_to_host(void*, const void*, size_t, Device device) {
  refuse("copy to the host", device);
}

void copy_from_host(void*, const void*, size_t, Device device) {
  refuse("copy to the device", device);
}

}  // namespace cuda_rt

void* cuda_allocate(size_t nbytes, int device) {
  fail("cuda allocator: cannot allocate ", nbytes, " bytes on cuda:", device, ": ",
       cuda_rt::unavailable_reason());
}

void cuda_free(void*, int) {}  // nothing was ever allocated

CudaAllocatorStats cuda_allocator_stats() {
  return {};
}

void cuda_empty_cache() {}

}  // namespace ge
