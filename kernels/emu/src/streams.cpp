// Streams and events. Every operation completes before it returns, so stream order holds
// trivially and synchronisation has nothing to wait for; handles are still checked.
#include <chrono>
#include <mutex>
#include <unordered_set>

#include "runtime_state.h"

struct CUstream_st {
  unsigned flags = 0;
};

struct CUevent_st {
  unsigned flags = 0;
  bool recorded = false;
  std::chrono::steady_clock::time_point when;
};

namespace ge::emu {
namespace {

struct Handles {
  std::mutex mutex;
  std::unordered_set<const CUstream_st*> streams;
  std::unordered_set<const CUevent_st*> events;
};

Handles& handles() {
  static Handles instance;
  return instance;
}

bool is_valid_event(cudaEvent_t event) {
  auto& h = handles();
  std::lock_guard lock(h.mutex);
  return h.events.count(event) != 0;
}

}  // namespace

namespace detail {
bool is_valid_stream(cudaStream_t stream) {
  if (stream == nullptr || stream == cudaStreamLegacy || stream == cudaStreamPerThread) return true;
  auto& h = handles();
  std::lock_guard lock(h.mutex);
  return h.streams.count(stream) != 0;
}
}  // namespace detail

}  // namespace ge::emu

using ge::emu::detail::fail;
using ge::emu::detail::is_valid_stream;

extern "C" {

cudaError_t cudaStreamCreateWithFlags(cudaStream_t* pStream, unsigned int flags) {
  if (!pStream) return fail(cudaErrorInvalidValue, "cudaStreamCreate: null stream");
  if (flags & ~static_cast<unsigned>(cudaStreamNonBlocking)) {
    return fail(cudaErrorInvalidValue, "cudaStreamCreateWithFlags: unknown flags");
  }
  auto* stream = new CUstream_st{flags};
  auto& h = ge::emu::handles();
  std::lock_guard lock(h.mutex);
  h.streams.insert(stream);
  *pStream = stream;
  return cudaSuccess;
}

cudaError_t cudaStreamCreate(cudaStream_t* pStream) {
  return cudaStreamCreateWithFlags(pStream, cudaStreamDefault);
}

cudaError_t cudaStreamDestroy(cudaStream_t stream) {
  auto& h = ge::emu::handles();
  std::lock_guard lock(h.mutex);
  if (!h.streams.erase(stream)) {
    return fail(cudaErrorInvalidResourceHandle, "cudaStreamDestroy: unknown stream");
  }
  delete stream;
  return cudaSuccess;
}

cudaError_t cudaStreamSynchronize(cudaStream_t stream) {
  if (!is_valid_stream(stream)) {
    return fail(cudaErrorInvalidResourceHandle, "cudaStreamSynchronize: unknown stream");
  }
  return cudaSuccess;
}

cudaError_t cudaStreamQuery(cudaStream_t stream) {
  if (!is_valid_stream(stream)) {
    return fail(cudaErrorInvalidResourceHandle, "cudaStreamQuery: unknown stream");
  }
  return cudaSuccess;
}

cudaError_t cudaStreamWaitEvent(cudaStream_t stream, cudaEvent_t event, unsigned int) {
  if (!is_valid_stream(stream) || !ge::emu::is_valid_event(event)) {
    return fail(cudaErrorInvalidResourceHandle, "cudaStreamWaitEvent: unknown stream or event");
  }
  return cudaSuccess;
}

cudaError_t cudaEventCreateWithFlags(cudaEvent_t* event, unsigned int flags) {
  if (!event) return fail(cudaErrorInvalidValue, "cudaEventCreate: null event");
  constexpr unsigned known = cudaEventBlockingSync | cudaEventDisableTiming | cudaEventInterprocess;
  if (flags & ~known) return fail(cudaErrorInvalidValue, "cudaEventCreateWithFlags: unknown flags");
  auto* created = new CUevent_st{};
  created->flags = flags;
  auto& h = ge::emu::handles();
  std::lock_guard lock(h.mutex);
  h.events.insert(created);
  *event = created;
  return cudaSuccess;
}

cudaError_t cudaEventCreate(cudaEvent_t* event) {
  return cudaEventCreateWithFlags(event, cudaEventDefault);
}

cudaError_t cudaEventDestroy(cudaEvent_t event) {
  auto& h = ge::emu::handles();
  std::lock_guard lock(h.mutex);
  if (!h.events.erase(event)) {
    return fail(cudaErrorInvalidResourceHandle, "cudaEventDestroy: unknown event");
  }
  delete event;
  return cudaSuccess;
}

cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream) {
  if (!ge::emu::is_valid_event(event) || !is_valid_stream(stream)) {
    return fail(cudaErrorInvalidResourceHandle, "cudaEventRecord: unknown event or stream");
  }
  event->recorded = true;
  event->when = std::chrono::steady_clock::now();
  return cudaSuccess;
}

cudaError_t cudaEventSynchronize(cudaEvent_t event) {
  if (!ge::emu::is_valid_event(event)) {
    return fail(cudaErrorInvalidResourceHandle, "cudaEventSynchronize: unknown event");
  }
  return cudaSuccess;
}

cudaError_t cudaEventQuery(cudaEvent_t event) {
  if (!ge::emu::is_valid_event(event)) {
    return fail(cudaErrorInvalidResourceHandle, "cudaEventQuery: unknown event");
  }
  return cudaSuccess;
}

cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end) {
  if (!ms) return fail(cudaErrorInvalidValue, "cudaEventElapsedTime: null ms");
  if (!ge::emu::is_valid_event(start) || !ge::emu::is_valid_event(end)) {
    return fail(cudaErrorInvalidResourceHandle, "cudaEventElapsedTime: unknown event");
  }
  if ((start->flags | end->flags) & cudaEventDisableTiming) {
    return fail(cudaErrorInvalidResourceHandle,
                "cudaEventElapsedTime: event created with cudaEventDisableTiming");
  }
  if (!start->recorded || !end->recorded) {
    return fail(cudaErrorInvalidResourceHandle, "cudaEventElapsedTime: event was never recorded");
  }
  *ms = std::chrono::duration<float, std::milli>(end->when - start->when).count();
  return cudaSuccess;
}

}  // extern "C"
