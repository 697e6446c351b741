#pragma once
// The list checks every multi-tensor update runs before its kernel: equal lengths, and each
// entry a defined float32 tensor on the list's device, shaped like its parameter.
#include <cstddef>
#include <string>

#include "ganengine/error.h"
#include "ganengine/tensor.h"

namespace ge::optim::checks {

inline std::string item(const char* list, size_t i) {
  return std::string(list) + "[" + std::to_string(i) + "]";
}

// `t` = list[i] is a float32, contiguous tensor shaped and placed like `like` (= ref[i]).
inline void check_entry(const char* op, const Tensor& t, const char* list, size_t i,
                        const Tensor& like, const char* ref, Device device, bool need_contiguous) {
  GE_CHECK(t.defined(), op, ": expected ", item(list, i), " to be a defined tensor, got undefined");
  GE_CHECK(t.dtype() == Dtype::Float32, op, ": expected ", item(list, i), " of dtype float32, got ",
           name(t.dtype()));
  GE_CHECK(t.device() == device, op, ": expected ", item(list, i), " on ", device.str(),
           " (the device of the whole list), got ", t.device().str());
  GE_CHECK(t.shape() == like.shape(), op, ": expected ", item(list, i), " of shape ",
           to_string(like.shape()), " (", item(ref, i), "'s shape), got ", to_string(t.shape()));
  GE_CHECK(!need_contiguous || t.is_contiguous(), op, ": expected ", item(list, i),
           " to be contiguous (it is updated in place), got shape ", to_string(t.shape()),
           " with strides ", to_string(t.strides()));
}

inline void check_lengths(const char* op, const char* first, size_t n, const char* other,
                          size_t m) {
  GE_CHECK(m == n, op, ": expected as many ", other, " as ", first, " (", n, "), got ", m);
}

}  // namespace ge::optim::checks
