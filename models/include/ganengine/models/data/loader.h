#pragma once
// Seeded shuffling and batching with a background prefetch thread. Epochs repeat forever; the
// order is a function of (seed, epoch) only, so a resumed run sees the same batches.
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

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

class DataLoader {
 public:
  // batch_size <= dataset size; incomplete last batches are dropped. prefetch: batches prepared
  // ahead on a background thread (0: none).
  DataLoader(std::shared_ptr<Dataset> dataset, int64_t batch_size, uint64_t seed,
             Device device = kCPU, int64_t prefetch = 2);
  ~DataLoader();
  DataLoader(const DataLoader&) = delete;
  DataLoader& operator=(const DataLoader&) = delete;

  Batch next();
  LoaderState state() const;             // of the next batch next() returns
  void set_state(const LoaderState& s);  // drops prefetched batches
  int64_t batches_per_epoch() const;
  const Dataset& dataset() const { return *dataset_; }
  int64_t batch_size() const { return batch_size_; }

 private:
  struct Impl;
  std::shared_ptr<Dataset> dataset_;
  int64_t batch_size_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ge::models::data
