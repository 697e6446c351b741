#pragma once
// Counter-based generator (Philox-4x32-10): a seed and an offset into its stream. The same
// seed gives the same numbers on CPU and CUDA.
#include <cstdint>

namespace ge {

class Generator {
 public:
  explicit Generator(uint64_t seed = 0x5eed) : seed_(seed) {}
  uint64_t seed() const { return seed_; }
  uint64_t offset() const { return offset_; }
  void manual_seed(uint64_t seed) {
    seed_ = seed;
    offset_ = 0;
  }
  void set_offset(uint64_t offset) { offset_ = offset; }
  // Reserves `count` Philox counters and returns the first; thread-safe.
  uint64_t advance(uint64_t count);

 private:
  uint64_t seed_;
  uint64_t offset_ = 0;
};

Generator& default_generator();
void manual_seed(uint64_t seed);  // reseeds the default generator

}  // namespace ge
