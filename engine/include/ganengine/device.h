#pragma once
#include <string>

namespace ge {

enum class DeviceType : uint8_t { CPU, CUDA };

struct Device {
  DeviceType type = DeviceType::CPU;
  int index = 0;

  static constexpr Device cpu() { return {DeviceType::CPU, 0}; }
  static constexpr Device cuda(int index = 0) { return {DeviceType::CUDA, index}; }
  constexpr bool is_cpu() const { return type == DeviceType::CPU; }
  constexpr bool is_cuda() const { return type == DeviceType::CUDA; }
  std::string str() const;  // "cpu", "cuda:0"
  constexpr bool operator==(const Device&) const = default;
};

inline constexpr Device kCPU = Device::cpu();
inline constexpr Device kCUDA = Device::cuda(0);

// True when a CUDA device can run kernels: a real GPU (nvcc build) or the emulator (dev build).
bool cuda_is_available();
int cuda_device_count();
// True in builds whose CUDA backend is the CPU emulator.
bool cuda_is_emulated();
// The device as the apps announce it: "cpu", "cuda:0 (NVIDIA H100 80GB HBM3, sm_90, 132 SMs)",
// or for the emulator "cuda:0 (CUDA emulator: a test tool, ...)". Throws ge::Error for a CUDA
// device that does not exist.
std::string describe_device(Device device);
// Blocks until all work queued on the device is done.
void synchronize(Device device);

// Parses "cpu", "cuda", "cuda:0"; throws ge::Error naming the accepted forms otherwise.
Device parse_device(const std::string& text);

}  // namespace ge
