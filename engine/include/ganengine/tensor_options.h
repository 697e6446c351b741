#pragma once
#include "ganengine/device.h"
#include "ganengine/dtype.h"

namespace ge {

// Builder for factory functions: ge::zeros({2, 3}, TensorOptions().device(kCUDA)).
class TensorOptions {
 public:
  TensorOptions() = default;
  TensorOptions(Device device) : device_(device) {}  // NOLINT: implicit, like LibTorch

  Dtype dtype() const { return dtype_; }
  Device device() const { return device_; }
  bool requires_grad() const { return requires_grad_; }

  TensorOptions dtype(Dtype d) const {
    TensorOptions o = *this;
    o.dtype_ = d;
    return o;
  }
  TensorOptions device(Device d) const {
    TensorOptions o = *this;
    o.device_ = d;
    return o;
  }
  TensorOptions requires_grad(bool r) const {
    TensorOptions o = *this;
    o.requires_grad_ = r;
    return o;
  }

 private:
  Dtype dtype_ = Dtype::Float32;
  Device device_ = kCPU;
  bool requires_grad_ = false;
};

}  // namespace ge
