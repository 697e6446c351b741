// The backward engine: counts dependencies from the roots, then runs each node once all the
// nodes feeding it have run, in decreasing sequence_nr among the ready ones (the reverse of the
// order the forward pass created them), summing gradients per (node, input slot).
#include <queue>
#include <unordered_map>
#include <unordered_set>

#include "autograd/accumulate_grad.h"
#include "ganengine/autograd_function.h"
#include "ganengine/error.h"
#include "ganengine/ops.h"
#include "tensor_impl.h"

namespace ge {

namespace {

using autograd::Edge;
using autograd::Node;

struct RunOptions {
  bool keep_graph = false;
  bool create_graph = false;
  // grad(): gradients arriving at these edges are returned instead of flowing on, and only
  // nodes that lead to one of them run.
  const std::vector<Edge>* capture = nullptr;
};

struct ReadyOrder {
  bool operator()(Node* a, Node* b) const { return a->sequence_nr() < b->sequence_nr(); }
};

std::vector<Tensor> run_backward(const std::vector<Edge>& roots,
                                 const std::vector<Tensor>& root_grads, const RunOptions& opt) {
  // Graph discovery and dependency counts.
  std::unordered_map<Node*, int> deps;
  std::unordered_set<Node*> seen;
  std::vector<Node*> stack;
  for (const Edge& e : roots) {
    if (seen.insert(e.fn.get()).second) stack.push_back(e.fn.get());
  }
  std::vector<Node*> order;  // discovery order, for the pruning pass
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    order.push_back(n);
    for (const Edge& e : n->next_edges()) {
      if (!e.valid()) continue;
      ++deps[e.fn.get()];
      if (seen.insert(e.fn.get()).second) stack.push_back(e.fn.get());
    }
  }

  // Pruning for grad(): a node runs only if a captured node is reachable from it. Discovery
  // order is roughly top-down, so walking it backwards settles children before parents and
  // the fixed point is reached in one or two passes.
  std::unordered_set<Node*> targets, needed;
  if (opt.capture) {
    for (const Edge& e : *opt.capture)
      targets.insert(e.fn.get());
    bool changed = true;
    while (changed) {
      changed = false;
      for (auto it = order.rbegin(); it != order.rend(); ++it) {
        Node* n = *it;
        if (needed.count(n)) continue;
        for (const Edge& e : n->next_edges()) {
          if (e.valid() && (targets.count(e.fn.get()) || needed.count(e.fn.get()))) {
            needed.insert(n);
            changed = true;
            break;
          }
        }
      }
    }
  }

  std::unordered_map<Node*, std::vector<Tensor>> buffers;
  auto accumulate = [&](const Edge& e, const Tensor& g) {
    if (!g.defined()) return;
    std::vector<Tensor>& buf = buffers[e.fn.get()];
    if (buf.empty()) buf.resize(e.fn->num_outputs());
    GE_CHECK(e.input_nr < buf.size(), "backward: ", e.fn->name(), " has ", buf.size(),
             " gradient slots, got a gradient for slot ", e.input_nr);
    Tensor& slot = buf[e.input_nr];
    slot = slot.defined() ? slot + g : g;
  };
  for (size_t i = 0; i < roots.size(); ++i)
    accumulate(roots[i], root_grads[i]);

  std::vector<Tensor> captured(opt.capture ? opt.capture->size() : 0);
  std::priority_queue<Node*, std::vector<Node*>, ReadyOrder> ready;
  for (Node* n : seen) {
    if (deps[n] == 0) ready.push(n);
  }
  while (!ready.empty()) {
    Node* n = ready.top();
    ready.pop();
    std::vector<Tensor> inputs;
    if (auto it = buffers.find(n); it != buffers.end()) {
      inputs = std::move(it->second);
      buffers.erase(it);
    }
    if (opt.capture) {
      for (size_t i = 0; i < captured.size(); ++i) {
        const Edge& e = (*opt.capture)[i];
        if (e.fn.get() == n && e.input_nr < inputs.size()) captured[i] = inputs[e.input_nr];
      }
      if (!needed.count(n)) continue;  // children need nothing from it: not run
    }
    bool any = false;
    for (const Tensor& t : inputs)
      any = any || t.defined();
    std::vector<Tensor> outputs;
    if (any) {
      inputs.resize(n->num_outputs());
      outputs = n->apply(std::move(inputs));
      if (!opt.keep_graph) n->release_saved();
      GE_CHECK(outputs.size() == n->next_edges().size() || n->next_edges().empty(),
               "backward: ", n->name(), " returned ", outputs.size(), " gradients for ",
               n->next_edges().size(), " inputs");
    }
    const auto& edges = n->next_edges();
    for (size_t i = 0; i < edges.size(); ++i) {
      if (!edges[i].valid()) continue;
      if (i < outputs.size()) accumulate(edges[i], outputs[i]);
      if (--deps[edges[i].fn.get()] == 0) ready.push(edges[i].fn.get());
    }
  }
  return captured;
}

// Roots of a backward pass and their seed gradients, validated.
void collect_roots(const char* op, const std::vector<Tensor>& outputs,
                   const std::vector<Tensor>& grad_outputs, std::vector<Edge>& roots,
                   std::vector<Tensor>& grads) {
  GE_CHECK(!outputs.empty(), op, ": expected at least one output tensor");
  GE_CHECK(grad_outputs.empty() || grad_outputs.size() == outputs.size(), op, ": expected ",
           outputs.size(), " grad_outputs (one per output), got ", grad_outputs.size());
  for (size_t i = 0; i < outputs.size(); ++i) {
    const Tensor& out = outputs[i];
    GE_CHECK(out.defined(), op, ": output ", i, " is undefined");
    GE_CHECK(out.requires_grad(), op, ": output ", i,
             " does not require grad and has no grad_fn (was it computed under NoGradGuard, or "
             "from tensors that do not require grad?)");
    Tensor g = grad_outputs.empty() ? Tensor() : grad_outputs[i];
    if (!g.defined()) {
      GE_CHECK(out.numel() == 1, op,
               ": expected a scalar output when grad_output is not given, "
               "got shape ",
               to_string(out.shape()), " for output ", i);
      g = ones_like(out);
    } else {
      GE_CHECK(g.shape() == out.shape(), op, ": grad_output ", i, " has shape ",
               to_string(g.shape()), ", expected the output's shape ", to_string(out.shape()));
      GE_CHECK(g.device() == out.device(), op, ": grad_output ", i, " is on ", g.device().str(),
               ", expected the output's device ", out.device().str());
    }
    roots.push_back(autograd::gradient_edge(out));
    grads.push_back(g);
  }
}

// Runs with grad mode = create_graph so that backward formulas record history only then.
class GradModeScope {
 public:
  explicit GradModeScope(bool enabled) : previous_(is_grad_enabled()) { set_grad_enabled(enabled); }
  ~GradModeScope() { set_grad_enabled(previous_); }
  GradModeScope(const GradModeScope&) = delete;
  GradModeScope& operator=(const GradModeScope&) = delete;

 private:
  bool previous_;
};

}  // namespace

void backward(const std::vector<Tensor>& outputs, const std::vector<Tensor>& grad_outputs,
              bool retain_graph, bool create_graph) {
  std::vector<Edge> roots;
  std::vector<Tensor> grads;
  collect_roots("backward", outputs, grad_outputs, roots, grads);
  GradModeScope scope(create_graph);
  RunOptions opt;
  opt.keep_graph = retain_graph || create_graph;
  opt.create_graph = create_graph;
  run_backward(roots, grads, opt);
}

std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs, bool create_graph,
                         std::optional<bool> retain_graph, bool allow_unused) {
  std::vector<Edge> roots;
  std::vector<Tensor> grads;
  collect_roots("grad", outputs, grad_outputs, roots, grads);
  std::vector<Edge> capture;
  for (size_t i = 0; i < inputs.size(); ++i) {
    GE_CHECK(inputs[i].defined(), "grad: input ", i, " is undefined");
    GE_CHECK(inputs[i].requires_grad(), "grad: input ", i,
             " does not require grad (call requires_grad_() on it before the forward pass)");
    capture.push_back(autograd::gradient_edge(inputs[i]));
  }
  GradModeScope scope(create_graph);
  RunOptions opt;
  opt.keep_graph = retain_graph.value_or(create_graph);
  opt.create_graph = create_graph;
  opt.capture = &capture;
  std::vector<Tensor> result = run_backward(roots, grads, opt);
  for (size_t i = 0; i < result.size(); ++i) {
    GE_CHECK(result[i].defined() || allow_unused, "grad: input ", i, " (shape ",
             to_string(inputs[i].shape()),
             ") was not used to compute the outputs; pass allow_unused=true to get an undefined "
             "gradient for it");
    // Without create_graph a gradient could still alias a tensor with history (e.g. a
    // grad_output passed straight through); the caller gets a plain tensor.
    if (result[i].defined() && !create_graph) result[i] = result[i].detach();
  }
  return result;
}

}  // namespace ge
