#pragma once
// Runs the blocks of one launch on the calling OS thread, one block at a time, each CUDA thread
// a fiber.
#include <atomic>
#include <cstdint>
#include <limits>
#include <mutex>
#include <string>

#include "ganengine/emu/emulator.h"

namespace ge::emu::detail {

struct Job {
  const LaunchConfig* config = nullptr;
  KernelBody body = nullptr;
  void* state = nullptr;
  std::uint64_t blocks = 0;
  Schedule schedule;

  std::atomic<std::uint64_t> next_block{0};
  std::atomic<bool> stop{false};

  std::mutex failure_mutex;
  std::uint64_t failed_block = std::numeric_limits<std::uint64_t>::max();
  std::string failure;

  // Keeps the failure of the lowest block index, so the message does not depend on timing.
  void report(std::uint64_t block, std::string message);
};

// Takes blocks from `job` until none is left or one fails.
void run_blocks(Job& job);

}  // namespace ge::emu::detail
