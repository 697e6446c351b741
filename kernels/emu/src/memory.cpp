// Device memory is host memory; allocations are tracked so that frees, copies and kernel pointer
// arguments can be checked the way the CUDA runtime and the GPU's memory protection check them.
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "ganengine/emu/emulator.h"
#include "runtime_state.h"

namespace ge::emu {
namespace {

constexpr std::size_t kAlignment = 256;  // cudaMalloc's guaranteed alignment

struct Allocation {
  std::size_t size;
  cudaMemoryType type;
};

struct Allocations {
  std::mutex mutex;
  std::map<const unsigned char*, Allocation> blocks;
  std::size_t device_bytes = 0;
};

Allocations& allocations() {
  static Allocations instance;
  return instance;
}

cudaError_t allocate(void** ptr, std::size_t size, cudaMemoryType type, const char* what) {
  if (!ptr) return detail::fail(cudaErrorInvalidValue, std::string(what) + ": null pointer");
  *ptr = nullptr;
  if (size == 0) return cudaSuccess;
  const std::size_t rounded = (size + kAlignment - 1) / kAlignment * kAlignment;
  auto& all = allocations();
  std::lock_guard lock(all.mutex);
  if (type == cudaMemoryTypeDevice &&
      all.device_bytes + rounded > target_properties().totalGlobalMem) {
    return detail::fail(cudaErrorMemoryAllocation, std::string(what) + ": " + std::to_string(size) +
                                                       " bytes exceed the " +
                                                       "emulated device's free memory");
  }
  void* memory = std::aligned_alloc(kAlignment, rounded);
  if (!memory) {
    return detail::fail(cudaErrorMemoryAllocation, std::string(what) + ": host allocation of " +
                                                       std::to_string(size) + " bytes failed");
  }
  all.blocks[static_cast<unsigned char*>(memory)] = Allocation{size, type};
  if (type == cudaMemoryTypeDevice) all.device_bytes += rounded;
  *ptr = memory;
  return cudaSuccess;
}

cudaError_t release(void* ptr, cudaMemoryType type, const char* what) {
  if (!ptr) return cudaSuccess;
  auto& all = allocations();
  std::lock_guard lock(all.mutex);
  const auto it = all.blocks.find(static_cast<unsigned char*>(ptr));
  if (it == all.blocks.end() || it->second.type != type) {
    return detail::fail(cudaErrorInvalidValue,
                        std::string(what) + ": pointer was not returned by " +
                            (type == cudaMemoryTypeDevice ? "cudaMalloc" : "cudaMallocHost") +
                            " or was already freed");
  }
  if (type == cudaMemoryTypeDevice) {
    all.device_bytes -= (it->second.size + kAlignment - 1) / kAlignment * kAlignment;
  }
  all.blocks.erase(it);
  std::free(ptr);
  return cudaSuccess;
}

// The allocation holding [ptr, ptr + bytes), or null.
const Allocation* find(const void* ptr, std::size_t bytes, const unsigned char** base) {
  auto& all = allocations();
  const auto* p = static_cast<const unsigned char*>(ptr);
  auto it = all.blocks.upper_bound(p);
  if (it == all.blocks.begin()) return nullptr;
  --it;
  if (p + bytes > it->first + it->second.size) return nullptr;
  if (base) *base = it->first;
  return &it->second;
}

// Device-side ranges of a copy must lie inside memory the device can address.
cudaError_t check_device_range(const void* ptr, std::size_t bytes, const char* what,
                               const char* side) {
  auto& all = allocations();
  std::lock_guard lock(all.mutex);
  if (find(ptr, bytes, nullptr)) return cudaSuccess;
  return detail::fail(cudaErrorInvalidValue,
                      std::string(what) + ": " + side + " range of " + std::to_string(bytes) +
                          " bytes is not inside a cudaMalloc/cudaMallocHost allocation");
}

const char* kind_name(cudaMemcpyKind kind) {
  switch (kind) {
    case cudaMemcpyHostToHost:
      return "cudaMemcpyHostToHost";
    case cudaMemcpyHostToDevice:
      return "cudaMemcpyHostToDevice";
    case cudaMemcpyDeviceToHost:
      return "cudaMemcpyDeviceToHost";
    case cudaMemcpyDeviceToDevice:
      return "cudaMemcpyDeviceToDevice";
    default:
      return "cudaMemcpyDefault";
  }
}

// A side the kind calls host memory must not be device memory: the runtime would read or write
// host memory at a device address.
cudaError_t check_host_side(const void* ptr, cudaMemcpyKind kind, const char* what,
                            const char* side) {
  if (detail::residence(ptr) != detail::Residence::device) return cudaSuccess;
  return detail::fail(cudaErrorInvalidValue, std::string(what) + ": the " + side +
                                                 " is device memory (cudaMalloc), but " +
                                                 kind_name(kind) + " says it is host memory");
}

// Copies run on their stream, with the host-side semantics of the runtime: a source in pageable
// host memory is staged when the call is made (the caller may reuse it at once), a destination in
// pageable host memory is written before the call returns (after the stream's earlier work), and
// everything else happens when the stream gets there.
cudaError_t copy(void* dst, const void* src, std::size_t count, cudaMemcpyKind kind,
                 cudaStream_t stream, bool synchronous, const char* what) {
  if (count == 0) return cudaSuccess;
  if (!dst || !src)
    return detail::fail(cudaErrorInvalidValue, std::string(what) + ": null pointer");
  const bool dst_device = kind == cudaMemcpyHostToDevice || kind == cudaMemcpyDeviceToDevice;
  const bool src_device = kind == cudaMemcpyDeviceToHost || kind == cudaMemcpyDeviceToDevice;
  if (kind != cudaMemcpyHostToHost && kind != cudaMemcpyDefault && !dst_device && !src_device) {
    return detail::fail(cudaErrorInvalidMemcpyDirection,
                        std::string(what) + ": kind " + std::to_string(static_cast<int>(kind)));
  }
  const detail::Residence dst_at = detail::residence(dst);
  const detail::Residence src_at = detail::residence(src);
  if (dst_device || (kind == cudaMemcpyDefault && dst_at != detail::Residence::host)) {
    if (cudaError_t e = check_device_range(dst, count, what, "destination"); e != cudaSuccess) {
      return e;
    }
  } else if (cudaError_t e = check_host_side(dst, kind, what, "destination"); e != cudaSuccess) {
    return e;
  }
  if (src_device || (kind == cudaMemcpyDefault && src_at != detail::Residence::host)) {
    if (cudaError_t e = check_device_range(src, count, what, "source"); e != cudaSuccess) return e;
  } else if (cudaError_t e = check_host_side(src, kind, what, "source"); e != cudaSuccess) {
    return e;
  }

  cudaError_t queued = cudaSuccess;
  if (src_at == detail::Residence::host && dst_at != detail::Residence::host) {
    auto staged = std::make_shared<std::vector<unsigned char>>(
        static_cast<const unsigned char*>(src), static_cast<const unsigned char*>(src) + count);
    queued = detail::enqueue(stream, [dst, staged] {
      std::memcpy(dst, staged->data(), staged->size());
      return detail::Fault{};
    });
  } else {
    queued = detail::enqueue(stream, [dst, src, count] {
      std::memmove(dst, src, count);
      return detail::Fault{};
    });
  }
  if (queued != cudaSuccess) return queued;
  // cudaMemcpy returns once the copy is done, except between two device buffers; a copy into
  // pageable memory is done before it returns even when asynchronous.
  const bool device_to_device =
      dst_at == detail::Residence::device && src_at == detail::Residence::device;
  if ((synchronous && !device_to_device) || dst_at == detail::Residence::host) {
    return detail::synchronize_stream(stream);
  }
  return cudaSuccess;
}

cudaError_t fill(void* ptr, int value, std::size_t count, cudaStream_t stream, const char* what) {
  if (count == 0) return cudaSuccess;
  if (cudaError_t e = check_device_range(ptr, count, what, "destination"); e != cudaSuccess) {
    return e;
  }
  return detail::enqueue(stream, [ptr, value, count] {
    std::memset(ptr, value, count);
    return detail::Fault{};
  });
}

}  // namespace

namespace detail {
Residence residence(const void* ptr) {
  auto& all = allocations();
  std::lock_guard lock(all.mutex);
  const auto* p = static_cast<const unsigned char*>(ptr);
  auto it = all.blocks.upper_bound(p);
  if (ptr == nullptr || it == all.blocks.begin()) return Residence::host;
  --it;
  if (p >= it->first + it->second.size) return Residence::host;
  return it->second.type == cudaMemoryTypeDevice ? Residence::device : Residence::pinned;
}
}  // namespace detail

}  // namespace ge::emu

using ge::emu::detail::fail;

extern "C" {

cudaError_t cudaMalloc(void** devPtr, size_t size) {
  return ge::emu::allocate(devPtr, size, cudaMemoryTypeDevice, "cudaMalloc");
}

// cudaFree and cudaFreeHost synchronise the device first, as the runtime does, and like it
// return an error that earlier asynchronous work raised.
cudaError_t cudaFree(void* devPtr) {
  if (!devPtr) return cudaSuccess;
  const cudaError_t fault = ge::emu::detail::synchronize_device();
  const cudaError_t error = ge::emu::release(devPtr, cudaMemoryTypeDevice, "cudaFree");
  return fault != cudaSuccess ? fault : error;
}

cudaError_t cudaMallocAsync(void** devPtr, size_t size, cudaStream_t stream) {
  if (!ge::emu::detail::is_valid_stream(stream)) {
    return fail(cudaErrorInvalidResourceHandle, "cudaMallocAsync: unknown stream");
  }
  return ge::emu::allocate(devPtr, size, cudaMemoryTypeDevice, "cudaMallocAsync");
}

cudaError_t cudaFreeAsync(void* devPtr, cudaStream_t stream) {
  if (!ge::emu::detail::is_valid_stream(stream)) {
    return fail(cudaErrorInvalidResourceHandle, "cudaFreeAsync: unknown stream");
  }
  if (!devPtr) return cudaSuccess;
  {
    auto& all = ge::emu::allocations();
    std::lock_guard lock(all.mutex);
    const auto it = all.blocks.find(static_cast<unsigned char*>(devPtr));
    if (it == all.blocks.end() || it->second.type != cudaMemoryTypeDevice) {
      return fail(cudaErrorInvalidValue,
                  "cudaFreeAsync: pointer was not returned by cudaMalloc or was already freed");
    }
  }
  // Freed when the stream gets there: work queued before may still use the memory.
  return ge::emu::detail::enqueue(stream, [devPtr] {
    (void)ge::emu::release(devPtr, cudaMemoryTypeDevice, "cudaFreeAsync");
    return ge::emu::detail::Fault{};
  });
}

cudaError_t cudaMallocHost(void** ptr, size_t size) {
  return ge::emu::allocate(ptr, size, cudaMemoryTypeHost, "cudaMallocHost");
}

cudaError_t cudaFreeHost(void* ptr) {
  if (!ptr) return cudaSuccess;
  const cudaError_t fault = ge::emu::detail::synchronize_device();
  const cudaError_t error = ge::emu::release(ptr, cudaMemoryTypeHost, "cudaFreeHost");
  return fault != cudaSuccess ? fault : error;
}

cudaError_t cudaMemcpy(void* dst, const void* src, size_t count, cudaMemcpyKind kind) {
  return ge::emu::copy(dst, src, count, kind, nullptr, true, "cudaMemcpy");
}

cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t count, cudaMemcpyKind kind,
                            cudaStream_t stream) {
  if (!ge::emu::detail::is_valid_stream(stream)) {
    return fail(cudaErrorInvalidResourceHandle, "cudaMemcpyAsync: unknown stream");
  }
  return ge::emu::copy(dst, src, count, kind, stream, false, "cudaMemcpyAsync");
}

cudaError_t cudaMemset(void* devPtr, int value, size_t count) {
  return ge::emu::fill(devPtr, value, count, nullptr, "cudaMemset");
}

cudaError_t cudaMemsetAsync(void* devPtr, int value, size_t count, cudaStream_t stream) {
  if (!ge::emu::detail::is_valid_stream(stream)) {
    return fail(cudaErrorInvalidResourceHandle, "cudaMemsetAsync: unknown stream");
  }
  return ge::emu::fill(devPtr, value, count, stream, "cudaMemsetAsync");
}

cudaError_t cudaMemGetInfo(size_t* free, size_t* total) {
  if (!free || !total) return fail(cudaErrorInvalidValue, "cudaMemGetInfo: null pointer");
  auto& all = ge::emu::allocations();
  std::lock_guard lock(all.mutex);
  *total = ge::emu::target_properties().totalGlobalMem;
  *free = *total - all.device_bytes;
  return cudaSuccess;
}

cudaError_t cudaPointerGetAttributes(cudaPointerAttributes* attributes, const void* ptr) {
  if (!attributes) return fail(cudaErrorInvalidValue, "cudaPointerGetAttributes: null attributes");
  auto& all = ge::emu::allocations();
  std::lock_guard lock(all.mutex);
  *attributes = cudaPointerAttributes{};
  const unsigned char* base = nullptr;
  const auto* block = ge::emu::find(ptr, 0, &base);
  if (!block || ptr == nullptr) {
    attributes->type = cudaMemoryTypeUnregistered;
    attributes->device = -2;
    return cudaSuccess;
  }
  attributes->type = block->type;
  attributes->device = 0;
  attributes->devicePointer = const_cast<void*>(ptr);
  attributes->hostPointer = block->type == cudaMemoryTypeHost ? const_cast<void*>(ptr) : nullptr;
  return cudaSuccess;
}

}  // extern "C"
