#pragma once
// Stacks of the fibers that run CUDA threads: mmap'd with a guard page below, so a kernel that
// overflows its stack faults instead of corrupting a neighbour's.
#include <boost/context/stack_context.hpp>

#include <cstddef>

namespace ge::emu::detail {

struct FiberStack {
  const void* bottom = nullptr;
  std::size_t size = 0;
};

class GuardedStackAllocator {
 public:
  // `placed` learns where the stack is, for ASan's switch annotations.
  GuardedStackAllocator(std::size_t size, FiberStack* placed) : size_(size), placed_(placed) {}
  boost::context::stack_context allocate();
  void deallocate(boost::context::stack_context& stack) noexcept;

 private:
  std::size_t size_;
  FiberStack* placed_;
};

}  // namespace ge::emu::detail
