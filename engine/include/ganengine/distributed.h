#pragma once
// ge::distributed: the process group of a data-parallel run and its collectives, named as
// torch.distributed names them.
//
// init_process_group() reads the launcher's environment:
// - under mpirun or srun (OpenMPI's OMPI_COMM_WORLD_SIZE, PMIx's PMIX_RANK, PMI's PMI_SIZE,
//   Slurm's SLURM_STEP_NUM_TASKS), it initialises MPI and the group is MPI_COMM_WORLD ("mpi");
//   the local rank is the rank among the processes on the same machine;
// - with torchrun's variables (WORLD_SIZE > 1, RANK, MASTER_ADDR, MASTER_PORT, LOCAL_RANK) and
//   no MPI launcher, rank 0 listens on MASTER_ADDR:MASTER_PORT and the others connect ("tcp":
//   collectives through rank 0, for bootstrapping NCCL and small CPU runs; waits are bounded by
//   GE_DIST_TIMEOUT seconds, default 300);
// - otherwise the group is this process alone ("single", world size 1).
//
// Collectives work in place on float32 tensors. On CPU tensors they are blocking, and all_reduce
// sums in rank order ((x0 + x1) + x2) + ... on every rank, whatever algorithm MPI picks, so each
// rank gets the same bits and a rerun gets them again. CUDA tensors go through NCCL on the
// device's engine stream (NCCL's order; every rank gets the same bits), or through host memory
// in builds without NCCL.
#include <functional>
#include <string>
#include <vector>

#include "ganengine/tensor.h"

namespace ge::distributed {

enum class ReduceOp { Sum, Avg };

// One process's part of a global batch: rows [index * n, (index + 1) * n) of count * n. A
// data-parallel process reads its shard of every batch (models::data::DataLoader) and keeps its
// rows of the random numbers drawn for the whole batch (nn::NoiseInjection), so that N
// processes compute what one process with the global batch would.
struct Shard {
  int index = 0;
  int count = 1;
};

// Rows [shard.index * n, (shard.index + 1) * n) of draw(n * shard.count): a batch-shaped random
// draw made for the whole global batch; draw(n) itself for a shard of one.
Tensor shard_rows(const Shard& shard, int64_t n, const std::function<Tensor(int64_t)>& draw);

// Starts the default group from the launcher's environment (see above). Throws ge::Error when
// the environment asks for more than one process and this build cannot provide them. Calling it
// again is a no-op.
void init_process_group();
bool is_initialized();
// Ends the group (MPI_Finalize under MPI): call it on every rank after the last collective.
// is_initialized() is false after; a later init_process_group() throws under MPI.
void destroy_process_group();

// "mpi", "tcp" or "single" (one process); throws when no group is initialised.
std::string get_backend();
// What moves tensors of `device`: "nccl" for CUDA tensors of a group of several processes in
// builds with NCCL (the emulator's runs over MPI, so not under "tcp"), else get_backend() (CUDA
// tensors then go through host memory).
std::string get_backend(Device device);
int get_rank();
int get_world_size();
int get_local_rank();  // the rank among this machine's processes: which GPU to drive
// True when this build can start MPI process groups.
bool is_mpi_available();

// Every rank's `tensor` becomes the sum (or the mean) of all ranks' tensors.
void all_reduce(Tensor& tensor, ReduceOp op = ReduceOp::Sum);
// The same over several tensors in one collective: they are packed into one buffer, reduced and
// unpacked, as DDP's gradient buckets are.
void all_reduce_coalesced(const std::vector<Tensor>& tensors, ReduceOp op = ReduceOp::Sum);
// Every rank's `tensor` becomes rank `src`'s.
void broadcast(Tensor& tensor, int src = 0);
// Returns every rank's `tensor` in rank order; shapes must match across ranks.
std::vector<Tensor> all_gather(const Tensor& tensor);
void barrier();

// The sum over ranks as a differentiable op (torch.distributed.nn.functional.all_reduce): returns
// a new tensor; its backward all-reduces the gradient the same way, to any order. Every rank
// must run the same forward and backward, as with any collective.
Tensor all_reduce_sum(const Tensor& tensor);

}  // namespace ge::distributed
