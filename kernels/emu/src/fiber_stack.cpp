#include "fiber_stack.h"

#include <sys/mman.h>
#include <unistd.h>

#include <new>

namespace ge::emu::detail {
namespace {

std::size_t page_size() {
  static const std::size_t size = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  return size;
}

}  // namespace

boost::context::stack_context GuardedStackAllocator::allocate() {
  const std::size_t page = page_size();
  const std::size_t usable = (size_ + page - 1) / page * page;
  const std::size_t total = usable + page;
  void* base = ::mmap(nullptr, total, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (base == MAP_FAILED) throw std::bad_alloc();
  ::mprotect(base, page, PROT_NONE);
  boost::context::stack_context stack;
  stack.size = total;
  stack.sp = static_cast<char*>(base) + total;
  if (placed_) *placed_ = FiberStack{static_cast<char*>(base) + page, usable};
  return stack;
}

void GuardedStackAllocator::deallocate(boost::context::stack_context& stack) noexcept {
  void* base = static_cast<char*>(stack.sp) - stack.size;
  ::munmap(base, stack.size);
}

}  // namespace ge::emu::detail
