// Image decoding through stb: PNG, JPEG and BMP, and the formats the data sets refuse (stb's
// other decoders are not compiled, so a GIF, PSD or TGA must fail cleanly), each decoded to one
// and to three channels.
#include <cstddef>
#include <cstdint>

#include "data/decoded_image.h"
#include "util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (ge::fuzz::too_large_to_fuzz(data, size)) return 0;
  for (int channels : {1, 3})
    ge::fuzz::expect_error_or_success([&] {
      const auto im = ge::models::data::decode_image_from_memory("fuzz_image", "fuzz.img", data,
                                                                 size, channels);
      if (im.pixels.size() != static_cast<size_t>(im.width) * im.height * channels)
        __builtin_trap();
    });
  return 0;
}
