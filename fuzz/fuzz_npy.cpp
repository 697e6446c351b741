// NumPy .npy files: the preamble, the Python dict literal of the header and the data size.
#include <cstddef>
#include <cstdint>

#include "util.h"
#include "ganengine/models/npy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ge::fuzz::expect_error_or_success([&] {
    const ge::Tensor t =
        ge::models::load_npy_from_memory(ge::fuzz::as_view(data, size), "fuzz.npy");
    volatile float sink = 0;
    for (float v : t.to_vector())
      sink = sink + v;
  });
  return 0;
}
