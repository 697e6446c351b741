#include "cpu/thread_pool.h"

#include <immintrin.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

namespace ge::kernels::cpu {
namespace {

thread_local bool inside_team = false;

// How long a waiting thread spins before it sleeps: GE_CPU_SPIN_US microseconds (0: at once).
// Waking a sleeping thread costs up to a millisecond where an idle CPU halts (virtual machines),
// as much as a whole region of a training step; GNU OpenMP's default spin is of this order too.
constexpr long kDefaultSpinUs = 5000;

std::chrono::microseconds spin_time() {
  static const std::chrono::microseconds time = [] {
    long us = kDefaultSpinUs;
    const char* env = std::getenv("GE_CPU_SPIN_US");
    if (env != nullptr && *env != '\0') {
      char* end = nullptr;
      const long parsed = std::strtol(env, &end, 10);
      // A malformed value keeps the default: this runs inside the kernels, where nothing throws.
      if (*end == '\0' && parsed >= 0) us = parsed;
    }
    return std::chrono::microseconds(us);
  }();
  return time;
}

// Waits until done(value) holds: spinning for spin_time(), then sleeping on the atomic. The spin
// yields the CPU every 64 checks, so that with more threads than CPUs (two processes, or two host
// threads) the thread being waited for gets to run.
template <typename T, typename Done>
T await(const std::atomic<T>& value, Done done) {
  const auto limit = std::chrono::steady_clock::now() + spin_time();
  for (unsigned i = 1;; ++i) {
    const T v = value.load(std::memory_order_acquire);
    if (done(v)) return v;
    if (i % 64 == 0) {
      if (std::chrono::steady_clock::now() >= limit) break;
      std::this_thread::yield();
    }
    _mm_pause();
  }
  for (;;) {
    const T v = value.load(std::memory_order_acquire);
    if (done(v)) return v;
    value.wait(v, std::memory_order_acquire);
  }
}

class Pool {
 public:
  void run(int team, TeamBody body, void* context) {
    std::unique_lock lock(busy_, std::try_to_lock);
    if (!lock.owns_lock()) {
      body(context, 0, 1);
      return;
    }
    while (static_cast<int>(workers_.size()) < team - 1) {
      const int index = static_cast<int>(workers_.size()) + 1;
      const uint32_t now = generation_.load(std::memory_order_relaxed);
      workers_.emplace_back([this, index, now] { work(index, now); });
    }
    body_ = body;
    context_ = context;
    team_ = team;
    // Every worker acknowledges every region, taking part or not, so the fields above stay
    // unchanged until the last has read them.
    pending_.store(static_cast<int>(workers_.size()), std::memory_order_relaxed);
    generation_.fetch_add(1, std::memory_order_release);
    generation_.notify_all();
    inside_team = true;
    body(context, 0, team);
    inside_team = false;
    await(pending_, [](int left) { return left == 0; });
  }

 private:
  void work(int index, uint32_t seen) {
    for (;;) {
      seen = await(generation_, [seen](uint32_t g) { return g != seen; });
      if (index < team_) {
        inside_team = true;
        body_(context_, index, team_);
        inside_team = false;
      }
      if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) pending_.notify_one();
    }
  }

  std::mutex busy_;  // one region at a time
  std::vector<std::thread> workers_;
  std::atomic<uint32_t> generation_{0};
  std::atomic<int> pending_{0};
  // The running region, written before generation_ is raised and read after it is seen.
  TeamBody body_ = nullptr;
  void* context_ = nullptr;
  int team_ = 0;
};

}  // namespace

void run_team(int team, TeamBody body, void* context) {
  if (team <= 1 || inside_team) {
    body(context, 0, 1);
    return;
  }
  // Never destroyed: its workers live as long as the process.
  static Pool* const pool = new Pool();
  pool->run(team, body, context);
}

bool in_team() {
  return inside_team;
}

}  // namespace ge::kernels::cpu
