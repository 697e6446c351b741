#include "util.h"

#include <stb/stb_image.h>

#include <climits>

namespace ge::fuzz {

bool too_large_to_fuzz(const uint8_t* data, size_t size) {
  constexpr uint64_t kMaxFuzzPixels = uint64_t{1} << 22;
  int w = 0, h = 0, c = 0;
  return size <= INT_MAX && stbi_info_from_memory(data, static_cast<int>(size), &w, &h, &c) &&
         static_cast<uint64_t>(w) * static_cast<uint64_t>(h) > kMaxFuzzPixels;
}

}  // namespace ge::fuzz
