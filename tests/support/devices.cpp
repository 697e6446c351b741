#include "support/devices.h"

namespace ge::testing {

std::vector<Device> all_devices() {
  return {kCPU, kCUDA};
}

std::string device_param_name(const ::testing::TestParamInfo<Device>& info) {
  return info.param.is_cuda() ? "cuda" : "cpu";
}

}  // namespace ge::testing
