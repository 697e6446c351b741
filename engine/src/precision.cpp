#include "ganengine/precision.h"

#include <atomic>
#include <cstdlib>
#include <string>

#include "ganengine/error.h"

namespace ge {
namespace {

constexpr int kUnset = -1;

std::atomic<int>& tf32_slot() {
  static std::atomic<int> slot{kUnset};
  return slot;
}

}  // namespace

bool allow_tf32_from_env() {
  const char* raw = std::getenv("GE_ALLOW_TF32");
  const std::string v = raw != nullptr ? raw : "";
  GE_CHECK(v.empty() || v == "0" || v == "1", "GE_ALLOW_TF32: expected 0 or 1, got '", v, "'");
  return v != "0";
}

void set_allow_tf32(bool allow) {
  tf32_slot().store(allow ? 1 : 0);
}

bool allow_tf32() {
  int v = tf32_slot().load();
  if (v == kUnset) {
    int expected = kUnset;  // a concurrent set_allow_tf32 wins over the environment
    tf32_slot().compare_exchange_strong(expected, allow_tf32_from_env() ? 1 : 0);
    v = tf32_slot().load();
  }
  return v == 1;
}

}  // namespace ge
