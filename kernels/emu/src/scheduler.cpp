#include "scheduler.h"

#include <algorithm>
#include <cstring>
#include <exception>
#include <memory>
#include <new>
#include <optional>
#include <random>
#include <vector>

#include "block.h"
#include "fiber_stack.h"
#include "sanitizers.h"
#include "settings.h"

thread_local constinit uint3 threadIdx __attribute__((tls_model("initial-exec"))) = {0, 0, 0};
thread_local constinit uint3 blockIdx __attribute__((tls_model("initial-exec"))) = {0, 0, 0};
thread_local constinit dim3 blockDim __attribute__((tls_model("initial-exec"))) = dim3(1, 1, 1);
thread_local constinit dim3 gridDim __attribute__((tls_model("initial-exec"))) = dim3(1, 1, 1);

namespace ge::emu::detail {

thread_local constinit unsigned char* dynamic_smem __attribute__((tls_model("initial-exec"))) =
    nullptr;

namespace {

constexpr std::size_t kSharedArenaBytes = 228 * 1024;
constexpr unsigned char kGarbage = 0xFF;  // reads as NaN in every floating-point type
// Guard zones before and after a block's dynamic shared memory, checked when the block ends: a
// write outside the launch's shared_bytes changes them. The pattern reads as NaN in float and
// double, so a read outside the range shows up too.
constexpr std::size_t kGuardBytes = 256;
constexpr unsigned char kGuardPattern[4] = {0xAD, 0xDE, 0xF0, 0xFF};

void fill_guard(unsigned char* guard) {
  for (std::size_t i = 0; i < kGuardBytes; ++i)
    guard[i] = kGuardPattern[i % 4];
}

// The offset from the start of dynamic shared memory of the first changed byte of a guard zone
// that starts at offset `zone`, or nothing.
std::optional<std::ptrdiff_t> changed_byte(const unsigned char* guard, std::ptrdiff_t zone) {
  for (std::size_t i = 0; i < kGuardBytes; ++i) {
    if (guard[i] != kGuardPattern[i % 4]) return zone + static_cast<std::ptrdiff_t>(i);
  }
  return std::nullopt;
}

// Static shared variables go after the dynamic shared memory's trailing guard, each behind a guard
// zone of its own and followed by one; the arena keeps room for their guards and alignment.
constexpr std::size_t kMaxStaticShared = 32;
constexpr std::size_t kStaticSharedLimit = 48 * 1024;  // ptxas refuses more static shared memory
constexpr std::size_t kStaticAlign = 16;
constexpr std::size_t kStaticSlack = kMaxStaticShared * (2 * kGuardBytes + kStaticAlign);
constexpr std::size_t kArenaBytes = kGuardBytes + kSharedArenaBytes + kGuardBytes + kStaticSlack;

// One static shared variable of the running block.
struct StaticShared {
  const void* site;
  unsigned char* address;
  std::size_t bytes;
  const char* name;
  const char* file;
  int line;
};

struct BlockAborted {};

std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

std::string site_name(const char* file, int line) {
  return std::string(file) + ":" + std::to_string(line);
}

std::string describe_threads(const BlockView& block, const std::vector<unsigned>& ids) {
  std::string text = ids.size() == 1 ? "thread " : std::to_string(ids.size()) + " threads ";
  const std::size_t shown = std::min<std::size_t>(ids.size(), 4);
  for (std::size_t i = 0; i < shown; ++i) {
    if (i) text += ", ";
    text += thread_name(block.threads[ids[i]]->tid);
  }
  if (shown < ids.size()) text += ", ...";
  return text;
}

// Why a block in which no thread can run is stuck.
std::string diagnose(const BlockView& block) {
  std::vector<unsigned> done, warp;
  std::vector<std::pair<std::string, std::vector<unsigned>>> barriers;  // by site, first seen
  for (unsigned i = 0; i < block.count; ++i) {
    const ThreadSlot& t = *block.threads[i];
    if (t.wait == Wait::done) done.push_back(i);
    if (t.wait == Wait::warp) warp.push_back(i);
    if (t.wait != Wait::barrier) continue;
    const std::string where = site_name(t.file, t.line);
    auto it = std::find_if(barriers.begin(), barriers.end(),
                           [&](const auto& entry) { return entry.first == where; });
    if (it == barriers.end()) it = barriers.insert(barriers.end(), {where, {}});
    it->second.push_back(i);
  }
  std::string text;
  if (!warp.empty()) {
    text = describe_stuck_warps(block);
  } else if (barriers.size() > 1) {
    text = "barrier divergence: ";
    for (std::size_t i = 0; i < barriers.size(); ++i) {
      if (i) text += "; ";
      text += describe_threads(block, barriers[i].second) + " wait at __syncthreads() at " +
              barriers[i].first;
    }
  } else if (!barriers.empty() && !done.empty()) {
    text = "return before barrier: " + describe_threads(block, done) + " exited while " +
           describe_threads(block, barriers[0].second) + " wait at __syncthreads() at " +
           barriers[0].first;
    return text;
  } else {
    text = "deadlock: no thread can proceed";
  }
  if (!warp.empty() && !barriers.empty()) {
    for (const auto& [where, ids] : barriers) {
      text += "; " + describe_threads(block, ids) + " wait at __syncthreads() at " + where;
    }
  }
  if (!done.empty()) text += "; " + describe_threads(block, done) + " exited";
  return text;
}

class Worker {
 public:
  Worker() : smem_(new (std::align_val_t{128}) unsigned char[kArenaBytes]) {
    tsan_self_ = san::current_fiber();
  }
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;
  ~Worker();

  void run(Job& job);

  ThreadSlot& current(const char* what);
  void to_scheduler(ThreadSlot& thread);
  const BlockView& view() const { return view_; }
  bool in_shared(const void* p, std::size_t bytes) const {
    const auto* first = static_cast<const unsigned char*>(p);
    return first >= smem_.get() + kGuardBytes && first + bytes <= static_end_;
  }
  void* static_shared(const void* site, std::size_t bytes, std::size_t align, const char* name,
                      const char* file, int line);

  // TSan synchronisation objects: only their addresses matter.
  const void* barrier_sync() const { return &barrier_sync_; }
  const void* warp_sync(unsigned warp) const { return &warp_sync_[warp % 32]; }

 private:
  struct SharedDeleter {
    void operator()(unsigned char* p) const { ::operator delete[](p, std::align_val_t{128}); }
  };

  ThreadSlot& slot(unsigned index);
  boost::context::fiber fiber_main(ThreadSlot& thread, boost::context::fiber&& caller);
  void run_thread(ThreadSlot& thread);
  void resume(ThreadSlot& thread);
  void run_block(Job& job, std::uint64_t linear);
  bool release_barrier();
  void arrange(std::vector<unsigned>& ids);
  void abort_block();
  std::string check_guards(const LaunchConfig& config) const;

  std::vector<std::unique_ptr<ThreadSlot>> slots_;
  std::vector<ThreadSlot*> active_;
  std::vector<unsigned> runnable_;
  BlockView view_{};
  ThreadSlot* current_ = nullptr;
  Job* job_ = nullptr;
  bool quitting_ = false;
  std::unique_ptr<unsigned char[], SharedDeleter> smem_;
  std::vector<StaticShared> statics_;  // in the order the block's threads first declared them
  unsigned char* static_end_ = nullptr;
  std::size_t static_bytes_ = 0;
  Schedule schedule_;
  std::mt19937_64 rng_;

  void* tsan_self_ = nullptr;
  void* asan_fake_stack_ = nullptr;
  const void* stack_bottom_ = nullptr;
  std::size_t stack_size_ = 0;
  char block_start_sync_ = 0;
  char block_end_sync_ = 0;
  char barrier_sync_ = 0;
  char warp_sync_[32] = {};

  std::uint64_t switches_ = 0;
};

thread_local Worker worker;

Worker::~Worker() {
  san::IgnoreScope ignore;
  quitting_ = true;
  for (auto& thread : slots_) {
    if (thread->context) resume(*thread);
    san::destroy_fiber(thread->tsan_fiber);
  }
}

ThreadSlot& Worker::current(const char* what) {
  if (!current_) {
    std::fprintf(stderr, "ganengine CUDA emulator: %s called outside a kernel\n", what);
    std::abort();
  }
  return *current_;
}

ThreadSlot& Worker::slot(unsigned index) {
  while (slots_.size() <= index) {
    auto thread = std::make_unique<ThreadSlot>();
    ThreadSlot* t = thread.get();
    t->tsan_fiber = san::create_fiber();
    GuardedStackAllocator allocator(fiber_stack_bytes(), &t->stack);
    boost::context::stack_context stack = allocator.allocate();
    // Constructing a fiber enters its stack and comes straight back without telling the
    // sanitizers; they are told of both trips here, from this side.
    san::switch_to(t->tsan_fiber);
    san::start_switch(&asan_fake_stack_, t->stack.bottom, t->stack.size);
    t->context = boost::context::fiber(
        std::allocator_arg, boost::context::preallocated(stack.sp, stack.size, stack), allocator,
        [this, t](boost::context::fiber&& caller) { return fiber_main(*t, std::move(caller)); });
    const void* own_bottom = nullptr;
    std::size_t own_size = 0;
    san::finish_switch(nullptr, &own_bottom, &own_size);
    void* entry_fake_stack = nullptr;
    san::start_switch(&entry_fake_stack, own_bottom, own_size);
    san::finish_switch(asan_fake_stack_, nullptr, nullptr);
    san::switch_to(tsan_self_);
    counters().fibers_created.fetch_add(1, std::memory_order_relaxed);
    slots_.push_back(std::move(thread));
  }
  return *slots_[index];
}

// The body of a fiber: runs one CUDA thread per resumption until the worker quits. Entered and
// left with TSan ignoring its accesses; kernel code runs observed.
boost::context::fiber Worker::fiber_main(ThreadSlot& thread, boost::context::fiber&& caller) {
  san::finish_switch(nullptr, &stack_bottom_, &stack_size_);
  san::ignore_begin();
  thread.caller = std::move(caller);
  while (!quitting_) {
    run_thread(thread);
    thread.wait = Wait::done;
    to_scheduler(thread);
  }
  san::ignore_end();
  san::switch_to(tsan_self_);
  // Boost jumps away after this function returns, still using its frames: keep the fake stack.
  san::start_switch(&thread.asan_fake_stack, stack_bottom_, stack_size_);
  return std::move(thread.caller);
}

void Worker::run_thread(ThreadSlot& thread) {
  const KernelBody body = job_->body;
  void* const state = job_->state;
  san::acquire(&block_start_sync_);
  std::exception_ptr escaped;
  san::ignore_end();
  try {
    body(state);
  } catch (const BlockAborted&) {
  } catch (...) {
    escaped = std::current_exception();
  }
  san::ignore_begin();
  if (escaped) {
    try {
      std::rethrow_exception(escaped);
    } catch (const std::exception& e) {
      thread.failure = std::string("exception escaped the kernel: ") + e.what();
    } catch (...) {
      thread.failure = "exception escaped the kernel";
    }
  }
  san::release(&block_end_sync_);
}

void Worker::resume(ThreadSlot& thread) {
  current_ = &thread;
  threadIdx = thread.tid;
  san::switch_to(thread.tsan_fiber);
  san::start_switch(&asan_fake_stack_, thread.stack.bottom, thread.stack.size);
  thread.context = std::move(thread.context).resume();
  san::finish_switch(asan_fake_stack_, nullptr, nullptr);
  current_ = nullptr;
  switches_ += 2;
}

void Worker::to_scheduler(ThreadSlot& thread) {
  san::switch_to(tsan_self_);
  san::start_switch(&thread.asan_fake_stack, stack_bottom_, stack_size_);
  thread.caller = std::move(thread.caller).resume();
  san::finish_switch(thread.asan_fake_stack, nullptr, nullptr);
}

void Worker::arrange(std::vector<unsigned>& ids) {
  switch (schedule_.order) {
    case ThreadOrder::forward:
      break;
    case ThreadOrder::reverse:
      std::reverse(ids.begin(), ids.end());
      break;
    case ThreadOrder::random:
      std::shuffle(ids.begin(), ids.end(), rng_);
      break;
  }
}

// Releases the block barrier if every thread waits at the same one.
bool Worker::release_barrier() {
  const ThreadSlot& first = *active_[0];
  int count = 0;
  for (const ThreadSlot* t : active_) {
    if (t->wait != Wait::barrier || t->line != first.line || t->reduce != first.reduce ||
        std::strcmp(t->file, first.file) != 0) {
      return false;
    }
    count += t->predicate != 0;
  }
  const int total = static_cast<int>(active_.size());
  int result = 0;
  switch (first.reduce) {
    case BlockReduce::none:
      break;
    case BlockReduce::count:
      result = count;
      break;
    case BlockReduce::all:
      result = count == total;
      break;
    case BlockReduce::any:
      result = count != 0;
      break;
  }
  for (unsigned i = 0; i < active_.size(); ++i) {
    active_[i]->wait = Wait::running;
    active_[i]->reduce_result = result;
    runnable_.push_back(i);
  }
  return true;
}

void* Worker::static_shared(const void* site, std::size_t bytes, std::size_t align,
                            const char* name, const char* file, int line) {
  // Called from kernel code: the block's bookkeeping and the fill are the emulator's, not races
  // between CUDA threads.
  san::IgnoreScope ignore;
  for (const StaticShared& v : statics_) {
    if (v.site == site) return v.address;
  }
  ThreadSlot& thread = current("a static shared variable");
  const auto refuse = [&](const std::string& why) {
    thread.failure = "static shared variable '" + std::string(name) + "' declared at " +
                     site_name(file, line) + ": " + why;
    throw BlockAborted{};
  };
  if (statics_.size() == kMaxStaticShared) {
    refuse("more than " + std::to_string(kMaxStaticShared) +
           " static shared variables in one kernel, the emulator's limit");
  }
  static_bytes_ += bytes;
  if (static_bytes_ > kStaticSharedLimit) {
    refuse("the kernel's static shared memory comes to " + std::to_string(static_bytes_) +
           " bytes, over the " + std::to_string(kStaticSharedLimit) + " that ptxas allows");
  }
  const std::size_t dynamic = job_->config->shared_bytes;
  if (static_bytes_ + dynamic > kSharedArenaBytes) {
    refuse(std::to_string(static_bytes_) + " bytes of static and " + std::to_string(dynamic) +
           " of dynamic shared memory exceed the " + std::to_string(kSharedArenaBytes) +
           " bytes of an SM");
  }
  const std::size_t step = std::max(align, kStaticAlign);
  const auto start =
      (reinterpret_cast<std::uintptr_t>(static_end_) + kGuardBytes + step - 1) / step * step;
  auto* const address = reinterpret_cast<unsigned char*>(start);
  if (address + bytes + kGuardBytes > smem_.get() + kArenaBytes) {
    refuse("aligned to " + std::to_string(step) +
           " bytes, it does not fit the emulator's shared-memory arena");
  }
  fill_guard(address - kGuardBytes);
  std::memset(address, kGarbage, bytes);
  fill_guard(address + bytes);
  static_end_ = address + bytes + kGuardBytes;
  statics_.push_back(StaticShared{site, address, bytes, name, file, line});
  return address;
}

// The first write outside the block's shared memory that a guard zone shows, or "".
std::string Worker::check_guards(const LaunchConfig& config) const {
  const unsigned char* const shared = smem_.get() + kGuardBytes;
  const auto bytes = static_cast<std::ptrdiff_t>(config.shared_bytes);
  auto before = changed_byte(smem_.get(), -static_cast<std::ptrdiff_t>(kGuardBytes));
  auto after = changed_byte(shared + config.shared_bytes, bytes);
  if (before || after) {
    return "write outside dynamic shared memory: byte at offset " +
           std::to_string(before ? *before : *after) + " of the " + std::to_string(bytes) +
           " bytes given at launch changed (guard zone " + (before ? "before" : "after") +
           " the block's shared memory)";
  }
  for (const StaticShared& v : statics_) {
    const auto size = static_cast<std::ptrdiff_t>(v.bytes);
    before = changed_byte(v.address - kGuardBytes, -static_cast<std::ptrdiff_t>(kGuardBytes));
    after = changed_byte(v.address + v.bytes, size);
    if (before || after) {
      return "write outside static shared variable '" + std::string(v.name) + "' (" +
             site_name(v.file, v.line) + "): byte at offset " +
             std::to_string(before ? *before : *after) + " of its " + std::to_string(size) +
             " bytes changed (guard zone " + (before ? "before" : "after") + " it)";
    }
  }
  return {};
}

void Worker::abort_block() {
  for (ThreadSlot* t : active_) {
    if (t->wait == Wait::done) continue;
    t->abort = true;
    resume(*t);
  }
}

void Worker::run_block(Job& job, std::uint64_t linear) {
  const LaunchConfig& config = *job.config;
  const dim3 grid = config.grid;
  const dim3 dim = config.block;
  blockIdx =
      uint3{static_cast<unsigned>(linear % grid.x), static_cast<unsigned>(linear / grid.x % grid.y),
            static_cast<unsigned>(linear / (std::uint64_t{grid.x} * grid.y))};
  blockDim = dim;
  gridDim = grid;
  unsigned char* const shared = smem_.get() + kGuardBytes;
  dynamic_smem = shared;
  fill_guard(smem_.get());
  std::memset(shared, kGarbage, config.shared_bytes);
  fill_guard(shared + config.shared_bytes);
  statics_.clear();
  static_end_ = shared + config.shared_bytes + kGuardBytes;
  static_bytes_ = 0;

  const unsigned count = dim.x * dim.y * dim.z;
  active_.resize(count);
  runnable_.clear();
  for (unsigned i = 0; i < count; ++i) {
    ThreadSlot& t = slot(i);
    t.tid = uint3{i % dim.x, i / dim.x % dim.y, i / (dim.x * dim.y)};
    t.linear = i;
    t.wait = Wait::running;
    t.abort = false;
    t.failure.clear();
    t.async_copies.clear();
    t.async_groups = 0;
    active_[i] = &t;
    runnable_.push_back(i);
  }
  view_ = BlockView{config.name, blockIdx, dim, active_.data(), count};
  rng_.seed(mix(schedule_.seed ^ mix(linear)));
  san::release(&block_start_sync_);

  std::string error;
  while (error.empty()) {
    arrange(runnable_);
    for (unsigned i : runnable_)
      resume(*active_[i]);
    runnable_.clear();
    for (const ThreadSlot* t : active_) {
      if (!t->failure.empty()) {
        error = thread_name(t->tid) + ": " + t->failure;
        break;
      }
    }
    if (!error.empty()) break;
    error = release_warps(view_, runnable_);
    if (!error.empty() || !runnable_.empty()) continue;
    if (std::all_of(active_.begin(), active_.end(),
                    [](const ThreadSlot* t) { return t->wait == Wait::done; })) {
      break;
    }
    if (!release_barrier()) error = diagnose(view_);
  }
  if (error.empty()) error = check_guards(config);
  if (!error.empty()) {
    abort_block();
    job.report(linear, "kernel '" + std::string(config.name) + "' block " + block_name(blockIdx) +
                           ": " + error);
  }
  san::acquire(&block_end_sync_);
  counters().threads.fetch_add(count, std::memory_order_relaxed);
}

void Worker::run(Job& job) {
  san::IgnoreScope ignore;
  job_ = &job;
  schedule_ = job.schedule;
  std::uint64_t blocks = 0;
  while (!job.stop.load(std::memory_order_relaxed)) {
    const std::uint64_t linear = job.next_block.fetch_add(1, std::memory_order_relaxed);
    if (linear >= job.blocks) break;
    run_block(job, linear);
    ++blocks;
  }
  job_ = nullptr;
  dynamic_smem = nullptr;
  counters().blocks.fetch_add(blocks, std::memory_order_relaxed);
  counters().switches.fetch_add(switches_, std::memory_order_relaxed);
  switches_ = 0;
}

}  // namespace

void Job::report(std::uint64_t block, std::string message) {
  std::lock_guard lock(failure_mutex);
  if (block < failed_block) {
    failed_block = block;
    failure = std::move(message);
  }
  stop.store(true, std::memory_order_relaxed);
}

void* static_shared(const void* site, std::size_t bytes, std::size_t align, const char* name,
                    const char* file, int line) {
  return worker.static_shared(site, bytes, align, name, file, line);
}

ThreadSlot& running_thread(const char* what) {
  return worker.current(what);
}

void fail_running_thread(ThreadSlot& thread, std::string why) {
  thread.failure = std::move(why);
  throw BlockAborted{};
}

bool in_shared_memory(const void* p, std::size_t bytes) {
  return worker.in_shared(p, bytes);
}

void run_blocks(Job& job) {
  worker.run(job);
}

void syncthreads(const char* file, int line) {
  syncthreads_reduce(BlockReduce::none, 0, file, line);
}

int syncthreads_reduce(BlockReduce op, int predicate, const char* file, int line) {
  Worker& w = worker;
  san::ignore_begin();
  ThreadSlot& t = w.current("__syncthreads");
  t.wait = Wait::barrier;
  t.file = file;
  t.line = line;
  t.reduce = op;
  t.predicate = predicate;
  san::release(w.barrier_sync());
  w.to_scheduler(t);
  if (t.abort) {
    san::ignore_end();
    throw BlockAborted{};
  }
  san::acquire(w.barrier_sync());
  const int result = t.reduce_result;
  san::ignore_end();
  return result;
}

unsigned long long warp_op(WarpOp op, unsigned mask, unsigned long long value, int arg, int width,
                           const std::source_location& where) {
  Worker& w = worker;
  san::ignore_begin();
  ThreadSlot& t = w.current(warp_op_name(op));
  t.wait = Wait::warp;
  t.op = op;
  t.mask = mask;
  t.value = value;
  t.arg = arg;
  t.width = width;
  t.where = where;
  const void* sync = w.warp_sync(t.linear / 32);
  san::release(sync);
  w.to_scheduler(t);
  if (t.abort) {
    san::ignore_end();
    throw BlockAborted{};
  }
  san::acquire(sync);
  const unsigned long long result = t.result;
  san::ignore_end();
  return result;
}

std::string thread_name(const uint3& tid) {
  return "(" + std::to_string(tid.x) + "," + std::to_string(tid.y) + "," + std::to_string(tid.z) +
         ")";
}

std::string block_name(const uint3& index) {
  return thread_name(index);
}

}  // namespace ge::emu::detail
