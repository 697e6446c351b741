#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace ge {

using Shape = std::vector<int64_t>;

std::string to_string(const Shape& shape);  // "[2, 3]"
int64_t numel(const Shape& shape);
// Maps a possibly negative dim into [0, ndim); throws ge::Error naming `op` if out of range.
int64_t wrap_dim(int64_t dim, int64_t ndim, const char* op);
// Broadcast shape of a and b (NumPy rules); throws ge::Error naming `op` and both shapes.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);
Shape contiguous_strides(const Shape& shape);

}  // namespace ge
