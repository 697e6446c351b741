#pragma once
#include <cstddef>
#include <cstdint>

namespace ge {

// Element types. Ops implement Float32; the field exists so half types can follow.
enum class Dtype : uint8_t { Float32, Float16, BFloat16 };

const char* name(Dtype dtype);
size_t element_size(Dtype dtype);

}  // namespace ge
