#pragma once
// The size of the CPU kernels' OpenMP team, readable and settable from code built without
// OpenMP (tests, tools): a plain function boundary, so that no caller needs -fopenmp.
namespace ge::kernels::cpu {

// True when the kernels were built with OpenMP (GE_OPENMP=ON).
bool openmp_enabled();
// Threads a parallel region started from this thread would ask for; 1 without OpenMP.
int thread_count();
// Sets the team size for later parallel regions started from this thread (as
// omp_set_num_threads); ignored without OpenMP.
void set_thread_count(int threads);

}  // namespace ge::kernels::cpu
