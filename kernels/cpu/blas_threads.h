#pragma once
// OpenBLAS stays single-threaded in OpenMP builds.
//
// The CPU kernels multiply with their own GEMM (cpu/sgemm.h) over their OpenMP team; OpenBLAS
// serves the CUDA emulator's cuBLAS. In OpenMP builds it is made single-threaded for the whole
// process, once, when the library loads: two thread pools on one set of cores spin-wait for cores
// the other holds, which slowed training several-fold. Without OpenMP, OpenBLAS keeps its own
// threading. Nothing to call: blas_threads.cpp does it at load.
