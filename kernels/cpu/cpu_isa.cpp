#include "cpu/cpu_isa.h"

#include <atomic>
#include <cstdlib>

#include "ganengine/error.h"

namespace ge::kernels::cpu {
namespace {

constexpr int kUnset = -1;
std::atomic<int> chosen{kUnset};

void check_supported(CpuIsa isa, const char* what) {
  GE_CHECK(isa_supported(isa), what, ": this CPU does not support ", isa_name(isa),
           " (the widest it supports is ", isa_name(detected_isa()), ")");
}

}  // namespace

const char* isa_name(CpuIsa isa) {
  switch (isa) {
    case CpuIsa::scalar:
      return "scalar";
    case CpuIsa::avx2:
      return "avx2";
    case CpuIsa::avx512:
      return "avx512";
  }
  return "?";
}

bool isa_supported(CpuIsa isa) {
  // libgcc's feature bits include the OS's XSAVE support of the ymm and zmm registers.
  switch (isa) {
    case CpuIsa::scalar:
      return true;
    case CpuIsa::avx2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case CpuIsa::avx512:
      return __builtin_cpu_supports("avx512f") && isa_supported(CpuIsa::avx2);
  }
  return false;
}

CpuIsa detected_isa() {
  if (isa_supported(CpuIsa::avx512)) return CpuIsa::avx512;
  if (isa_supported(CpuIsa::avx2)) return CpuIsa::avx2;
  return CpuIsa::scalar;
}

CpuIsa parse_isa(const std::string& name, const char* what) {
  for (CpuIsa isa : {CpuIsa::scalar, CpuIsa::avx2, CpuIsa::avx512}) {
    if (name == isa_name(isa)) return isa;
  }
  fail(what, ": expected scalar, avx2 or avx512, got '", name, "'");
}

CpuIsa active_isa() {
  int isa = chosen.load(std::memory_order_relaxed);
  if (isa != kUnset) return static_cast<CpuIsa>(isa);
  CpuIsa wanted = detected_isa();
  if (const char* env = std::getenv("GE_CPU_ISA"); env != nullptr && *env != '\0') {
    wanted = parse_isa(env, "GE_CPU_ISA");
    check_supported(wanted, "GE_CPU_ISA");
  }
  isa = kUnset;
  chosen.compare_exchange_strong(isa, static_cast<int>(wanted), std::memory_order_relaxed);
  return static_cast<CpuIsa>(chosen.load(std::memory_order_relaxed));
}

CpuIsa set_cpu_isa(CpuIsa isa) {
  check_supported(isa, "set_cpu_isa");
  const CpuIsa before = active_isa();
  chosen.store(static_cast<int>(isa), std::memory_order_relaxed);
  return before;
}

}  // namespace ge::kernels::cpu
