#pragma once
// The CPU kernels' team: persistent worker threads that run the bodies of parallel regions
// (parallel.h). A waiting thread, worker or caller, spins for a while (GE_CPU_SPIN_US, default
// 5000 microseconds) before it sleeps, so the regions of a training step start and end without
// waking anyone, and an idle process costs nothing; this holds whatever OMP_WAIT_POLICY says,
// which under "passive" would put OpenMP's threads to sleep after every region.
namespace ge::kernels::cpu {

using TeamBody = void (*)(void* context, int thread, int team);

// Runs body(context, t, team) for every t < team: t = 0 on the calling thread, the others on the
// workers; returns when all have returned. A region started inside a body, or while another host
// thread's region runs, runs on the calling thread alone: body(context, 0, 1). Bodies must not
// throw.
void run_team(int team, TeamBody body, void* context);

// True on a thread that runs a region's body.
bool in_team();

}  // namespace ge::kernels::cpu
