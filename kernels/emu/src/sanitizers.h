#pragma once
// Sanitizer hooks for the fiber switches. TSan sees each CUDA thread as its own thread and learns
// happens-before only from the barriers, so a missing __syncthreads is reported as a race; the
// scheduler's own bookkeeping is hidden from it. ASan is told about every stack switch.
#include <cstddef>

#if defined(GE_TSAN)
extern "C" {
void* __tsan_get_current_fiber();
void* __tsan_create_fiber(unsigned flags);
void __tsan_destroy_fiber(void* fiber);
void __tsan_switch_to_fiber(void* fiber, unsigned flags);
void __tsan_acquire(void* addr);
void __tsan_release(void* addr);
void AnnotateIgnoreReadsBegin(const char* file, int line);
void AnnotateIgnoreReadsEnd(const char* file, int line);
void AnnotateIgnoreWritesBegin(const char* file, int line);
void AnnotateIgnoreWritesEnd(const char* file, int line);
}
#endif
#if defined(GE_ASAN)
extern "C" {
void __sanitizer_start_switch_fiber(void** fake_stack_save, const void* bottom, std::size_t size);
void __sanitizer_finish_switch_fiber(void* fake_stack_save, const void** bottom_old,
                                     std::size_t* size_old);
}
#endif

namespace ge::emu::detail::san {

#if defined(GE_TSAN)
inline constexpr unsigned kNoSync = 1;  // __tsan_switch_to_fiber_no_sync
inline void* current_fiber() {
  return __tsan_get_current_fiber();
}
inline void* create_fiber() {
  return __tsan_create_fiber(0);
}
inline void destroy_fiber(void* fiber) {
  if (fiber) __tsan_destroy_fiber(fiber);
}
inline void switch_to(void* fiber) {
  __tsan_switch_to_fiber(fiber, kNoSync);
}
inline void release(const void* sync) {
  __tsan_release(const_cast<void*>(sync));
}
inline void acquire(const void* sync) {
  __tsan_acquire(const_cast<void*>(sync));
}
inline void ignore_begin() {
  AnnotateIgnoreReadsBegin(__FILE__, __LINE__);
  AnnotateIgnoreWritesBegin(__FILE__, __LINE__);
}
inline void ignore_end() {
  AnnotateIgnoreWritesEnd(__FILE__, __LINE__);
  AnnotateIgnoreReadsEnd(__FILE__, __LINE__);
}
#else
inline void* current_fiber() {
  return nullptr;
}
inline void* create_fiber() {
  return nullptr;
}
inline void destroy_fiber(void*) {}
inline void switch_to(void*) {}
inline void release(const void*) {}
inline void acquire(const void*) {}
inline void ignore_begin() {}
inline void ignore_end() {}
#endif

#if defined(GE_ASAN)
inline void start_switch(void** fake_stack_save, const void* bottom, std::size_t size) {
  __sanitizer_start_switch_fiber(fake_stack_save, bottom, size);
}
inline void finish_switch(void* fake_stack_save, const void** bottom_old, std::size_t* size_old) {
  __sanitizer_finish_switch_fiber(fake_stack_save, bottom_old, size_old);
}
#else
inline void start_switch(void**, const void*, std::size_t) {}
inline void finish_switch(void*, const void**, std::size_t*) {}
#endif

// Scheduler code runs with its memory accesses hidden from TSan for the whole scope.
class IgnoreScope {
 public:
  IgnoreScope() { ignore_begin(); }
  IgnoreScope(const IgnoreScope&) = delete;
  IgnoreScope& operator=(const IgnoreScope&) = delete;
  ~IgnoreScope() { ignore_end(); }
};

}  // namespace ge::emu::detail::san
