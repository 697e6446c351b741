// The NCCL calls the engine makes, for emulated devices in separate processes: one emulated GPU
// per MPI process, the communicator a duplicate of MPI_COMM_WORLD. A collective waits for the
// work already on its stream, then runs at once over MPI on the buffers (emulated device memory
// is host memory): every process reaches its collectives in program order, as its stream would
// on a GPU, so no process waits on work another has left queued.
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <cuda_runtime_api.h>
#include <mpi.h>
#include <nccl.h>

#include <climits>
#include <cstdio>
#include <cstring>

struct ncclComm {
  MPI_Comm comm = MPI_COMM_NULL;
  int rank = 0;
  int nranks = 1;
};

namespace {

// "ge-emu-nccl" and a counter: the id only has to be the same on every rank, which the caller
// arranges by broadcasting it.
constexpr char kIdTag[] = "ge-emu-nccl";

bool mpi_ready() {
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  return initialized && !finalized;
}

ncclResult_t report(ncclResult_t result, const char* what) {
  if (result != ncclSuccess) std::fprintf(stderr, "CUDA emulator: NCCL %s\n", what);
  return result;
}

// The stream's queued work first, as on a GPU, where the collective runs after it.
ncclResult_t drain(cudaStream_t stream) {
  return cudaStreamSynchronize(stream) == cudaSuccess ? ncclSuccess : ncclUnhandledCudaError;
}

ncclResult_t check_float(ncclDataType_t type, size_t count, ncclComm_t comm) {
  if (comm == nullptr) return report(ncclInvalidArgument, "called with a null communicator");
  if (type != ncclFloat32)
    return report(ncclInvalidArgument, "is emulated for ncclFloat32 buffers only");
  if (count > static_cast<size_t>(INT_MAX))
    return report(ncclInvalidArgument, "is emulated for at most INT_MAX elements per call");
  return ncclSuccess;
}

ncclResult_t mpi(int code) {
  return code == MPI_SUCCESS ? ncclSuccess : report(ncclSystemError, "MPI call failed");
}

}  // namespace

extern "C" {

ncclResult_t ncclGetUniqueId(ncclUniqueId* id) {
  if (id == nullptr) return ncclInvalidArgument;
  static int counter = 0;
  std::memset(id->internal, 0, sizeof id->internal);
  std::memcpy(id->internal, kIdTag, sizeof kIdTag);
  std::memcpy(id->internal + sizeof kIdTag, &++counter, sizeof counter);
  return ncclSuccess;
}

ncclResult_t ncclCommInitRank(ncclComm_t* comm, int nranks, ncclUniqueId id, int rank) {
  if (comm == nullptr) return ncclInvalidArgument;
  if (std::memcmp(id.internal, kIdTag, sizeof kIdTag) != 0)
    return report(ncclInvalidArgument, "ncclCommInitRank: the id is not ncclGetUniqueId's");
  if (!mpi_ready())
    return report(ncclInvalidUsage, "needs MPI: the emulated GPUs of the ranks talk over it");
  int world_rank = 0, world_size = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &world_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &world_size);
  if (nranks != world_size || rank != world_rank)
    return report(ncclInvalidUsage,
                  "ncclCommInitRank: one emulated GPU per MPI process, rank and size as MPI's");
  auto* c = new ncclComm;
  c->rank = rank;
  c->nranks = nranks;
  if (MPI_Comm_dup(MPI_COMM_WORLD, &c->comm) != MPI_SUCCESS) {
    delete c;
    return report(ncclSystemError, "ncclCommInitRank: MPI_Comm_dup failed");
  }
  *comm = c;
  return ncclSuccess;
}

ncclResult_t ncclCommDestroy(ncclComm_t comm) {
  if (comm == nullptr) return ncclSuccess;
  if (mpi_ready()) MPI_Comm_free(&comm->comm);
  delete comm;
  return ncclSuccess;
}

ncclResult_t ncclCommCount(const ncclComm_t comm, int* count) {
  if (comm == nullptr || count == nullptr) return ncclInvalidArgument;
  *count = comm->nranks;
  return ncclSuccess;
}

ncclResult_t ncclCommUserRank(const ncclComm_t comm, int* rank) {
  if (comm == nullptr || rank == nullptr) return ncclInvalidArgument;
  *rank = comm->rank;
  return ncclSuccess;
}

const char* ncclGetErrorString(ncclResult_t result) {
  switch (result) {
    case ncclSuccess:
      return "no error";
    case ncclUnhandledCudaError:
      return "unhandled cuda error (the emulated stream failed)";
    case ncclSystemError:
      return "unhandled system error (an MPI call failed)";
    case ncclInvalidArgument:
      return "invalid argument";
    case ncclInvalidUsage:
      return "invalid usage";
    default:
      return "internal error";
  }
}

ncclResult_t ncclGroupStart() {
  return ncclSuccess;
}

ncclResult_t ncclGroupEnd() {
  return ncclSuccess;
}

ncclResult_t ncclAllReduce(const void* sendbuff, void* recvbuff, size_t count,
                           ncclDataType_t datatype, ncclRedOp_t op, ncclComm_t comm,
                           cudaStream_t stream) {
  if (ncclResult_t r = check_float(datatype, count, comm); r != ncclSuccess) return r;
  if (op != ncclSum) return report(ncclInvalidArgument, "ncclAllReduce is emulated for ncclSum");
  if (ncclResult_t r = drain(stream); r != ncclSuccess) return r;
  const void* in = sendbuff == recvbuff ? MPI_IN_PLACE : sendbuff;
  return mpi(MPI_Allreduce(in, recvbuff, static_cast<int>(count), MPI_FLOAT, MPI_SUM, comm->comm));
}

ncclResult_t ncclBroadcast(const void* sendbuff, void* recvbuff, size_t count,
                           ncclDataType_t datatype, int root, ncclComm_t comm,
                           cudaStream_t stream) {
  if (ncclResult_t r = check_float(datatype, count, comm); r != ncclSuccess) return r;
  if (root < 0 || root >= comm->nranks) return report(ncclInvalidArgument, "bad broadcast root");
  if (ncclResult_t r = drain(stream); r != ncclSuccess) return r;
  if (comm->rank == root && sendbuff != recvbuff)
    std::memcpy(recvbuff, sendbuff, count * sizeof(float));
  return mpi(MPI_Bcast(recvbuff, static_cast<int>(count), MPI_FLOAT, root, comm->comm));
}

ncclResult_t ncclAllGather(const void* sendbuff, void* recvbuff, size_t sendcount,
                           ncclDataType_t datatype, ncclComm_t comm, cudaStream_t stream) {
  if (ncclResult_t r = check_float(datatype, sendcount, comm); r != ncclSuccess) return r;
  if (ncclResult_t r = drain(stream); r != ncclSuccess) return r;
  const int n = static_cast<int>(sendcount);
  // In place when sendbuff is this rank's slot of recvbuff, as NCCL allows.
  const bool in_place =
      sendbuff == static_cast<const char*>(recvbuff) + sizeof(float) * sendcount * comm->rank;
  return mpi(MPI_Allgather(in_place ? MPI_IN_PLACE : sendbuff, n, MPI_FLOAT, recvbuff, n, MPI_FLOAT,
                           comm->comm));
}

}  // extern "C"
