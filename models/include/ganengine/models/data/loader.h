#pragma once
// Seeded shuffling and batching with a background prefetch thread. Epochs repeat forever; the
// order is a function of (seed, epoch) only, so a resumed run sees the same batches.
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include "ganengine/distributed.h"
#include "ganengine/models/data/dataset.h"
#include "ganengine/tensor.h"

namespace ge::models::data {

struct Batch {
  Tensor x;       // [N, ...sample_shape] float32 on the loader's device
  Tensor labels;  // [N] float32 class ids; undefined for unlabelled data
};

// Where the loader is: the next batch is batch `index` of epoch `epoch`.
struct LoaderState {
  int64_t epoch = 0;
  int64_t index = 0;
};

// The part of every batch one process of a data-parallel run takes: the loaders of all `count`
// processes follow one seeded order over global batches of batch_size * count samples, and
// process `index` takes samples [index * batch_size, (index + 1) * batch_size) of each.
using Shard = distributed::Shard;

inline constexpr int64_t kDefaultPrefetch = 2;

class DataLoader {
 public:
  // batch_size * shard.count <= dataset size; incomplete last batches are dropped. prefetch:
  // batches prepared ahead on a background thread (0: none).
  DataLoader(std::shared_ptr<Dataset> dataset, int64_t batch_size, uint64_t seed,
             Device device = kCPU, int64_t prefetch = kDefaultPrefetch, Shard shard = {});
  ~DataLoader();
  DataLoader(const DataLoader&) = delete;
  DataLoader& operator=(const DataLoader&) = delete;

  Batch next();
  LoaderState state() const;             // of the next batch next() returns
  void set_state(const LoaderState& s);  // drops prefetched batches
  int64_t batches_per_epoch() const;
  const Dataset& dataset() const { return *dataset_; }
  int64_t batch_size() const { return batch_size_; }  // of this process's part
  Shard shard() const { return shard_; }

 private:
  struct Impl;
  std::shared_ptr<Dataset> dataset_;
  int64_t batch_size_;
  Shard shard_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ge::models::data
