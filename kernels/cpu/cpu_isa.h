#pragma once
// The instruction sets the CPU kernels choose between at run time: the portable scalar code
// (SSE2, every x86-64), AVX2 with FMA, and AVX-512. The library is compiled for the baseline;
// only the kernels written for a set carry its instructions.
#include <string>

namespace ge::kernels::cpu {

enum class CpuIsa { scalar, avx2, avx512 };

const char* isa_name(CpuIsa isa);
// True when this CPU and its OS run `isa` (AVX2: AVX2 and FMA; AVX-512: AVX-512F, with the
// register state saved by the OS).
bool isa_supported(CpuIsa isa);
// The widest set this machine supports.
CpuIsa detected_isa();
// The set the kernels use: the widest one unless lowered by the environment variable
// GE_CPU_ISA=scalar|avx2|avx512 (read at the first call) or by set_cpu_isa. Throws ge::Error for
// an unknown name or a set this CPU lacks: call it before parallel regions.
CpuIsa active_isa();
// Makes the kernels use `isa` from now on, in every thread; returns the set used before.
// Throws ge::Error if this CPU lacks it.
CpuIsa set_cpu_isa(CpuIsa isa);
// Parses "scalar", "avx2" or "avx512"; throws ge::Error naming `what` otherwise.
CpuIsa parse_isa(const std::string& name, const char* what);

}  // namespace ge::kernels::cpu
