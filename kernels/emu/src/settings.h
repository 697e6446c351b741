#pragma once
// Process-wide emulator settings and counters, read by the scheduler at each launch.
#include <atomic>
#include <cstdint>

#include "ganengine/emu/emulator.h"

namespace ge::emu::detail {

struct Counters {
  std::atomic<std::uint64_t> launches{0};
  std::atomic<std::uint64_t> blocks{0};
  std::atomic<std::uint64_t> threads{0};
  std::atomic<std::uint64_t> fibers_created{0};
  std::atomic<std::uint64_t> switches{0};
};
Counters& counters();

}  // namespace ge::emu::detail
