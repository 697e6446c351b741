#include "ganengine/device.h"

#include "cuda/runtime.h"
#include "ganengine/error.h"

namespace ge {

std::string Device::str() const {
  return is_cpu() ? std::string("cpu") : "cuda:" + std::to_string(index);
}

int cuda_device_count() {
  return cuda_rt::device_count();
}

bool cuda_is_available() {
  return cuda_device_count() > 0;
}

bool cuda_is_emulated() {
#if defined(GE_CUDA_EMULATOR)
  return true;
#else
  return false;
#endif
}

std::string describe_device(Device device) {
  if (device.is_cpu()) return device.str();
  if (cuda_is_emulated()) {
    GE_CHECK(device.index < cuda_device_count(), "describe_device: ", device.str(),
             " does not exist (", cuda_device_count(), " CUDA devices)");
    return device.str() +
           " (CUDA emulator: a test tool, about 100x slower than --device cpu; build the cuda "
           "preset for a real GPU)";
  }
  return device.str() + " (" + cuda_rt::device_label(device) + ")";
}

void synchronize(Device device) {
  if (device.is_cuda()) cuda_rt::sync_stream(device);
}

Device parse_device(const std::string& text) {
  if (text == "cpu") return kCPU;
  if (text == "cuda") return kCUDA;
  if (text.rfind("cuda:", 0) == 0 && text.size() > 5) {
    int index = 0;
    for (size_t i = 5; i < text.size(); ++i) {
      const char c = text[i];
      if (c < '0' || c > '9' || index > 1000) {
        fail("parse_device: expected \"cpu\", \"cuda\" or \"cuda:N\", got \"", text, "\"");
      }
      index = index * 10 + (c - '0');
    }
    return Device::cuda(index);
  }
  fail("parse_device: expected \"cpu\", \"cuda\" or \"cuda:N\", got \"", text, "\"");
}

}  // namespace ge
