#pragma once
// One font file as make_typeset_digits reads each of its faces.
#include <cstddef>
#include <string>

#include "ganengine/models/data/dataset.h"

namespace ge::models::data {

// Rasterizes the ten digits of the font file's `size` bytes at `data` as make_typeset_digits does
// for `format`; throws ge::Error naming `name` when the file is truncated, not TrueType/OpenType,
// or lacks a digit or its ink.
void check_typeset_font(const std::string& name, const unsigned char* data, size_t size,
                        const ImageFormat& format);

}  // namespace ge::models::data
