// Streams and events, asynchronous as on a GPU: kernels, copies and cuBLAS calls are queued per
// stream and run, in stream order, only when the host synchronises with them (cudaStream-,
// cudaEvent-, cudaDeviceSynchronize, a copy into pageable host memory, a query). Work that the
// host never waits for does not run, so a missing synchronisation reads data not yet written.
// The legacy default stream orders itself against the blocking streams as the runtime does;
// events record a position in a stream that other streams and the host can wait for.
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <unordered_set>
#include <utility>
#include <vector>

#include "runtime_state.h"

namespace ge::emu::detail {
namespace {

// A position in a stream: its work up to and including sequence number `seq`.
struct Position {
  CUstream_st* stream = nullptr;
  std::uint64_t seq = 0;
};

struct Op {
  std::uint64_t seq = 0;
  std::vector<Position> after;  // other streams' work that must complete first
  Work work;
};

// What an event knows; shared with the queued records, which may outlive the event.
struct EventState {
  bool recorded = false;
  Position position;       // where the last cudaEventRecord placed it
  bool completed = false;  // the stream has run up to that position
  std::chrono::steady_clock::time_point when;
};

}  // namespace
}  // namespace ge::emu::detail

struct CUstream_st {
  unsigned flags = 0;
  bool legacy = false;
  std::deque<ge::emu::detail::Op> pending;
  std::uint64_t last = 0;  // sequence number of the newest queued work
  std::uint64_t done = 0;  // work up to this sequence number has run
};

struct CUevent_st {
  unsigned flags = 0;
  std::shared_ptr<ge::emu::detail::EventState> state =
      std::make_shared<ge::emu::detail::EventState>();
};

namespace ge::emu::detail {
namespace {

// One lock for every queue and handle. It is held while queued work runs, so work of all
// streams runs one piece at a time (a kernel still spreads its blocks over the worker pool).
struct Queues {
  std::recursive_mutex mutex;
  CUstream_st legacy{cudaStreamDefault, true, {}, 0, 0};
  CUstream_st per_thread{cudaStreamDefault, false, {}, 0, 0};
  std::unordered_set<CUstream_st*> streams;
  std::unordered_set<const CUevent_st*> events;
  // Destroyed streams are kept: queued waits and events may still name their positions.
  std::vector<CUstream_st*> destroyed;
  Fault fault;  // raised by deferred work, not yet reported
};

Queues& queues() {
  static Queues instance;
  return instance;
}

CUstream_st* resolve(cudaStream_t stream) {
  auto& q = queues();
  if (stream == nullptr || stream == cudaStreamLegacy) return &q.legacy;
  if (stream == cudaStreamPerThread) return &q.per_thread;
  return stream;
}

bool is_blocking(const CUstream_st* s) {
  return !s->legacy && (s->flags & cudaStreamNonBlocking) == 0;
}

// Runs the work of `s` up to and including `seq`, each piece after what it waits for.
void run_until(CUstream_st* s, std::uint64_t seq) {
  auto& q = queues();
  while (s->done < seq && !s->pending.empty()) {
    for (const Position& p : s->pending.front().after)
      run_until(p.stream, p.seq);
    Op op = std::move(s->pending.front());
    s->pending.pop_front();
    Fault fault = op.work();
    s->done = op.seq;
    if (fault.error != cudaSuccess && q.fault.error == cudaSuccess) q.fault = std::move(fault);
  }
}

void run_stream(CUstream_st* s) {
  run_until(s, s->last);
}

void run_all() {
  auto& q = queues();
  run_stream(&q.legacy);
  run_stream(&q.per_thread);
  // Draining one stream may drain others; the set itself does not change meanwhile.
  for (CUstream_st* s : q.streams)
    run_stream(s);
}

bool is_valid_event(cudaEvent_t event) {
  auto& q = queues();
  std::lock_guard lock(q.mutex);
  return q.events.count(event) != 0;
}

// Runs the work an event was recorded behind.
void run_to_event(cudaEvent_t event) {
  const EventState& e = *event->state;
  if (e.recorded && !e.completed) run_until(e.position.stream, e.position.seq);
}

}  // namespace

bool is_valid_stream(cudaStream_t stream) {
  if (stream == nullptr || stream == cudaStreamLegacy || stream == cudaStreamPerThread) return true;
  auto& q = queues();
  std::lock_guard lock(q.mutex);
  return q.streams.count(stream) != 0;
}

bool launch_blocking() {
  static const bool blocking = [] {
    const char* text = std::getenv("CUDA_LAUNCH_BLOCKING");
    return text != nullptr && std::strcmp(text, "1") == 0;
  }();
  return blocking;
}

cudaError_t take_fault() {
  auto& q = queues();
  std::lock_guard lock(q.mutex);
  if (q.fault.error == cudaSuccess) return cudaSuccess;
  Fault fault = std::exchange(q.fault, Fault{});
  return fail(fault.error, std::move(fault.detail));
}

cudaError_t enqueue(cudaStream_t stream, Work work) {
  auto& q = queues();
  std::lock_guard lock(q.mutex);
  CUstream_st* s = resolve(stream);
  Op op;
  op.seq = ++s->last;
  op.work = std::move(work);
  // The legacy default stream waits for every blocking stream, and they wait for it.
  if (s->legacy) {
    for (CUstream_st* other : {&q.per_thread}) {
      if (other->last > other->done) op.after.push_back({other, other->last});
    }
    for (CUstream_st* other : q.streams) {
      if (is_blocking(other) && other->last > other->done) op.after.push_back({other, other->last});
    }
  } else if (is_blocking(s) && q.legacy.last > q.legacy.done) {
    op.after.push_back({&q.legacy, q.legacy.last});
  }
  s->pending.push_back(std::move(op));
  if (!launch_blocking()) return cudaSuccess;
  run_stream(s);
  return take_fault();
}

cudaError_t synchronize_stream(cudaStream_t stream) {
  auto& q = queues();
  std::lock_guard lock(q.mutex);
  run_stream(resolve(stream));
  return take_fault();
}

cudaError_t synchronize_device() {
  auto& q = queues();
  std::lock_guard lock(q.mutex);
  run_all();
  return take_fault();
}

}  // namespace ge::emu::detail

using ge::emu::detail::fail;
using ge::emu::detail::is_valid_stream;

extern "C" {

cudaError_t cudaStreamCreateWithFlags(cudaStream_t* pStream, unsigned int flags) {
  if (!pStream) return fail(cudaErrorInvalidValue, "cudaStreamCreate: null stream");
  if (flags & ~static_cast<unsigned>(cudaStreamNonBlocking)) {
    return fail(cudaErrorInvalidValue, "cudaStreamCreateWithFlags: unknown flags");
  }
  auto* stream = new CUstream_st{};
  stream->flags = flags;
  auto& q = ge::emu::detail::queues();
  std::lock_guard lock(q.mutex);
  q.streams.insert(stream);
  *pStream = stream;
  return cudaSuccess;
}

cudaError_t cudaStreamCreate(cudaStream_t* pStream) {
  return cudaStreamCreateWithFlags(pStream, cudaStreamDefault);
}

// The runtime lets a stream's queued work finish after cudaStreamDestroy; here it runs first.
cudaError_t cudaStreamDestroy(cudaStream_t stream) {
  auto& q = ge::emu::detail::queues();
  std::lock_guard lock(q.mutex);
  if (!q.streams.count(stream)) {
    return fail(cudaErrorInvalidResourceHandle, "cudaStreamDestroy: unknown stream");
  }
  ge::emu::detail::run_stream(stream);
  q.streams.erase(stream);
  q.destroyed.push_back(stream);
  return cudaSuccess;
}

cudaError_t cudaStreamSynchronize(cudaStream_t stream) {
  if (!is_valid_stream(stream)) {
    return fail(cudaErrorInvalidResourceHandle, "cudaStreamSynchronize: unknown stream");
  }
  return ge::emu::detail::synchronize_stream(stream);
}

// A query completes the stream's work rather than answering cudaErrorNotReady, so that polling
// loops end; what it completes is exactly what a synchronisation would.
cudaError_t cudaStreamQuery(cudaStream_t stream) {
  if (!is_valid_stream(stream)) {
    return fail(cudaErrorInvalidResourceHandle, "cudaStreamQuery: unknown stream");
  }
  return ge::emu::detail::synchronize_stream(stream);
}

cudaError_t cudaStreamWaitEvent(cudaStream_t stream, cudaEvent_t event, unsigned int) {
  if (!is_valid_stream(stream) || !ge::emu::detail::is_valid_event(event)) {
    return fail(cudaErrorInvalidResourceHandle, "cudaStreamWaitEvent: unknown stream or event");
  }
  auto& q = ge::emu::detail::queues();
  std::lock_guard lock(q.mutex);
  if (!event->state->recorded) return cudaSuccess;  // a never-recorded event: nothing to wait for
  const ge::emu::detail::Position position = event->state->position;
  return ge::emu::detail::enqueue(stream, [position] {
    ge::emu::detail::run_until(position.stream, position.seq);
    return ge::emu::detail::Fault{};
  });
}

cudaError_t cudaEventCreateWithFlags(cudaEvent_t* event, unsigned int flags) {
  if (!event) return fail(cudaErrorInvalidValue, "cudaEventCreate: null event");
  constexpr unsigned known = cudaEventBlockingSync | cudaEventDisableTiming | cudaEventInterprocess;
  if (flags & ~known) return fail(cudaErrorInvalidValue, "cudaEventCreateWithFlags: unknown flags");
  auto* created = new CUevent_st{};
  created->flags = flags;
  auto& q = ge::emu::detail::queues();
  std::lock_guard lock(q.mutex);
  q.events.insert(created);
  *event = created;
  return cudaSuccess;
}

cudaError_t cudaEventCreate(cudaEvent_t* event) {
  return cudaEventCreateWithFlags(event, cudaEventDefault);
}

// A recorded event's work runs before the event goes away, as its completion would on a GPU.
cudaError_t cudaEventDestroy(cudaEvent_t event) {
  auto& q = ge::emu::detail::queues();
  std::lock_guard lock(q.mutex);
  if (!q.events.count(event)) {
    return fail(cudaErrorInvalidResourceHandle, "cudaEventDestroy: unknown event");
  }
  ge::emu::detail::run_to_event(event);
  q.events.erase(event);
  delete event;
  return cudaSuccess;
}

cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream) {
  if (!ge::emu::detail::is_valid_event(event) || !is_valid_stream(stream)) {
    return fail(cudaErrorInvalidResourceHandle, "cudaEventRecord: unknown event or stream");
  }
  auto& q = ge::emu::detail::queues();
  std::lock_guard lock(q.mutex);
  CUstream_st* s = ge::emu::detail::resolve(stream);
  const ge::emu::detail::Position position{s, s->last + 1};
  const auto state = event->state;
  state->recorded = true;
  state->completed = false;
  state->position = position;
  // The timestamp is taken when the stream reaches the record, as the GPU takes it. A record
  // overtaken by a later one of the same event completes nothing.
  return ge::emu::detail::enqueue(stream, [state, position] {
    if (state->position.stream == position.stream && state->position.seq == position.seq) {
      state->completed = true;
      state->when = std::chrono::steady_clock::now();
    }
    return ge::emu::detail::Fault{};
  });
}

cudaError_t cudaEventSynchronize(cudaEvent_t event) {
  if (!ge::emu::detail::is_valid_event(event)) {
    return fail(cudaErrorInvalidResourceHandle, "cudaEventSynchronize: unknown event");
  }
  auto& q = ge::emu::detail::queues();
  std::lock_guard lock(q.mutex);
  ge::emu::detail::run_to_event(event);
  return ge::emu::detail::take_fault();
}

// Like cudaStreamQuery, completes the work the event was recorded behind.
cudaError_t cudaEventQuery(cudaEvent_t event) {
  return cudaEventSynchronize(event);
}

cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end) {
  if (!ms) return fail(cudaErrorInvalidValue, "cudaEventElapsedTime: null ms");
  if (!ge::emu::detail::is_valid_event(start) || !ge::emu::detail::is_valid_event(end)) {
    return fail(cudaErrorInvalidResourceHandle, "cudaEventElapsedTime: unknown event");
  }
  auto& q = ge::emu::detail::queues();
  std::lock_guard lock(q.mutex);
  if ((start->flags | end->flags) & cudaEventDisableTiming) {
    return fail(cudaErrorInvalidResourceHandle,
                "cudaEventElapsedTime: event created with cudaEventDisableTiming");
  }
  const auto& first = *start->state;
  const auto& last = *end->state;
  if (!first.recorded || !last.recorded) {
    return fail(cudaErrorInvalidResourceHandle, "cudaEventElapsedTime: event was never recorded");
  }
  if (!first.completed || !last.completed) {
    return fail(cudaErrorNotReady,
                "cudaEventElapsedTime: the work before an event has not completed (synchronise "
                "with the events first)");
  }
  *ms = std::chrono::duration<float, std::milli>(last.when - first.when).count();
  return cudaSuccess;
}

}  // extern "C"
