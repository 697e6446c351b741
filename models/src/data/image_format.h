#pragma once
// Validation shared by the image data sets.
#include "ganengine/error.h"
#include "ganengine/models/data/dataset.h"

namespace ge::models::data {

inline void check_image_format(const char* op, const ImageFormat& format) {
  GE_CHECK(format.channels == 1 || format.channels == 3, op, ": expected 1 or 3 channels, got ",
           format.channels);
  // stb's resizer takes int sizes; 4096 keeps a whole sample far inside them.
  GE_CHECK(format.resolution >= 1 && format.resolution <= 4096, op,
           ": expected a resolution in [1, 4096], got ", format.resolution);
}

}  // namespace ge::models::data
