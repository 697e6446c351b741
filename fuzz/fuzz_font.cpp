// Font files of the typeset digits: the sfnt table directory, then stb_truetype's cmap, loca,
// glyf and rasterizer for the ten digits, at a resolution the input's size picks.
#include <cstddef>
#include <cstdint>

#include "data/typeset_font.h"
#include "util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const int64_t resolutions[] = {28, 32, 8, 64};
  const ge::models::data::ImageFormat format{resolutions[size % 4], 1};
  ge::fuzz::expect_error_or_success(
      [&] { ge::models::data::check_typeset_font("fuzz.ttf", data, size, format); });
  return 0;
}
