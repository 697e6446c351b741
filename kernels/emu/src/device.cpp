// The emulated device: one H100 (sm_90), its properties and attributes, and per-kernel
// attributes set with cudaFuncSetAttribute.
#include <cstring>
#include <mutex>
#include <unordered_map>

#include "ganengine/emu/emulator.h"
#include "runtime_state.h"

namespace ge::emu {
namespace {

constexpr std::size_t kDefaultDynamicShared = 48 * 1024;

cudaDeviceProp make_h100() {
  cudaDeviceProp p;
  std::memset(&p, 0, sizeof p);
  std::strncpy(p.name, "NVIDIA H100 80GB HBM3 (ganengine emulator)", sizeof p.name - 1);
  p.totalGlobalMem = 80ull << 30;
  p.sharedMemPerBlock = 48 * 1024;
  p.regsPerBlock = 65536;
  p.warpSize = 32;
  p.memPitch = 2147483647;
  p.maxThreadsPerBlock = 1024;
  p.maxThreadsDim[0] = 1024;
  p.maxThreadsDim[1] = 1024;
  p.maxThreadsDim[2] = 64;
  p.maxGridSize[0] = 2147483647;
  p.maxGridSize[1] = 65535;
  p.maxGridSize[2] = 65535;
  p.totalConstMem = 64 * 1024;
  p.major = 9;
  p.minor = 0;
  p.textureAlignment = 512;
  p.texturePitchAlignment = 32;
  p.multiProcessorCount = 132;
  p.canMapHostMemory = 1;
  p.concurrentKernels = 1;
  p.asyncEngineCount = 3;
  p.unifiedAddressing = 1;
  p.memoryBusWidth = 5120;
  p.l2CacheSize = 50 * 1024 * 1024;
  p.persistingL2CacheMaxSize = 82837504;
  p.maxThreadsPerMultiProcessor = 2048;
  p.streamPrioritiesSupported = 1;
  p.globalL1CacheSupported = 1;
  p.localL1CacheSupported = 1;
  p.sharedMemPerMultiprocessor = 228 * 1024;
  p.regsPerMultiprocessor = 65536;
  p.managedMemory = 1;
  p.concurrentManagedAccess = 1;
  p.computePreemptionSupported = 1;
  p.cooperativeLaunch = 1;
  p.sharedMemPerBlockOptin = 227 * 1024;
  p.maxBlocksPerMultiProcessor = 32;
  p.accessPolicyMaxWindowSize = 134213632;
  p.reservedSharedMemPerBlock = 1024;
  p.hostRegisterSupported = 1;
  p.memoryPoolsSupported = 1;
  p.clusterLaunch = 1;
  return p;
}

struct FunctionAttributes {
  std::mutex mutex;
  std::unordered_map<const void*, std::size_t> max_dynamic_shared;
};

FunctionAttributes& function_attributes() {
  static FunctionAttributes instance;
  return instance;
}

cudaError_t check_device(int device) {
  if (device != 0) {
    return detail::fail(cudaErrorInvalidDevice, "device " + std::to_string(device) +
                                                    " does not exist (the emulator has 1)");
  }
  return cudaSuccess;
}

}  // namespace

const cudaDeviceProp& target_properties() {
  static const cudaDeviceProp properties = make_h100();
  return properties;
}

namespace detail {
std::size_t max_dynamic_shared(const void* func) {
  auto& attributes = function_attributes();
  std::lock_guard lock(attributes.mutex);
  const auto it = attributes.max_dynamic_shared.find(func);
  return it == attributes.max_dynamic_shared.end() ? kDefaultDynamicShared : it->second;
}
}  // namespace detail

}  // namespace ge::emu

using ge::emu::detail::fail;

extern "C" {

cudaError_t cudaGetDeviceCount(int* count) {
  if (!count) return fail(cudaErrorInvalidValue, "cudaGetDeviceCount: null count");
  *count = 1;
  return cudaSuccess;
}

cudaError_t cudaSetDevice(int device) {
  return ge::emu::check_device(device);
}

cudaError_t cudaGetDevice(int* device) {
  if (!device) return fail(cudaErrorInvalidValue, "cudaGetDevice: null device");
  *device = 0;
  return cudaSuccess;
}

cudaError_t cudaDeviceSynchronize(void) {
  return ge::emu::detail::synchronize_device();
}

cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device) {
  if (!prop) return fail(cudaErrorInvalidValue, "cudaGetDeviceProperties: null prop");
  if (cudaError_t error = ge::emu::check_device(device); error != cudaSuccess) return error;
  *prop = ge::emu::target_properties();
  return cudaSuccess;
}

cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int device) {
  if (!value) return fail(cudaErrorInvalidValue, "cudaDeviceGetAttribute: null value");
  if (cudaError_t error = ge::emu::check_device(device); error != cudaSuccess) return error;
  const cudaDeviceProp& p = ge::emu::target_properties();
  switch (attr) {
    case cudaDevAttrMaxThreadsPerBlock:
      *value = p.maxThreadsPerBlock;
      break;
    case cudaDevAttrMaxBlockDimX:
      *value = p.maxThreadsDim[0];
      break;
    case cudaDevAttrMaxBlockDimY:
      *value = p.maxThreadsDim[1];
      break;
    case cudaDevAttrMaxBlockDimZ:
      *value = p.maxThreadsDim[2];
      break;
    case cudaDevAttrMaxGridDimX:
      *value = p.maxGridSize[0];
      break;
    case cudaDevAttrMaxGridDimY:
      *value = p.maxGridSize[1];
      break;
    case cudaDevAttrMaxGridDimZ:
      *value = p.maxGridSize[2];
      break;
    case cudaDevAttrMaxSharedMemoryPerBlock:
      *value = static_cast<int>(p.sharedMemPerBlock);
      break;
    case cudaDevAttrMaxSharedMemoryPerBlockOptin:
      *value = static_cast<int>(p.sharedMemPerBlockOptin);
      break;
    case cudaDevAttrMaxSharedMemoryPerMultiprocessor:
      *value = static_cast<int>(p.sharedMemPerMultiprocessor);
      break;
    case cudaDevAttrTotalConstantMemory:
      *value = static_cast<int>(p.totalConstMem);
      break;
    case cudaDevAttrWarpSize:
      *value = p.warpSize;
      break;
    case cudaDevAttrMaxRegistersPerBlock:
      *value = p.regsPerBlock;
      break;
    case cudaDevAttrMaxRegistersPerMultiprocessor:
      *value = p.regsPerMultiprocessor;
      break;
    case cudaDevAttrMultiProcessorCount:
      *value = p.multiProcessorCount;
      break;
    case cudaDevAttrMaxThreadsPerMultiProcessor:
      *value = p.maxThreadsPerMultiProcessor;
      break;
    case cudaDevAttrMaxBlocksPerMultiprocessor:
      *value = p.maxBlocksPerMultiProcessor;
      break;
    case cudaDevAttrComputeCapabilityMajor:
      *value = p.major;
      break;
    case cudaDevAttrComputeCapabilityMinor:
      *value = p.minor;
      break;
    case cudaDevAttrL2CacheSize:
      *value = p.l2CacheSize;
      break;
    case cudaDevAttrGlobalMemoryBusWidth:
      *value = p.memoryBusWidth;
      break;
    case cudaDevAttrConcurrentKernels:
      *value = p.concurrentKernels;
      break;
    case cudaDevAttrAsyncEngineCount:
      *value = p.asyncEngineCount;
      break;
    case cudaDevAttrUnifiedAddressing:
      *value = p.unifiedAddressing;
      break;
    case cudaDevAttrManagedMemory:
      *value = p.managedMemory;
      break;
    case cudaDevAttrCooperativeLaunch:
      *value = p.cooperativeLaunch;
      break;
    case cudaDevAttrIntegrated:
      *value = p.integrated;
      break;
    case cudaDevAttrCanMapHostMemory:
      *value = p.canMapHostMemory;
      break;
    case cudaDevAttrMemoryPoolsSupported:
      *value = p.memoryPoolsSupported;
      break;
    default:
      return fail(cudaErrorInvalidValue, "cudaDeviceGetAttribute: attribute " +
                                             std::to_string(static_cast<int>(attr)) +
                                             " is not emulated");
  }
  return cudaSuccess;
}

cudaError_t cudaFuncSetAttribute(const void* func, cudaFuncAttribute attr, int value) {
  if (!func) return fail(cudaErrorInvalidDeviceFunction, "cudaFuncSetAttribute: null function");
  const cudaDeviceProp& p = ge::emu::target_properties();
  switch (attr) {
    case cudaFuncAttributeMaxDynamicSharedMemorySize: {
      if (value < 0 || static_cast<std::size_t>(value) > p.sharedMemPerBlockOptin) {
        return fail(cudaErrorInvalidValue, "cudaFuncSetAttribute: maximum dynamic shared memory " +
                                               std::to_string(value) + " is outside [0, " +
                                               std::to_string(p.sharedMemPerBlockOptin) + "]");
      }
      auto& attributes = ge::emu::function_attributes();
      std::lock_guard lock(attributes.mutex);
      attributes.max_dynamic_shared[func] = static_cast<std::size_t>(value);
      return cudaSuccess;
    }
    case cudaFuncAttributePreferredSharedMemoryCarveout:
      if (value < -1 || value > 100) {
        return fail(cudaErrorInvalidValue, "cudaFuncSetAttribute: carveout " +
                                               std::to_string(value) + " is outside [-1, 100]");
      }
      return cudaSuccess;
    default:
      return fail(cudaErrorInvalidValue, "cudaFuncSetAttribute: attribute " +
                                             std::to_string(static_cast<int>(attr)) +
                                             " is not emulated");
  }
}

}  // extern "C"
