// Registers per thread of each kernel, for the launch check a GPU makes: a block whose threads
// need more registers than an SM has fails with cudaErrorLaunchOutOfResources.
//
// The counts come from ptxas for sm_90 (bench/results/*-ptxas-sm90.md, turned into
// register_table.inc by kernels/emu/tools/register_table.py; a test keeps the two in sync). The
// emulator only knows a kernel by the name GE_LAUNCH gives it, so the table holds, per unqualified
// name, the largest count of its instantiations. Kernels outside the table (test kernels, new
// kernels before the table is regenerated) have no register check unless a count is declared for
// them with ge::emu::set_kernel_registers.
#include <cctype>
#include <mutex>
#include <string_view>
#include <unordered_map>

#include "ganengine/emu/emulator.h"
#include "runtime_state.h"

namespace ge::emu {
namespace {

struct TableEntry {
  const char* name;
  int registers;
};

constexpr TableEntry kTable[] = {
#include "register_table.inc"
};

struct Declared {
  std::mutex mutex;
  std::unordered_map<const void*, int> registers;
};

Declared& declared() {
  static Declared instance;
  return instance;
}

// "(conv2d_forward_kernel<Tile>)" or "ns::scale_kernel" -> the unqualified name without template
// arguments.
std::string_view base_name(std::string_view name) {
  while (!name.empty() && (name.front() == '(' || name.front() == ' '))
    name.remove_prefix(1);
  const std::size_t end = name.find_first_of("<()");
  if (end != std::string_view::npos) name = name.substr(0, end);
  const std::size_t colon = name.rfind("::");
  if (colon != std::string_view::npos) name.remove_prefix(colon + 2);
  while (!name.empty() && name.back() == ' ')
    name.remove_suffix(1);
  return name;
}

}  // namespace

void set_kernel_registers(const void* func, int registers) {
  auto& d = declared();
  std::lock_guard lock(d.mutex);
  if (registers <= 0) {
    d.registers.erase(func);
  } else {
    d.registers[func] = registers;
  }
}

int table_registers(const std::string& name) {
  const std::string_view key = base_name(name);
  for (const TableEntry& entry : kTable) {
    if (key == entry.name) return entry.registers;
  }
  return 0;
}

namespace detail {
int kernel_registers(const void* func, const char* name) {
  {
    auto& d = declared();
    std::lock_guard lock(d.mutex);
    if (const auto it = d.registers.find(func); it != d.registers.end()) return it->second;
  }
  return name ? table_registers(name) : 0;
}
}  // namespace detail

}  // namespace ge::emu
