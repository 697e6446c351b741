#pragma once
// Padding layers without parameters, as torch.nn.ReflectionPad2d and torch.nn.ReplicationPad2d:
// an int pads every side by the same amount, a 4-tuple is {left, right, top, bottom}.
#include <array>
#include <cstdint>

#include "ganengine/nn/module.h"

namespace ge::nn {

class ReflectionPad2d : public Module {
 public:
  explicit ReflectionPad2d(int64_t pad) : ReflectionPad2d({pad, pad, pad, pad}) {}
  explicit ReflectionPad2d(std::array<int64_t, 4> pad);
  std::string name() const override { return "ReflectionPad2d"; }
  Tensor forward(const Tensor& x) override;
  const std::array<int64_t, 4> pad;
};

class ReplicationPad2d : public Module {
 public:
  explicit ReplicationPad2d(int64_t pad) : ReplicationPad2d({pad, pad, pad, pad}) {}
  explicit ReplicationPad2d(std::array<int64_t, 4> pad);
  std::string name() const override { return "ReplicationPad2d"; }
  Tensor forward(const Tensor& x) override;
  const std::array<int64_t, 4> pad;
};

}  // namespace ge::nn
