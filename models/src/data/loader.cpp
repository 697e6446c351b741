// DataLoader: the batch at (epoch, index) is a pure function of (seed, epoch, index), so the
// prefetch thread, set_state and resumption can never change what a caller sees.
#include "ganengine/models/data/loader.h"

#include <cstdint>
#include <exception>
#include <numeric>
#include <random>
#include <utility>
#include <vector>

#include "ganengine/error.h"
#include "ganengine/ops.h"

namespace ge::models::data {
namespace {

constexpr const char* kOp = "DataLoader";

uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// The sample order of one epoch, cached because every batch of the epoch reads it.
class EpochOrder {
 public:
  const std::vector<int64_t>& get(uint64_t seed, int64_t epoch, int64_t size) {
    if (epoch != epoch_) {
      order_.resize(static_cast<size_t>(size));
      std::iota(order_.begin(), order_.end(), int64_t{0});
      // Fisher-Yates with plain modulo (bias < 2^-30 for any realistic size) rather than
      // std::uniform_int_distribution, whose algorithm differs between standard libraries.
      std::mt19937_64 rng(splitmix64(seed ^ splitmix64(static_cast<uint64_t>(epoch))));
      for (size_t i = order_.size() - 1; i > 0; --i)
        std::swap(order_[i], order_[static_cast<size_t>(rng() % (i + 1))]);
      epoch_ = epoch;
    }
    return order_;
  }

 private:
  int64_t epoch_ = -1;
  std::vector<int64_t> order_;
};

struct HostBatch {
  std::vector<float> x;
  std::vector<float> labels;  // empty for unlabelled data
};

}  // namespace

struct DataLoader::Impl {
  std::shared_ptr<Dataset> dataset;
  int64_t batch_size = 0;
  Shard shard;
  uint64_t seed = 0;
  Device device;
  int64_t prefetch = 0;
  int64_t per_epoch = 0;
  int64_t sample_numel = 0;
  Shape batch_shape;
  bool labelled = false;

  LoaderState advance(LoaderState s) const {
    if (++s.index == per_epoch) s = {s.epoch + 1, 0};
    return s;
  }

  HostBatch build(const LoaderState& s, EpochOrder& order) const {
    const std::vector<int64_t>& perm = order.get(seed, s.epoch, dataset->size());
    HostBatch b;
    b.x.resize(static_cast<size_t>(batch_size * sample_numel));
    if (labelled) b.labels.resize(static_cast<size_t>(batch_size));
    const int64_t first = (s.index * shard.count + shard.index) * batch_size;
    for (int64_t i = 0; i < batch_size; ++i) {
      const int64_t sample = perm[static_cast<size_t>(first + i)];
      dataset->get(sample, b.x.data() + i * sample_numel);
      if (labelled) b.labels[static_cast<size_t>(i)] = static_cast<float>(dataset->label(sample));
    }
    return b;
  }

  // Tensors are made on the caller's thread: the worker only touches host vectors, so no engine
  // state (allocators, streams) is shared with it.
  Batch to_batch(const HostBatch& b) const {
    Batch out;
    out.x = from_vector(b.x, batch_shape).to(device);
    if (labelled) out.labels = from_vector(b.labels, {batch_size}).to(device);
    return out;
  }

  void work() {
    EpochOrder order;
    std::unique_lock<std::mutex> lock(mu);
    for (;;) {
      ready_cv.wait(
          lock, [&] { return stop || (!error && static_cast<int64_t>(ready.size()) < prefetch); });
      if (stop) return;
      const LoaderState s = produced;
      const uint64_t gen = generation;
      lock.unlock();
      HostBatch b;
      std::exception_ptr failure;
      try {
        b = build(s, order);
      } catch (...) {
        failure = std::current_exception();
      }
      lock.lock();
      if (gen != generation) continue;  // set_state dropped this batch while it was built
      if (failure) {
        error = failure;
      } else {
        ready.push_back(std::move(b));
        produced = advance(s);
      }
      ready_cv.notify_all();
    }
  }

  mutable std::mutex mu;
  std::condition_variable ready_cv;  // the queue, the error or the stop flag changed
  LoaderState next;                  // of the batch next() returns
  LoaderState produced;              // of the batch the worker builds next
  uint64_t generation = 0;           // bumped by set_state
  std::deque<HostBatch> ready;
  std::exception_ptr error;  // the worker failed to build batch `produced`
  bool stop = false;
  EpochOrder caller_order;  // for prefetch 0
  std::thread worker;
};

DataLoader::DataLoader(std::shared_ptr<Dataset> dataset, int64_t batch_size, uint64_t seed,
                       Device device, int64_t prefetch, Shard shard)
    : dataset_(std::move(dataset)),
      batch_size_(batch_size),
      shard_(shard),
      impl_(std::make_unique<Impl>()) {
  GE_CHECK(dataset_ != nullptr, kOp, ": expected a data set, got null");
  GE_CHECK(shard.count >= 1 && shard.index >= 0 && shard.index < shard.count, kOp,
           ": expected a shard index in [0, count) and count >= 1, got index ", shard.index, " of ",
           shard.count);
  const int64_t size = dataset_->size();
  const int64_t limit = size / shard.count;
  GE_CHECK(batch_size >= 1 && batch_size <= limit, kOp, ": expected a batch size in [1, ", limit,
           "] (the size of data set \"", dataset_->name(), "\"",
           shard.count > 1 ? " over " + std::to_string(shard.count) + " processes" : std::string(),
           "), got ", batch_size);
  GE_CHECK(prefetch >= 0, kOp, ": expected prefetch >= 0, got ", prefetch);
  Impl& m = *impl_;
  m.dataset = dataset_;
  m.batch_size = batch_size;
  m.shard = shard;
  m.seed = seed;
  m.device = device;
  m.prefetch = prefetch;
  m.per_epoch = size / (batch_size * shard.count);
  const Shape sample = dataset_->sample_shape();
  m.sample_numel = ge::numel(sample);
  m.batch_shape = {batch_size};
  m.batch_shape.insert(m.batch_shape.end(), sample.begin(), sample.end());
  m.labelled = dataset_->num_classes() > 0;
  if (prefetch > 0) m.worker = std::thread([&m] { m.work(); });
}

DataLoader::~DataLoader() {
  if (!impl_->worker.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->stop = true;
  }
  impl_->ready_cv.notify_all();
  impl_->worker.join();
}

Batch DataLoader::next() {
  Impl& m = *impl_;
  if (m.prefetch == 0) {
    const HostBatch b = m.build(state(), m.caller_order);
    {
      std::lock_guard<std::mutex> lock(m.mu);
      m.next = m.advance(m.next);
    }
    return m.to_batch(b);
  }
  std::unique_lock<std::mutex> lock(m.mu);
  m.ready_cv.wait(lock, [&] { return !m.ready.empty() || m.error; });
  // Batches built before a failure are still good: they come first.
  if (m.ready.empty()) std::rethrow_exception(m.error);
  HostBatch b = std::move(m.ready.front());
  m.ready.pop_front();
  m.next = m.advance(m.next);
  lock.unlock();
  m.ready_cv.notify_all();
  return m.to_batch(b);
}

LoaderState DataLoader::state() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->next;
}

void DataLoader::set_state(const LoaderState& s) {
  Impl& m = *impl_;
  GE_CHECK(s.epoch >= 0 && s.index >= 0 && s.index < m.per_epoch, kOp,
           ": expected a state with epoch >= 0 and batch index in [0, ", m.per_epoch,
           "), got epoch ", s.epoch, " index ", s.index);
  {
    std::lock_guard<std::mutex> lock(m.mu);
    ++m.generation;
    m.ready.clear();
    m.error = nullptr;
    m.next = m.produced = s;
  }
  m.ready_cv.notify_all();
}

int64_t DataLoader::batches_per_epoch() const {
  return impl_->per_epoch;
}

}  // namespace ge::models::data
