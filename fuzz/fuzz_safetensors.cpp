// safetensors files: the header JSON, the dtype/shape/offset checks and the conversion of every
// accepted dtype to float32.
#include <cstddef>
#include <cstdint>

#include "util.h"
#include "ganengine/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ge::fuzz::expect_error_or_success([&] {
    const auto tensors = ge::load_safetensors_from_memory(data, size, "fuzz.safetensors");
    // Touch every element, so a tensor whose storage is smaller than its shape shows up.
    volatile float sink = 0;
    for (const auto& [name, t] : tensors)
      for (float v : t.to_vector())
        sink = sink + v;
  });
  return 0;
}
