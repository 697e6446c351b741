# Build options shared by every target.
include(GNUInstallDirs)
set(GE_CUDA_MODE "emulator" CACHE STRING
    "The CUDA backend: 'emulator' (.cu sources built by the host compiler against the CUDA emulator), 'nvcc' (real GPU) or 'off' (CPU only, no CUDA Toolkit needed)")
set_property(CACHE GE_CUDA_MODE PROPERTY STRINGS emulator nvcc off)
if(NOT GE_CUDA_MODE MATCHES "^(emulator|nvcc|off)$")
  message(FATAL_ERROR "GE_CUDA_MODE must be 'emulator', 'nvcc' or 'off', got '${GE_CUDA_MODE}'")
endif()
option(GE_BUILD_TESTS "Build the GoogleTest suites" ON)
option(GE_BUILD_BENCH "Build the Google Benchmark binary" ON)
set(GE_SANITIZE "" CACHE STRING "Sanitizers: '', 'address;undefined' or 'thread'")
option(GE_WARNINGS_AS_ERRORS "Treat compiler warnings as errors" OFF)
# libFuzzer targets for the parsers of outside input (clang only; see scripts/fuzz.sh).
option(GE_FUZZ "Build the libFuzzer targets in fuzz/" OFF)
# OFF under ThreadSanitizer: libgomp is not instrumented, so its barriers look like races.
option(GE_OPENMP "Thread the CPU kernels with OpenMP" ON)
# ge::distributed's MPI backend (process groups under mpirun/srun, CPU collectives): 'auto' uses
# MPI when CMake finds it, 'on' requires it, 'off' builds the single-process group only.
set(GE_MPI "auto" CACHE STRING "MPI for ge::distributed: 'auto', 'on' or 'off'")
set_property(CACHE GE_MPI PROPERTY STRINGS auto on off)
if(NOT GE_MPI MATCHES "^(auto|on|off)$")
  message(FATAL_ERROR "GE_MPI must be 'auto', 'on' or 'off', got '${GE_MPI}'")
endif()

# Warnings and sanitizers for the project's own targets (not for consumers).
add_library(ganengine_build_flags INTERFACE)
target_compile_options(ganengine_build_flags INTERFACE
  $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra>
  $<$<AND:$<COMPILE_LANGUAGE:CXX>,$<BOOL:${GE_WARNINGS_AS_ERRORS}>>:-Werror>
  $<$<COMPILE_LANGUAGE:CUDA>:-Xcompiler=-Wall,-Wextra --expt-relaxed-constexpr>
  $<$<AND:$<COMPILE_LANGUAGE:CUDA>,$<BOOL:${GE_WARNINGS_AS_ERRORS}>>:-Werror=all-warnings>)
if(GE_SANITIZE)
  list(JOIN GE_SANITIZE "," _ge_san)
  target_compile_options(ganengine_build_flags INTERFACE
    $<$<COMPILE_LANGUAGE:CXX>:-fsanitize=${_ge_san} -fno-omit-frame-pointer -fno-sanitize-recover=undefined>)
  target_link_options(ganengine_build_flags INTERFACE -fsanitize=${_ge_san})
  if("thread" IN_LIST GE_SANITIZE)
    target_compile_definitions(ganengine_build_flags INTERFACE GE_TSAN=1)
  endif()
  if("address" IN_LIST GE_SANITIZE)
    target_compile_definitions(ganengine_build_flags INTERFACE GE_ASAN=1)
  endif()
endif()
