#include "storage.h"

namespace ge {

Storage::Storage(size_t nbytes, Device device) : nbytes_(nbytes), device_(device) {
  data_ = device.is_cuda() ? cuda_allocate(nbytes, device.index) : cpu_allocate(nbytes);
}

Storage::~Storage() {
  if (device_.is_cuda()) {
    cuda_free(data_, device_.index);
  } else {
    cpu_free(data_, nbytes_);
  }
}

std::shared_ptr<Storage> make_storage(size_t nbytes, Device device) {
  return std::make_shared<Storage>(nbytes, device);
}

}  // namespace ge
