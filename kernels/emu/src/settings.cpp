#include "settings.h"

#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>

namespace ge::emu {
namespace {

std::mutex settings_mutex;

Schedule initial_schedule() {
  const char* text = std::getenv("GE_EMU_ORDER");
  if (!text || !*text) return {};
  return parse_schedule(text);
}

Schedule& current_schedule() {
  static Schedule schedule = initial_schedule();
  return schedule;
}

int initial_worker_threads() {
  if (const char* text = std::getenv("GE_EMU_THREADS"); text && *text) {
    return std::max(1, std::atoi(text));
  }
  int count = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
#if defined(GE_TSAN)
  // Every CUDA thread is a TSan thread; stay well below TSan's thread limit.
  count = std::min(count, 4);
#endif
  return count;
}

std::atomic<int>& worker_count() {
  static std::atomic<int> count{initial_worker_threads()};
  return count;
}

}  // namespace

Schedule parse_schedule(const std::string& text) {
  if (text == "forward") return {ThreadOrder::forward, 0};
  if (text == "reverse") return {ThreadOrder::reverse, 0};
  if (text.rfind("random", 0) == 0) {
    if (text.size() == 6) return {ThreadOrder::random, 0};
    if (text[6] == ':' && text.size() > 7) {
      std::size_t used = 0;
      const std::uint64_t seed = std::stoull(text.substr(7), &used, 0);
      if (used == text.size() - 7) return {ThreadOrder::random, seed};
    }
  }
  throw std::invalid_argument(
      "GE_EMU_ORDER: expected forward, reverse, random or random:SEED, got '" + text + "'");
}

Schedule schedule() {
  std::lock_guard lock(settings_mutex);
  return current_schedule();
}

void set_schedule(Schedule schedule) {
  std::lock_guard lock(settings_mutex);
  current_schedule() = schedule;
}

int worker_threads() {
  return worker_count().load(std::memory_order_relaxed);
}

void set_worker_threads(int count) {
  worker_count().store(std::max(1, count), std::memory_order_relaxed);
}

std::size_t fiber_stack_bytes() {
  static const std::size_t bytes = [] {
    std::size_t kib = 64;
#if defined(GE_ASAN)
    kib *= 4;  // redzones around every local
#endif
    if (const char* text = std::getenv("GE_EMU_STACK_KB"); text && *text) {
      kib = std::max<std::size_t>(16, std::strtoull(text, nullptr, 10));
    }
    return kib * 1024;
  }();
  return bytes;
}

Stats stats() {
  auto& c = detail::counters();
  return Stats{c.launches.load(), c.blocks.load(), c.threads.load(), c.fibers_created.load(),
               c.switches.load()};
}

void reset_stats() {
  auto& c = detail::counters();
  c.launches = 0;
  c.blocks = 0;
  c.threads = 0;
  c.fibers_created = 0;
  c.switches = 0;
}

namespace detail {
Counters& counters() {
  static Counters instance;
  return instance;
}
}  // namespace detail

}  // namespace ge::emu
