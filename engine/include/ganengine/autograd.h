#pragma once
// Define-by-run autograd with higher-order gradients.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ganengine/tensor.h"

namespace ge {

bool is_grad_enabled();
void set_grad_enabled(bool enabled);

// Disables graph recording in its scope (like torch.no_grad()).
class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

// Enables graph recording in its scope, e.g. inside a no-grad region.
class EnableGradGuard {
 public:
  EnableGradGuard();
  ~EnableGradGuard();
  EnableGradGuard(const EnableGradGuard&) = delete;
  EnableGradGuard& operator=(const EnableGradGuard&) = delete;

 private:
  bool previous_;
};

// Gradients of `outputs` with respect to `inputs`, returned rather than accumulated into
// .grad. grad_outputs may be empty when every output is a scalar. With create_graph the
// results carry history, so they can be differentiated again (WGAN-GP, R1). retain_graph
// defaults to create_graph. An input the outputs do not depend on is an error unless
// allow_unused, in which case its result is undefined.
std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs = {}, bool create_graph = false,
                         std::optional<bool> retain_graph = std::nullopt,
                         bool allow_unused = false);

// Accumulates gradients of `outputs` into the .grad of the leaves they depend on.
void backward(const std::vector<Tensor>& outputs, const std::vector<Tensor>& grad_outputs = {},
              bool retain_graph = false, bool create_graph = false);

namespace autograd {

class Node;

// Where a gradient goes: input slot `input_nr` of node `fn`.
struct Edge {
  std::shared_ptr<Node> fn;
  uint32_t input_nr = 0;
  bool valid() const { return fn != nullptr; }
};

// A backward function in the graph. apply() receives one gradient per output of the forward
// op (undefined where none arrived) and returns one gradient per next edge (undefined for no
// gradient). Backward formulas are written with differentiable ops, so under create_graph the
// returned gradients have history of their own.
class Node : public std::enable_shared_from_this<Node> {
 public:
  virtual ~Node() = default;
  virtual std::string name() const = 0;
  virtual std::vector<Tensor> apply(std::vector<Tensor>&& grad_outputs) = 0;
  // Frees saved tensors after a backward without retain_graph.
  virtual void release_saved() {}

  const std::vector<Edge>& next_edges() const { return next_edges_; }
  void set_next_edges(std::vector<Edge> edges) { next_edges_ = std::move(edges); }
  uint64_t sequence_nr() const { return sequence_nr_; }
  uint32_t num_outputs() const { return num_outputs_; }
  void set_num_outputs(uint32_t n) { num_outputs_ = n; }

 protected:
  Node();

 private:
  std::vector<Edge> next_edges_;
  uint64_t sequence_nr_;
  uint32_t num_outputs_ = 1;
};

// Op authors: ganengine/autograd_function.h has the helpers that record an op's node and
// keep the tensors its backward needs.

}  // namespace autograd
}  // namespace ge
