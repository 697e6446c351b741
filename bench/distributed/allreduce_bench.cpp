// ge::distributed's all_reduce bandwidth, as nccl-tests reports it: under
// `mpirun -np N ganengine-allreduce-bench`, rank 0 prints per message size the median time over
// the repetitions, the algorithm bandwidth (bytes / time) and the bus bandwidth (algorithm
// bandwidth * 2 (N - 1) / N: the traffic each link carries in a ring all-reduce).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#include "ganengine/distributed.h"
#include "ganengine/ops.h"

namespace {

namespace dist = ge::distributed;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main() {
  dist::init_process_group();
  const int world = dist::get_world_size(), rank = dist::get_rank();
  if (rank == 0) {
    std::printf("all_reduce (sum, float32, CPU tensors): %d process(es), backend %s\n", world,
                dist::get_backend().c_str());
    std::printf("| bytes | median time (us) | algbw (GB/s) | busbw (GB/s) |\n");
    std::printf("| ---: | ---: | ---: | ---: |\n");
  }
  for (int64_t bytes = int64_t{4} << 10; bytes <= (int64_t{64} << 20); bytes *= 4) {
    ge::Tensor t = ge::full({bytes / 4}, 1.f);
    const int reps = bytes >= (int64_t{16} << 20) ? 10 : 50;
    std::vector<double> seconds;
    for (int i = 0; i < reps + 3; ++i) {
      dist::barrier();
      const auto start = std::chrono::steady_clock::now();
      dist::all_reduce(t);
      const double s =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (i >= 3) seconds.push_back(s);  // the first three warm the buffers up
    }
    // The slowest rank's time is the collective's.
    const std::vector<float> mine(seconds.begin(), seconds.end());
    const ge::Tensor times = ge::from_vector(mine, {static_cast<int64_t>(mine.size())});
    const std::vector<ge::Tensor> all = dist::all_gather(times);
    std::vector<double> slowest(seconds.size(), 0);
    for (const ge::Tensor& r : all) {
      const std::vector<float> v = r.to_vector();
      for (size_t i = 0; i < v.size(); ++i)
        slowest[i] = std::max(slowest[i], static_cast<double>(v[i]));
    }
    const double m = median(slowest);
    const double algbw = static_cast<double>(bytes) / m / 1e9;
    if (rank == 0)
      std::printf("| %lld | %.1f | %.2f | %.2f |\n", static_cast<long long>(bytes), m * 1e6, algbw,
                  algbw * 2.0 * (world - 1) / world);
  }
  dist::destroy_process_group();
  return 0;
}
