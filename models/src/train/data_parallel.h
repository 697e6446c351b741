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

// Averages the gradients of `params` (those that have one) and `loss` over all processes, in
// buckets of about kBucketBytes, each one all-reduce; returns the mean loss. Every process gets
// the same bits, so a NaN or Inf anywhere is seen, and stops the run, everywhere.
inline constexpr int64_t kBucketBytes = int64_t{4} << 20;
float average_gradients(const std::vector<Tensor>& params, const Tensor& loss);

}  // namespace ge::models::train::detail
