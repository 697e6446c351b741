#include "ganengine/random.h"

#include <atomic>

namespace ge {

uint64_t Generator::advance(uint64_t count) {
  // atomic_ref keeps the public class a plain value type while making reservations atomic.
  return std::atomic_ref<uint64_t>(offset_).fetch_add(count);
}

Generator& default_generator() {
  static Generator generator;
  return generator;
}

void manual_seed(uint64_t seed) {
  default_generator().manual_seed(seed);
}

}  // namespace ge
