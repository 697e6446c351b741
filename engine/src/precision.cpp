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

std::atomic<int>& tf32_matmul_slot() {
  static std::atomic<int> slot{kUnset};
  return slot;
}

// A 0/1 environment variable: `fallback` when unset or empty.
bool flag_from_env(const char* name, bool fallback) {
  const char* raw = std::getenv(name);
  const std::string v = raw != nullptr ? raw : "";
  GE_CHECK(v.empty() || v == "0" || v == "1", name, ": expected 0 or 1, got '", v, "'");
  return v.empty() ? fallback : v == "1";
}

// The slot's value, read from the environment on first use; a concurrent set wins over it.
bool read_slot(std::atomic<int>& slot, bool (*from_env)()) {
  int v = slot.load();
  if (v == kUnset) {
    int expected = kUnset;
    slot.compare_exchange_strong(expected, from_env() ? 1 : 0);
    v = slot.load();
  }
  return v == 1;
}

}  // namespace

bool allow_tf32_from_env() {
  return flag_from_env("GE_ALLOW_TF32", true);
}

void set_allow_tf32(bool allow) {
  tf32_slot().store(allow ? 1 : 0);
}

bool allow_tf32() {
  return read_slot(tf32_slot(), allow_tf32_from_env);
}

bool allow_tf32_matmul_from_env() {
  return flag_from_env("GE_ALLOW_TF32_MATMUL", false);
}

void set_allow_tf32_matmul(bool allow) {
  tf32_matmul_slot().store(allow ? 1 : 0);
}

bool allow_tf32_matmul() {
  return read_slot(tf32_matmul_slot(), allow_tf32_matmul_from_env);
}

}  // namespace ge
