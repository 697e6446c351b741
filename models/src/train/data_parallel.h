#pragma once
// The trainer's data-parallel steps over ge::distributed's default group: the same model in
// every process, each process on its shard of the global batch, gradients averaged before each
// update. With one process every function here is a no-op.
#include <vector>

#include "ganengine/models/data/loader.h"
#include "ganengine/models/model.h"
#include "ganengine/tensor.h"

namespace ge::models::train::detail {

// This process's shard of the run: {rank, world size} of the default group when one is
// initialised, else {0, 1}.
data::Shard process_shard();

// Every network's parameters and buffers become rank 0's, as DDP does at construction.
void broadcast_model(Model& model);
// Every network's buffers (batch-norm running statistics, StyleGAN's w_avg) become rank 0's, as
// DDP's broadcast_buffers does, so the networks stay the same in every process.
void broadcast_buffers(Model& model);

// DDP's reducer for one optimizer group: its parameters in buckets of about kBucketBytes, filled
// in reverse order (roughly the order backward reaches them). Each bucket is averaged over all
// processes, one all-reduce, as soon as backward has produced all of its gradients; what is left
// when backward ends goes then. Each .grad is then a view of its bucket (DDP's
// gradient_as_bucket_view). Every process gets the same bits, so a NaN or Inf anywhere is seen,
// and stops the run, everywhere.
inline constexpr int64_t kBucketBytes = int64_t{4} << 20;

class GradientReducer {
 public:
  explicit GradientReducer(std::vector<Tensor> params);
  ~GradientReducer();  // removes its hooks from the parameters
  GradientReducer(const GradientReducer&) = delete;
  GradientReducer& operator=(const GradientReducer&) = delete;

  // Around one backward(): prepare() arms the buckets; finish() averages what is left and
  // `loss`, and returns the mean loss.
  void prepare();
  float finish(const Tensor& loss);
  int64_t buckets() const { return static_cast<int64_t>(buckets_.size()); }

 private:
  void ready(size_t param);
  void reduce(size_t bucket);

  std::vector<Tensor> params_;
  std::vector<std::vector<size_t>> buckets_;  // parameter indices
  std::vector<size_t> bucket_of_;
  std::vector<size_t> waiting_;  // per bucket: gradients not yet produced
  std::vector<bool> reduced_;
  std::vector<uint64_t> hooks_;
  bool armed_ = false;
};

}  // namespace ge::models::train::detail
