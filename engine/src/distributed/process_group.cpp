// ge::distributed's default group and its collectives on tensors (see distributed.h).
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "distributed/device_collectives.h"
#include "distributed/process_group.h"
#include "ganengine/autograd.h"
#include "ganengine/autograd_function.h"
#include "ganengine/distributed.h"
#include "ganengine/error.h"
#include "ganengine/ops.h"

namespace ge::distributed {
namespace detail {
namespace {

// The group of one process: every collective leaves its input as it is.
class SingleProcessGroup final : public ProcessGroup {
 public:
  std::string backend() const override { return "single"; }
  World world() const override { return {}; }
  void all_reduce_sum(float*, int64_t) override {}
  void broadcast(float*, int64_t, int) override {}
  void broadcast_bytes(void*, int64_t, int) override {}
  void all_gather(const float* in, float* out, int64_t count) override {
    std::memcpy(out, in, static_cast<size_t>(count) * sizeof(float));
  }
  std::vector<int64_t> all_gather_int(int64_t value) override { return {value}; }
  void barrier() override {}
};

// An integer environment variable, or -1 when unset.
int env_int(const char* name) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return -1;
  char* end = nullptr;
  const long value = std::strtol(text, &end, 10);
  GE_CHECK(*end == '\0' && value >= 0 && value <= 1 << 24, "init_process_group: expected ", name,
           " to be a non-negative integer, got '", text, "'");
  return static_cast<int>(value);
}

// The world size an MPI launcher announces (mpirun, mpiexec, srun), or -1 under none.
int launcher_world_size() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "SLURM_STEP_NUM_TASKS"})
    if (const int n = env_int(name); n >= 0) return n;
  return std::getenv("PMIX_RANK") != nullptr ? 0 : -1;  // 0: a PMIx launcher, size from MPI
}

std::unique_ptr<ProcessGroup> make_group() {
  const int launched = launcher_world_size();
  // Under a launcher, MPI even for one process (CUDA tensors then go through NCCL, as with more).
  if (launched > 1 || launched == 0 || (launched == 1 && mpi_available())) {
    std::unique_ptr<ProcessGroup> group = make_mpi_group();
    GE_CHECK(launched == 0 || group->world().size == launched, "init_process_group: the launcher ",
             "started ", launched, " processes, but MPI sees ", group->world().size,
             ": was ganengine built against the MPI library of this mpirun?");
    return group;
  }
  // torchrun's variables: a TCP rendezvous at MASTER_ADDR:MASTER_PORT.
  const int size = env_int("WORLD_SIZE");
  if (size <= 1) return std::make_unique<SingleProcessGroup>();
  const int rank = env_int("RANK");
  const int port = env_int("MASTER_PORT");
  const char* host = std::getenv("MASTER_ADDR");
  GE_CHECK(rank >= 0 && rank < size, "init_process_group: WORLD_SIZE=", size,
           " expects RANK in [0, ", size, "), got ", rank < 0 ? "none" : std::to_string(rank));
  GE_CHECK(host != nullptr && *host != '\0' && port > 0 && port < 65536,
           "init_process_group: WORLD_SIZE=", size, " expects MASTER_ADDR and MASTER_PORT (rank ",
           "0's address and a free port), as torchrun sets them; or launch with mpirun -np ", size);
  World world;
  world.rank = rank;
  world.size = size;
  const int local = env_int("LOCAL_RANK");
  world.local_rank = local >= 0 ? local : rank;
  return make_tcp_group(world, host, port);
}

std::mutex mutex;
std::unique_ptr<ProcessGroup> group;
// NCCL per CUDA device index, made by the first collective on that device; a null entry: this
// build has no NCCL.
std::map<int, std::unique_ptr<DeviceCollectives>> device_collectives;
bool ended_mpi = false;

ProcessGroup& current(const char* op) {
  GE_CHECK(group != nullptr, op, ": no process group; call ge::distributed::init_process_group() ",
           "first");
  return *group;
}

// NCCL for `t`'s device when `t` is a CUDA tensor of an MPI group and the build has NCCL;
// nullptr: the collective goes through host memory.
DeviceCollectives* on_device(const Tensor& t) {
  // The emulator's NCCL runs over MPI; a real GPU's over its own transport.
  const std::string backend = group->backend();
  if (!t.device().is_cuda() || backend == "single" || (backend == "tcp" && cuda_is_emulated()))
    return nullptr;
  auto it = device_collectives.find(t.device().index);
  if (it == device_collectives.end())
    it = device_collectives.emplace(t.device().index, make_nccl(*group, t.device())).first;
  return it->second.get();
}

void check_float32(const Tensor& t, const char* op) {
  GE_CHECK(t.defined(), op, ": expected a tensor, got an undefined one");
  GE_CHECK(t.dtype() == Dtype::Float32, op, ": expected a float32 tensor, got ", name(t.dtype()));
}

// The values a collective moves, contiguous where it reads them (on the device for NCCL, on the
// host otherwise): `t` itself when it already is, else a copy that finish() writes back.
class Buffer {
 public:
  Buffer(const Tensor& t, bool on_device) : tensor_(t) {
    NoGradGuard no_grad;
    values_ = on_device ? t.detach().contiguous() : t.detach().cpu().contiguous();
    in_place_ = values_.data_ptr() == t.data_ptr() && values_.device() == t.device();
  }
  float* data() const { return values_.data_ptr(); }
  int64_t count() const { return values_.numel(); }
  // x (1 / world size): ReduceOp::Avg after the sum.
  void scale(float factor) {
    NoGradGuard no_grad;
    values_.mul_(factor);
  }
  void finish() {
    if (in_place_) return;
    NoGradGuard no_grad;
    tensor_.copy_(values_);
  }

 private:
  Tensor tensor_;
  Tensor values_;
  bool in_place_ = false;
};

}  // namespace
}  // namespace detail

void init_process_group() {
  std::lock_guard<std::mutex> lock(detail::mutex);
  if (detail::group) return;
  GE_CHECK(!detail::ended_mpi, "init_process_group: MPI was finalized by an earlier ",
           "destroy_process_group(); MPI starts once per process");
  detail::group = detail::make_group();
}

bool is_initialized() {
  std::lock_guard<std::mutex> lock(detail::mutex);
  return detail::group != nullptr;
}

void destroy_process_group() {
  std::lock_guard<std::mutex> lock(detail::mutex);
  if (detail::group && detail::group->backend() == "mpi") detail::ended_mpi = true;
  detail::device_collectives.clear();  // the communicators go before MPI does
  detail::group.reset();
}

std::string get_backend() {
  return detail::current("get_backend").backend();
}

std::string get_backend(Device device) {
  const std::string backend = detail::current("get_backend").backend();
  const bool nccl = device.is_cuda() && detail::nccl_available() &&
                    (backend == "mpi" || (backend == "tcp" && !cuda_is_emulated()));
  return nccl ? "nccl" : backend;
}

int get_rank() {
  return detail::current("get_rank").world().rank;
}

int get_world_size() {
  return detail::current("get_world_size").world().size;
}

int get_local_rank() {
  return detail::current("get_local_rank").world().local_rank;
}

bool is_mpi_available() {
  return detail::mpi_available();
}

void all_reduce(Tensor& tensor, ReduceOp op) {
  detail::ProcessGroup& g = detail::current("all_reduce");
  detail::check_float32(tensor, "all_reduce");
  detail::DeviceCollectives* nccl = detail::on_device(tensor);
  detail::Buffer values(tensor, nccl != nullptr);
  if (nccl) {
    nccl->all_reduce_sum(values.data(), values.count());
  } else {
    g.all_reduce_sum(values.data(), values.count());
  }
  if (op == ReduceOp::Avg) values.scale(1.f / static_cast<float>(g.world().size));
  values.finish();
}

void all_reduce_coalesced(const std::vector<Tensor>& tensors, ReduceOp op) {
  detail::ProcessGroup& g = detail::current("all_reduce_coalesced");
  if (tensors.empty()) return;
  NoGradGuard no_grad;
  // One device for every tensor: the bucket stays there (NCCL); otherwise it is packed on the host.
  bool same_device = true;
  for (const Tensor& t : tensors) {
    detail::check_float32(t, "all_reduce_coalesced");
    same_device = same_device && t.device() == tensors[0].device();
  }
  detail::DeviceCollectives* nccl = same_device ? detail::on_device(tensors[0]) : nullptr;
  std::vector<Tensor> flat;
  flat.reserve(tensors.size());
  for (const Tensor& t : tensors)
    flat.push_back(nccl ? t.detach().reshape({-1}) : t.detach().reshape({-1}).cpu());
  Tensor bucket = cat(flat, 0).contiguous();
  if (nccl) {
    nccl->all_reduce_sum(bucket.data_ptr(), bucket.numel());
  } else {
    g.all_reduce_sum(bucket.data_ptr(), bucket.numel());
  }
  if (op == ReduceOp::Avg) bucket.mul_(1.f / static_cast<float>(g.world().size));
  int64_t offset = 0;
  for (const Tensor& t : tensors) {
    Tensor out = t;
    out.copy_(bucket.slice(0, offset, offset + t.numel()).view(t.shape()));
    offset += t.numel();
  }
}

void broadcast(Tensor& tensor, int src) {
  detail::ProcessGroup& g = detail::current("broadcast");
  GE_CHECK(src >= 0 && src < g.world().size, "broadcast: expected a source rank in [0, ",
           g.world().size, "), got ", src);
  detail::check_float32(tensor, "broadcast");
  detail::DeviceCollectives* nccl = detail::on_device(tensor);
  detail::Buffer values(tensor, nccl != nullptr);
  if (nccl) {
    nccl->broadcast(values.data(), values.count(), src);
  } else {
    g.broadcast(values.data(), values.count(), src);
  }
  values.finish();
}

std::vector<Tensor> all_gather(const Tensor& tensor) {
  detail::ProcessGroup& g = detail::current("all_gather");
  detail::check_float32(tensor, "all_gather");
  const int64_t n = tensor.numel();
  const std::vector<int64_t> counts = g.all_gather_int(n);
  for (size_t r = 0; r < counts.size(); ++r)
    GE_CHECK(counts[r] == n, "all_gather: expected ", n, " elements from every rank (as rank ",
             g.world().rank, " has), got ", counts[r], " from rank ", r);
  detail::DeviceCollectives* nccl = detail::on_device(tensor);
  const detail::Buffer in(tensor, nccl != nullptr);
  const Device where = nccl ? tensor.device() : kCPU;
  Tensor all = empty({static_cast<int64_t>(counts.size()), n}, TensorOptions(where));
  if (nccl) {
    nccl->all_gather(in.data(), all.data_ptr(), n);
  } else {
    g.all_gather(in.data(), all.data_ptr(), n);
  }
  all = all.to(tensor.device());  // one copy back for CUDA tensors gathered on the host
  std::vector<Tensor> out;
  for (int64_t r = 0; r < all.size(0); ++r)
    out.push_back(all.slice(0, r, r + 1).reshape(tensor.shape()).clone());
  return out;
}

void barrier() {
  detail::current("barrier").barrier();
}

Tensor shard_rows(const Shard& shard, int64_t n, const std::function<Tensor(int64_t)>& draw) {
  if (shard.count == 1) return draw(n);
  const int64_t first = shard.index * n;
  return draw(n * shard.count).slice(0, first, first + n).contiguous();
}

Tensor all_reduce_sum(const Tensor& tensor) {
  Tensor out;
  {
    NoGradGuard no_grad;
    out = tensor.detach().contiguous().clone();
  }
  all_reduce(out);
  if (autograd::needs_grad({tensor}))
    autograd::record("AllReduceSumBackward", {tensor}, {out},
                     [](autograd::BackwardContext&, const std::vector<Tensor>& g) {
                       return std::vector<Tensor>{all_reduce_sum(g[0])};
                     });
  return out;
}

}  // namespace ge::distributed
