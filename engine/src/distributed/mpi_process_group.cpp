// ge::distributed's MPI backend. all_reduce is a reduce-scatter by all-to-all, a sum in rank
// order of each chunk by its owner, and an all-gather: the same bits on every rank and in every
// run, whatever algorithms the MPI library picks, for about the traffic of a ring all-reduce.
// The C API only: no MPI C++ bindings (removed from the standard, and a link dependency).
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>

#include <algorithm>
#include <climits>
#include <vector>

#include "distributed/process_group.h"
#include "ganengine/error.h"

namespace ge::distributed::detail {
namespace {

// Elements per collective call: MPI counts and displacements are int.
constexpr int64_t kSegment = int64_t{1} << 28;

void check(int code, const char* what) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  fail("ge::distributed: ", what, " failed: ", std::string(text, static_cast<size_t>(length)));
}

class MpiProcessGroup final : public ProcessGroup {
 public:
  MpiProcessGroup() {
    int finalized = 0;
    MPI_Finalized(&finalized);
    GE_CHECK(!finalized,
             "init_process_group: MPI was finalized by an earlier destroy_process_group(); MPI "
             "starts once per process");
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (!initialized) {
      int provided = 0;
      check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
      owns_mpi_ = true;
    }
    check(MPI_Comm_dup(MPI_COMM_WORLD, &comm_), "MPI_Comm_dup");
    // Errors come back as codes and become ge::Error; the process then exits without
    // MPI_Finalize and the launcher stops the other ranks.
    MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
    MPI_Comm_rank(comm_, &world_.rank);
    MPI_Comm_size(comm_, &world_.size);
    MPI_Comm node;
    check(MPI_Comm_split_type(comm_, MPI_COMM_TYPE_SHARED, world_.rank, MPI_INFO_NULL, &node),
          "MPI_Comm_split_type");
    MPI_Comm_rank(node, &world_.local_rank);
    MPI_Comm_free(&node);
  }

  ~MpiProcessGroup() override {
    MPI_Comm_free(&comm_);
    if (owns_mpi_) MPI_Finalize();
  }

  std::string backend() const override { return "mpi"; }
  World world() const override { return world_; }

  void all_reduce_sum(float* data, int64_t count) override {
    const int n = world_.size;
    for (int64_t start = 0; start < count; start += kSegment) {
      const int64_t len = std::min(kSegment, count - start);
      float* seg = data + start;
      // Rank r owns chunk r: [offset[r], offset[r] + counts[r]).
      std::vector<int> counts(n), offsets(n);
      for (int r = 0; r < n; ++r) {
        offsets[r] = static_cast<int>(len * r / n);
        counts[r] = static_cast<int>(len * (r + 1) / n) - offsets[r];
      }
      const int mine = counts[world_.rank];
      // Every rank's copy of my chunk, rank after rank.
      gathered_.resize(static_cast<size_t>(mine) * n);
      std::vector<int> recv_counts(n, mine), recv_offsets(n);
      for (int r = 0; r < n; ++r)
        recv_offsets[r] = r * mine;
      check(MPI_Alltoallv(seg, counts.data(), offsets.data(), MPI_FLOAT, gathered_.data(),
                          recv_counts.data(), recv_offsets.data(), MPI_FLOAT, comm_),
            "all_reduce (MPI_Alltoallv)");
      float* out = seg + offsets[world_.rank];
      std::copy_n(gathered_.data(), mine, out);
      for (int r = 1; r < n; ++r) {
        const float* part = gathered_.data() + static_cast<size_t>(r) * mine;
        for (int i = 0; i < mine; ++i)
          out[i] += part[i];
      }
      check(MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, seg, counts.data(), offsets.data(),
                           MPI_FLOAT, comm_),
            "all_reduce (MPI_Allgatherv)");
    }
  }

  void broadcast(float* data, int64_t count, int src) override {
    for (int64_t start = 0; start < count; start += kSegment)
      check(MPI_Bcast(data + start, static_cast<int>(std::min(kSegment, count - start)), MPI_FLOAT,
                      src, comm_),
            "broadcast (MPI_Bcast)");
  }

  void broadcast_bytes(void* data, int64_t bytes, int src) override {
    GE_CHECK(bytes <= INT_MAX, "broadcast: at most ", INT_MAX, " bytes, got ", bytes);
    check(MPI_Bcast(data, static_cast<int>(bytes), MPI_BYTE, src, comm_), "broadcast (MPI_Bcast)");
  }

  void all_gather(const float* in, float* out, int64_t count) override {
    GE_CHECK(count <= INT_MAX, "all_gather: at most ", INT_MAX, " elements per rank, got ", count);
    check(MPI_Allgather(in, static_cast<int>(count), MPI_FLOAT, out, static_cast<int>(count),
                        MPI_FLOAT, comm_),
          "all_gather (MPI_Allgather)");
  }

  std::vector<int64_t> all_gather_int(int64_t value) override {
    std::vector<int64_t> all(world_.size);
    check(MPI_Allgather(&value, 1, MPI_INT64_T, all.data(), 1, MPI_INT64_T, comm_),
          "all_gather (MPI_Allgather)");
    return all;
  }

  void barrier() override { check(MPI_Barrier(comm_), "barrier (MPI_Barrier)"); }

 private:
  MPI_Comm comm_ = MPI_COMM_NULL;
  World world_;
  bool owns_mpi_ = false;
  std::vector<float> gathered_;
};

}  // namespace

std::unique_ptr<ProcessGroup> make_mpi_group() {
  return std::make_unique<MpiProcessGroup>();
}

bool mpi_available() {
  return true;
}

}  // namespace ge::distributed::detail
