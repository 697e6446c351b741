// The runtime's per-thread last error, and error names and descriptions.
#include "runtime_state.h"

namespace ge::emu {
namespace {

struct LastError {
  cudaError_t error = cudaSuccess;
  std::string detail;
};

LastError& last() {
  thread_local LastError state;
  return state;
}

struct ErrorText {
  cudaError_t error;
  const char* name;
  const char* description;
};

// clang-format off
constexpr ErrorText kErrors[] = {
  {cudaSuccess, "cudaSuccess", "no error"},
  {cudaErrorInvalidValue, "cudaErrorInvalidValue", "invalid argument"},
  {cudaErrorMemoryAllocation, "cudaErrorMemoryAllocation", "out of memory"},
  {cudaErrorInitializationError, "cudaErrorInitializationError", "initialization error"},
  {cudaErrorInvalidConfiguration, "cudaErrorInvalidConfiguration", "invalid configuration argument"},
  {cudaErrorInvalidSymbol, "cudaErrorInvalidSymbol", "invalid device symbol"},
  {cudaErrorInvalidHostPointer, "cudaErrorInvalidHostPointer", "invalid host pointer"},
  {cudaErrorInvalidDevicePointer, "cudaErrorInvalidDevicePointer", "invalid device pointer"},
  {cudaErrorInvalidMemcpyDirection, "cudaErrorInvalidMemcpyDirection", "invalid copy direction for memcpy"},
  {cudaErrorNotYetImplemented, "cudaErrorNotYetImplemented", "function not yet implemented"},
  {cudaErrorInvalidDeviceFunction, "cudaErrorInvalidDeviceFunction", "invalid device function"},
  {cudaErrorNoDevice, "cudaErrorNoDevice", "no CUDA-capable device is detected"},
  {cudaErrorInvalidDevice, "cudaErrorInvalidDevice", "invalid device ordinal"},
  {cudaErrorInvalidResourceHandle, "cudaErrorInvalidResourceHandle", "invalid resource handle"},
  {cudaErrorNotReady, "cudaErrorNotReady", "device not ready"},
  {cudaErrorIllegalAddress, "cudaErrorIllegalAddress", "an illegal memory access was encountered"},
  {cudaErrorLaunchOutOfResources, "cudaErrorLaunchOutOfResources", "too many resources requested for launch"},
  {cudaErrorLaunchTimeout, "cudaErrorLaunchTimeout", "the launch timed out and was terminated"},
  {cudaErrorAssert, "cudaErrorAssert", "device-side assert triggered"},
  {cudaErrorLaunchFailure, "cudaErrorLaunchFailure", "unspecified launch failure"},
  {cudaErrorNotSupported, "cudaErrorNotSupported", "operation not supported"},
  {cudaErrorUnknown, "cudaErrorUnknown", "unknown error"},
};
// clang-format on

const ErrorText* find(cudaError_t error) {
  for (const ErrorText& entry : kErrors) {
    if (entry.error == error) return &entry;
  }
  return nullptr;
}

}  // namespace

std::string last_error_detail() {
  return last().detail;
}

namespace detail {
cudaError_t fail(cudaError_t error, std::string detail) {
  last().error = error;
  last().detail = std::move(detail);
  return error;
}
}  // namespace detail

}  // namespace ge::emu

extern "C" {

cudaError_t cudaGetLastError(void) {
  const cudaError_t error = ge::emu::last().error;
  ge::emu::last().error = cudaSuccess;
  return error;
}

cudaError_t cudaPeekAtLastError(void) {
  return ge::emu::last().error;
}

const char* cudaGetErrorName(cudaError_t error) {
  const auto* entry = ge::emu::find(error);
  return entry ? entry->name : "unrecognized error code";
}

const char* cudaGetErrorString(cudaError_t error) {
  const auto* entry = ge::emu::find(error);
  return entry ? entry->description : "unrecognized error code";
}

}  // extern "C"
