#pragma once
// nn::Module: a tree of named parameters, buffers and child modules, as torch.nn.Module.
//
// A layer keeps its tensors as ordinary members and registers them by reference, so code reads
// `weight` rather than a lookup; to(device) and load_state_dict() write through the same slots.
// Names follow PyTorch: "block0.conv.weight" for parameter `weight` of child `conv` of child
// `block0`, in registration order (own tensors first, then children), so a state dict written
// here loads into the same architecture written with torch.nn and the other way round.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "ganengine/device.h"
#include "ganengine/tensor.h"

namespace ge::nn {

class Module {
 public:
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // The module's type name, e.g. "Linear", used in error messages.
  virtual std::string name() const = 0;
  // Single-input forward, for modules that have one (Sequential calls it). Modules with other
  // signatures keep this default, which throws ge::Error naming the module.
  virtual Tensor forward(const Tensor& x);
  Tensor operator()(const Tensor& x) { return forward(x); }

  // Recursive, in PyTorch order, with dotted names.
  std::vector<std::pair<std::string, Tensor>> named_parameters() const;
  std::vector<Tensor> parameters() const;
  std::vector<std::pair<std::string, Tensor>> named_buffers() const;  // persistent and not
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> named_children() const;
  int64_t num_parameters() const;  // total element count

  // Parameters and persistent buffers by dotted name; the tensors share storage with the module
  // (detached, so no history).
  std::map<std::string, Tensor> state_dict() const;
  // Copies every entry into the module's tensors (any source device; shapes must match). strict:
  // a missing or unexpected key is an error. Errors name the key and, for shapes, the expected
  // and the given shape; nothing is copied unless every key checks out.
  void load_state_dict(const std::map<std::string, Tensor>& state, bool strict = true);
  // state_dict() to / from a safetensors file (atomic write; PyTorch can open it).
  void save(const std::string& path, const std::map<std::string, std::string>& metadata = {}) const;
  void load(const std::string& path, bool strict = true);

  // Training mode, recursively (BatchNorm, SpectralNorm and noise read it).
  void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }

  // Moves every parameter and buffer to `device` (parameters stay leaves requiring grad).
  // Optimizers hold tensors: build them after moving the module.
  void to(Device device);
  Device device() const;  // of the first parameter or buffer; kCPU when it has none
  void zero_grad();       // drops every parameter's .grad
  void requires_grad_(bool requires_grad = true);

  // Copies parameters and buffers from `other` (same architecture), e.g. to start a G EMA.
  void copy_from(const Module& other);

 protected:
  Module() = default;
  // `slot` must be a member of the derived module (it outlives the registration) and hold a
  // defined tensor; parameters are made leaves requiring grad.
  void register_parameter(const std::string& name, Tensor& slot);
  void register_buffer(const std::string& name, Tensor& slot, bool persistent = true);
  template <class M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> child) {
    add_child(name, child);
    return child;
  }
  // Renames a registered parameter or buffer (spectral norm's weight -> weight_orig).
  void rename_tensor(const std::string& from, const std::string& to);
  // Hook for subclasses whose state follows the training flag.
  virtual void on_train(bool /*on*/) {}

 private:
  struct Slot {
    std::string name;
    Tensor* tensor;
    bool parameter;
    bool persistent;
  };
  void add_child(const std::string& name, std::shared_ptr<Module> child);
  // Throws unless `name` is non-empty, has no '.', and names no tensor or child yet.
  void check_new_name(const std::string& name, const char* what) const;
  void collect(const std::string& prefix, bool parameters, bool buffers, bool persistent_only,
               std::vector<std::pair<std::string, Tensor*>>& out) const;

  std::vector<Slot> slots_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  bool training_ = true;
};

// Puts a module (none when null) in eval mode for a scope and restores its mode after, so
// sampling and evaluation change no batch-norm statistics or other training state.
class EvalModeGuard {
 public:
  explicit EvalModeGuard(Module* module)
      : module_(module), was_training_(module != nullptr && module->is_training()) {
    if (module_) module_->eval();
  }
  ~EvalModeGuard() {
    if (module_) module_->train(was_training_);
  }
  EvalModeGuard(const EvalModeGuard&) = delete;
  EvalModeGuard& operator=(const EvalModeGuard&) = delete;

 private:
  Module* module_;
  bool was_training_;
};

}  // namespace ge::nn
