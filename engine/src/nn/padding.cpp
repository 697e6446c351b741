#include "ganengine/nn/padding.h"

#include "ganengine/error.h"
#include "ganengine/pad.h"

namespace ge::nn {

namespace {

// The input-independent half of the ops' checks, so that a bad layer fails where it is built.
void check_pads(const char* layer, const std::array<int64_t, 4>& pad) {
  GE_CHECK(pad[0] >= 0 && pad[1] >= 0 && pad[2] >= 0 && pad[3] >= 0, layer,
           ": expected non-negative pads {left, right, top, bottom}, got {", pad[0], ", ", pad[1],
           ", ", pad[2], ", ", pad[3], "}");
}

}  // namespace

ReflectionPad2d::ReflectionPad2d(std::array<int64_t, 4> pad) : pad(pad) {
  check_pads("ReflectionPad2d", pad);
}

Tensor ReflectionPad2d::forward(const Tensor& x) {
  return reflection_pad2d(x, pad);
}

ReplicationPad2d::ReplicationPad2d(std::array<int64_t, 4> pad) : pad(pad) {
  check_pads("ReplicationPad2d", pad);
}

Tensor ReplicationPad2d::forward(const Tensor& x) {
  return replication_pad2d(x, pad);
}

}  // namespace ge::nn
