#pragma once
// Raw memory owned by tensors. A Storage returns its block to the allocator it came from when
// the last tensor (or view) referencing it goes away.
#include <cstddef>
#include <memory>

#include "ganengine/device.h"

namespace ge {

class Storage {
 public:
  Storage(size_t nbytes, Device device);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  size_t nbytes() const { return nbytes_; }
  Device device() const { return device_; }

 private:
  void* data_ = nullptr;
  size_t nbytes_ = 0;
  Device device_;
};

std::shared_ptr<Storage> make_storage(size_t nbytes, Device device);

// Allocator entry points behind Storage.
void* cpu_allocate(size_t nbytes);
// nbytes: the size given to cpu_allocate (small blocks skip the cache and its lock).
void cpu_free(void* ptr, size_t nbytes);
void* cuda_allocate(size_t nbytes, int device);
void cuda_free(void* ptr, int device);

}  // namespace ge
