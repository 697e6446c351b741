#pragma once
// The backends behind ge::distributed's free functions: each moves host float32 buffers.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace ge::distributed::detail {

struct World {
  int rank = 0;
  int size = 1;
  int local_rank = 0;
};

class ProcessGroup {
 public:
  virtual ~ProcessGroup() = default;
  virtual std::string backend() const = 0;
  virtual World world() const = 0;
  // In place: every rank's data[0, count) becomes the sum over ranks, added in rank order.
  virtual void all_reduce_sum(float* data, int64_t count) = 0;
  virtual void broadcast(float* data, int64_t count, int src) = 0;
  virtual void broadcast_bytes(void* data, int64_t bytes, int src) = 0;
  // out holds size() * count values: rank r's `in` at out + r * count.
  virtual void all_gather(const float* in, float* out, int64_t count) = 0;
  // Every rank's `value` as a vector (for checking that ranks agree on shapes).
  virtual std::vector<int64_t> all_gather_int(int64_t value) = 0;
  virtual void barrier() = 0;
};

// The MPI group over MPI_COMM_WORLD, initialising MPI when nobody has; throws ge::Error in builds
// without MPI (mpi_absent.cpp).
std::unique_ptr<ProcessGroup> make_mpi_group();
// The TCP group of torchrun's variables (tcp_process_group.cpp): rank 0 listens on host:port.
std::unique_ptr<ProcessGroup> make_tcp_group(const World& world, const std::string& host, int port);
bool mpi_available();

}  // namespace ge::distributed::detail
