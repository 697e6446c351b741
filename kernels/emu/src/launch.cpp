// Launch validation as the GPU does it (configuration, registers, pointer arguments), the queueing
// of launches on their streams, and the pool of OS threads that runs a grid's blocks.
#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "runtime_state.h"
#include "scheduler.h"
#include "settings.h"

namespace ge::emu::detail {
namespace {

std::string dims(const dim3& d) {
  return "(" + std::to_string(d.x) + "," + std::to_string(d.y) + "," + std::to_string(d.z) + ")";
}

// The registers a block needs, allocated per warp in units of 256 as on sm_90, against the 65536
// of an SM (and at most 255 per thread).
std::string check_registers(const LaunchConfig& config, unsigned long long threads) {
  const int registers = kernel_registers(config.func, config.name);
  if (registers <= 0) return {};
  const cudaDeviceProp& p = target_properties();
  if (registers > 255) {
    return std::to_string(registers) + " registers per thread exceed sm_90's 255";
  }
  constexpr unsigned long long kUnit = 256;
  const unsigned long long per_warp = (registers * 32ull + kUnit - 1) / kUnit * kUnit;
  const unsigned long long warps = (threads + 31) / 32;
  const unsigned long long needed = warps * per_warp;
  if (needed <= static_cast<unsigned long long>(p.regsPerBlock)) return {};
  return std::to_string(threads) + " threads of " + std::to_string(registers) +
         " registers each need " + std::to_string(needed) + " registers (" +
         std::to_string(per_warp) + " per warp), more than the " + std::to_string(p.regsPerBlock) +
         " of an SM; use smaller blocks or __launch_bounds__";
}

// Returns a non-empty explanation when the configuration exceeds the target's limits.
std::string check_configuration(const LaunchConfig& config, cudaError_t& error) {
  const cudaDeviceProp& p = target_properties();
  const dim3 b = config.block;
  const dim3 g = config.grid;
  error = cudaErrorInvalidConfiguration;
  if (b.x == 0 || b.y == 0 || b.z == 0) return "block " + dims(b) + " has a zero dimension";
  if (b.x > static_cast<unsigned>(p.maxThreadsDim[0]) ||
      b.y > static_cast<unsigned>(p.maxThreadsDim[1]) ||
      b.z > static_cast<unsigned>(p.maxThreadsDim[2])) {
    return "block " + dims(b) + " exceeds the maximum block dimensions (" +
           std::to_string(p.maxThreadsDim[0]) + "," + std::to_string(p.maxThreadsDim[1]) + "," +
           std::to_string(p.maxThreadsDim[2]) + ")";
  }
  const unsigned long long threads = 1ull * b.x * b.y * b.z;
  if (threads > static_cast<unsigned long long>(p.maxThreadsPerBlock)) {
    return "block " + dims(b) + " has " + std::to_string(threads) + " threads, more than " +
           std::to_string(p.maxThreadsPerBlock);
  }
  if (g.x == 0 || g.y == 0 || g.z == 0) return "grid " + dims(g) + " has a zero dimension";
  if (g.x > static_cast<unsigned>(p.maxGridSize[0]) ||
      g.y > static_cast<unsigned>(p.maxGridSize[1]) ||
      g.z > static_cast<unsigned>(p.maxGridSize[2])) {
    return "grid " + dims(g) + " exceeds the maximum grid dimensions (" +
           std::to_string(p.maxGridSize[0]) + "," + std::to_string(p.maxGridSize[1]) + "," +
           std::to_string(p.maxGridSize[2]) + ")";
  }
  error = cudaErrorInvalidValue;
  const std::size_t limit = max_dynamic_shared(config.func);
  if (config.shared_bytes > limit) {
    return std::to_string(config.shared_bytes) + " bytes of dynamic shared memory exceed the " +
           std::to_string(limit) + " bytes allowed for this kernel" +
           (limit < static_cast<std::size_t>(p.sharedMemPerBlockOptin)
                ? " (raise it with cudaFuncSetAttribute(kernel, "
                  "cudaFuncAttributeMaxDynamicSharedMemorySize, bytes))"
                : "");
  }
  error = cudaErrorLaunchOutOfResources;
  if (std::string why = check_registers(config, threads); !why.empty()) return why;
  error = cudaErrorInvalidResourceHandle;
  if (!is_valid_stream(config.stream)) return "unknown stream";
  error = cudaSuccess;
  return {};
}

// Helper OS threads; the launching thread works alongside them.
class Pool {
 public:
  ~Pool() {
    {
      std::lock_guard lock(mutex_);
      quit_ = true;
    }
    wake_.notify_all();
    for (auto& thread : threads_)
      thread.join();
  }

  void run(Job& job, int helpers) {
    {
      std::lock_guard lock(mutex_);
      while (static_cast<int>(threads_.size()) < helpers) {
        threads_.emplace_back([this] { serve(); });
      }
      job_ = &job;
      tickets_ = helpers;
      finished_ = 0;
      ++generation_;
    }
    wake_.notify_all();
    run_blocks(job);
    std::unique_lock lock(mutex_);
    done_.wait(lock, [&] { return finished_ == helpers; });
    job_ = nullptr;
  }

 private:
  void serve() {
    std::uint64_t seen = 0;
    std::unique_lock lock(mutex_);
    for (;;) {
      wake_.wait(lock, [&] { return quit_ || (generation_ != seen && tickets_ > 0); });
      if (quit_) return;
      --tickets_;
      if (tickets_ == 0) seen = generation_;
      Job* job = job_;
      lock.unlock();
      run_blocks(*job);
      lock.lock();
      ++finished_;
      seen = generation_;
      done_.notify_all();
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  std::vector<std::thread> threads_;
  Job* job_ = nullptr;
  std::uint64_t generation_ = 0;
  int tickets_ = 0;
  int finished_ = 0;
  bool quit_ = false;
};

std::mutex& launch_mutex() {
  static std::mutex mutex;
  return mutex;
}

Pool& pool() {
  static Pool instance;
  return instance;
}

std::string kernel_name(const LaunchConfig& config) {
  return config.name ? config.name : "kernel";
}

// A pointer argument must be null or address device memory (cudaMalloc) or pinned host memory
// (cudaMallocHost, which the device reaches through unified addressing). A pointer to pageable
// host memory (heap, stack, globals) or to freed memory would fault on the GPU.
std::string check_pointers(const PointerArgument* pointers, unsigned count) {
  for (unsigned i = 0; i < count; ++i) {
    const void* p = reinterpret_cast<const void*>(pointers[i].address);
    if (p == nullptr || residence(p) != Residence::host) continue;
    // One past the end of an allocation, as a kernel may be given for an empty range.
    if (residence(static_cast<const char*>(p) - 1) != Residence::host) continue;
    char address[32];
    std::snprintf(address, sizeof address, "%p", p);
    return "argument " + std::to_string(pointers[i].index) + " (" + address +
           ") is a host pointer: it is not inside any cudaMalloc or cudaMallocHost allocation, "
           "so the device cannot dereference it";
  }
  return {};
}

// Runs every block of a validated launch; returns the first fault.
Fault run_launch(const LaunchConfig& config, KernelBody body, void* state) {
  Job job;
  job.config = &config;
  job.body = body;
  job.state = state;
  job.blocks = 1ull * config.grid.x * config.grid.y * config.grid.z;
  job.schedule = schedule();
  counters().launches.fetch_add(1, std::memory_order_relaxed);

  std::lock_guard lock(launch_mutex());
  const std::uint64_t workers =
      std::min<std::uint64_t>(job.blocks, static_cast<std::uint64_t>(worker_threads()));
  if (workers <= 1) {
    run_blocks(job);
  } else {
    pool().run(job, static_cast<int>(workers - 1));
  }
  if (!job.failure.empty()) return Fault{cudaErrorLaunchFailure, std::move(job.failure)};
  return Fault{};
}

// The checks a launch gets before it is queued, as <<<>>> reports them.
cudaError_t check_launch(const LaunchConfig& config) {
  if (dynamic_smem != nullptr) {
    return fail(cudaErrorNotSupported, "launch of '" + kernel_name(config) +
                                           "' from device code: dynamic parallelism is not "
                                           "emulated");
  }
  cudaError_t error = cudaSuccess;
  if (std::string why = check_configuration(config, error); !why.empty()) {
    return fail(error, "launch of '" + kernel_name(config) + "' with grid " + dims(config.grid) +
                           ", block " + dims(config.block) + ": " + why);
  }
  return cudaSuccess;
}

}  // namespace

cudaError_t launch(const LaunchConfig& config, KernelBody body, void* state) {
  if (cudaError_t error = check_launch(config); error != cudaSuccess) return error;
  // The body refers to the caller's frame, so it runs now, after the stream's earlier work.
  if (cudaError_t error = synchronize_stream(config.stream); error != cudaSuccess) return error;
  Fault fault = run_launch(config, body, state);
  if (fault.error != cudaSuccess) return fail(fault.error, std::move(fault.detail));
  return cudaSuccess;
}

cudaError_t submit(const LaunchConfig& config, QueuedKernel* kernel,
                   const PointerArgument* pointers, unsigned count) {
  std::shared_ptr<QueuedKernel> owned(kernel);
  if (cudaError_t error = check_launch(config); error != cudaSuccess) return error;
  if (std::string why = check_pointers(pointers, count); !why.empty()) {
    return fail(cudaErrorIllegalAddress, "launch of '" + kernel_name(config) + "': " + why);
  }
  // An asynchronous error from earlier work is reported by the next launch, as the runtime does.
  if (cudaError_t error = take_fault(); error != cudaSuccess) return error;
  return enqueue(config.stream, [config, owned] {
    return run_launch(
        config, [](void* state) { static_cast<QueuedKernel*>(state)->run(); }, owned.get());
  });
}

}  // namespace ge::emu::detail
