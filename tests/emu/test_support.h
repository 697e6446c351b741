#pragma once
// Runs a GE_LAUNCH and reports how it failed: the cudaError_t the runtime recorded and the
// message of the ge::Error the launcher threw.
#include <cuda_runtime.h>

#include <string>

#include "ganengine/error.h"

namespace ge::emu_test {

struct LaunchOutcome {
  cudaError_t error = cudaSuccess;
  std::string message;
};

template <typename Launch>
LaunchOutcome outcome_of(Launch&& launch) {
  (void)cudaGetLastError();
  try {
    launch();
  } catch (const ge::Error& e) {
    return {cudaGetLastError(), e.what()};
  }
  return {cudaGetLastError(), {}};
}

}  // namespace ge::emu_test
