#pragma once
// Device parametrisation: every op test runs once per device the build has.
#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

#include "ganengine/device.h"

namespace ge::testing {

// cpu, and cuda in every build that has a CUDA backend (tests skip it when no GPU is present).
std::vector<Device> all_devices();
std::string device_param_name(const ::testing::TestParamInfo<Device>& info);

}  // namespace ge::testing

namespace ge {
// Lets GoogleTest print "cpu" / "cuda:0" instead of the bytes of a Device.
inline void PrintTo(const Device& device, std::ostream* out) {
  *out << device.str();
}
}  // namespace ge

// Skips the current test when `device` is CUDA and no GPU (or emulator) can run it.
#define GE_SKIP_IF_UNAVAILABLE(device)                                                    \
  do {                                                                                    \
    if ((device).is_cuda() && !::ge::cuda_is_available())                                 \
      GTEST_SKIP() << "no CUDA GPU present: this build runs CUDA tests on a real device"; \
  } while (0)

// A fixture base for TEST_P over devices.
class DeviceTest : public ::testing::TestWithParam<ge::Device> {
 protected:
  void SetUp() override { GE_SKIP_IF_UNAVAILABLE(GetParam()); }
  ge::Device device() const { return GetParam(); }
};

#define GE_INSTANTIATE_DEVICE_TEST(fixture)                                                     \
  INSTANTIATE_TEST_SUITE_P(Devices, fixture, ::testing::ValuesIn(::ge::testing::all_devices()), \
                           ::ge::testing::device_param_name)
