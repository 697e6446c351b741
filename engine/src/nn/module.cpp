#include "ganengine/nn/module.h"

#include <algorithm>
#include <set>
#include <sstream>

#include "ganengine/autograd.h"
#include "ganengine/error.h"
#include "ganengine/safetensors.h"

namespace ge::nn {

namespace {

std::string quoted_list(const std::vector<std::string>& names) {
  std::ostringstream out;
  for (size_t i = 0; i < names.size(); ++i)
    out << (i ? ", " : "") << '"' << names[i] << '"';
  return out.str();
}

}  // namespace

Tensor Module::forward(const Tensor& /*x*/) {
  fail(name(), ": forward(x) is not defined for this module; call the forward it declares");
}

void Module::check_new_name(const std::string& name, const char* what) const {
  GE_CHECK(!name.empty(), this->name(), ": ", what, ": expected a non-empty name");
  GE_CHECK(name.find('.') == std::string::npos, this->name(), ": ", what, ": name \"", name,
           "\" must not contain '.' (dots separate the levels of state dict keys)");
  for (const Slot& s : slots_)
    GE_CHECK(s.name != name, this->name(), ": ", what, ": \"", name,
             "\" is already registered as a ", s.parameter ? "parameter" : "buffer");
  for (const auto& c : children_)
    GE_CHECK(c.first != name, this->name(), ": ", what, ": \"", name,
             "\" is already registered as a child module");
}

void Module::register_parameter(const std::string& name, Tensor& slot) {
  check_new_name(name, "register_parameter");
  GE_CHECK(slot.defined(), this->name(), ": register_parameter: \"", name,
           "\" holds an undefined tensor");
  if (!slot.is_leaf()) slot = slot.detach();
  slot.requires_grad_(true);
  slots_.push_back({name, &slot, true, true});
}

void Module::register_buffer(const std::string& name, Tensor& slot, bool persistent) {
  check_new_name(name, "register_buffer");
  GE_CHECK(slot.defined(), this->name(), ": register_buffer: \"", name,
           "\" holds an undefined tensor");
  if (slot.requires_grad()) slot = slot.detach();
  slots_.push_back({name, &slot, false, persistent});
}

void Module::add_child(const std::string& name, std::shared_ptr<Module> child) {
  check_new_name(name, "register_module");
  GE_CHECK(child != nullptr, this->name(), ": register_module: \"", name, "\" is a null module");
  children_.emplace_back(name, std::move(child));
}

// As PyTorch's spectral_norm (del + register_parameter), the renamed tensor moves to the end of
// the registration order.
void Module::rename_tensor(const std::string& from, const std::string& to) {
  auto it =
      std::find_if(slots_.begin(), slots_.end(), [&](const Slot& s) { return s.name == from; });
  GE_CHECK(it != slots_.end(), name(), ": rename_tensor: no parameter or buffer named \"", from,
           "\"");
  if (from == to) return;
  Slot slot = *it;
  const auto index = it - slots_.begin();
  slots_.erase(it);
  try {
    check_new_name(to, "rename_tensor");
  } catch (...) {
    slots_.insert(slots_.begin() + index, slot);
    throw;
  }
  slot.name = to;
  slots_.push_back(slot);
}

// Per module: parameters, then buffers, then children (PyTorch's state_dict order).
void Module::collect(const std::string& prefix, bool parameters, bool buffers, bool persistent_only,
                     std::vector<std::pair<std::string, Tensor*>>& out) const {
  if (parameters)
    for (const Slot& s : slots_)
      if (s.parameter) out.emplace_back(prefix + s.name, s.tensor);
  if (buffers)
    for (const Slot& s : slots_)
      if (!s.parameter && (s.persistent || !persistent_only))
        out.emplace_back(prefix + s.name, s.tensor);
  for (const auto& [name, child] : children_)
    child->collect(prefix + name + ".", parameters, buffers, persistent_only, out);
}

std::vector<std::pair<std::string, Tensor>> Module::named_parameters() const {
  std::vector<std::pair<std::string, Tensor*>> slots;
  collect("", true, false, false, slots);
  std::vector<std::pair<std::string, Tensor>> out;
  for (auto& [name, t] : slots)
    out.emplace_back(name, *t);
  return out;
}

std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> out;
  for (auto& [name, t] : named_parameters())
    out.push_back(t);
  return out;
}

std::vector<std::pair<std::string, Tensor>> Module::named_buffers() const {
  std::vector<std::pair<std::string, Tensor*>> slots;
  collect("", false, true, false, slots);
  std::vector<std::pair<std::string, Tensor>> out;
  for (auto& [name, t] : slots)
    out.emplace_back(name, *t);
  return out;
}

std::vector<std::pair<std::string, std::shared_ptr<Module>>> Module::named_children() const {
  return children_;
}

int64_t Module::num_parameters() const {
  int64_t n = 0;
  for (const auto& [name, t] : named_parameters())
    n += t.numel();
  return n;
}

std::map<std::string, Tensor> Module::state_dict() const {
  std::vector<std::pair<std::string, Tensor*>> slots;
  collect("", true, true, true, slots);
  std::map<std::string, Tensor> out;
  for (auto& [name, t] : slots)
    out.emplace(name, t->detach());
  return out;
}

void Module::load_state_dict(const std::map<std::string, Tensor>& state, bool strict) {
  std::vector<std::pair<std::string, Tensor*>> slots;
  collect("", true, true, true, slots);

  std::vector<std::string> missing, unexpected, mismatched;
  std::set<std::string> known;
  for (auto& [key, slot] : slots) {
    known.insert(key);
    auto it = state.find(key);
    if (it == state.end()) {
      missing.push_back(key);
      continue;
    }
    GE_CHECK(it->second.defined(), name(), ": load_state_dict: entry \"", key,
             "\" is an undefined tensor");
    if (it->second.shape() != slot->shape())
      mismatched.push_back(detail::concat("\"", key, "\": expected shape ",
                                          to_string(slot->shape()), " (the module's), got ",
                                          to_string(it->second.shape())));
  }
  for (const auto& [key, t] : state)
    if (!known.count(key)) unexpected.push_back(key);

  std::ostringstream errors;
  if (strict && !missing.empty())
    errors << " missing key(s) in the state dict: " << quoted_list(missing) << ".";
  if (strict && !unexpected.empty())
    errors << " unexpected key(s) in the state dict: " << quoted_list(unexpected) << ".";
  for (const std::string& m : mismatched)
    errors << " size mismatch for " << m << ".";
  GE_CHECK(errors.str().empty(), name(), ": load_state_dict: nothing was loaded;", errors.str());

  NoGradGuard no_grad;
  for (auto& [key, slot] : slots) {
    auto it = state.find(key);
    if (it != state.end()) slot->copy_(it->second);
  }
}

void Module::save(const std::string& path,
                  const std::map<std::string, std::string>& metadata) const {
  save_safetensors(path, state_dict(), metadata);
}

void Module::load(const std::string& path, bool strict) {
  const std::map<std::string, Tensor> state = load_safetensors(path);
  try {
    load_state_dict(state, strict);
  } catch (const Error& e) {
    fail(e.what(), " (file ", path, ")");
  }
}

void Module::train(bool on) {
  training_ = on;
  on_train(on);
  for (auto& [name, child] : children_)
    child->train(on);
}

void Module::to(Device device) {
  for (Slot& s : slots_) {
    Tensor& t = *s.tensor;
    if (t.device() == device) continue;
    if (s.parameter) {
      const bool requires_grad = t.requires_grad();
      const Tensor grad = t.grad();
      Tensor moved = t.detach().to(device);
      moved.requires_grad_(requires_grad);
      if (grad.defined()) moved.set_grad(grad.detach().to(device));
      t = moved;
    } else {
      t = t.detach().to(device);
    }
  }
  for (auto& [name, child] : children_)
    child->to(device);
}

Device Module::device() const {
  std::vector<std::pair<std::string, Tensor*>> slots;
  collect("", true, true, false, slots);
  return slots.empty() ? kCPU : slots.front().second->device();
}

void Module::zero_grad() {
  for (const Tensor& p : parameters())
    p.zero_grad();
}

void Module::requires_grad_(bool requires_grad) {
  for (Tensor p : parameters())
    p.requires_grad_(requires_grad);
}

void Module::copy_from(const Module& other) {
  std::vector<std::pair<std::string, Tensor*>> mine, theirs;
  collect("", true, true, false, mine);
  other.collect("", true, true, false, theirs);
  std::vector<std::string> my_names, their_names;
  for (auto& e : mine)
    my_names.push_back(e.first);
  for (auto& e : theirs)
    their_names.push_back(e.first);
  GE_CHECK(my_names == their_names, name(), ": copy_from: expected a module with the tensors ",
           quoted_list(my_names), ", got ", other.name(), " with ", quoted_list(their_names));
  for (size_t i = 0; i < mine.size(); ++i)
    GE_CHECK(mine[i].second->shape() == theirs[i].second->shape(), name(), ": copy_from: \"",
             mine[i].first, "\": expected shape ", to_string(mine[i].second->shape()), ", got ",
             to_string(theirs[i].second->shape()));
  NoGradGuard no_grad;
  for (size_t i = 0; i < mine.size(); ++i)
    if (mine[i].second->impl() != theirs[i].second->impl())
      mine[i].second->copy_(*theirs[i].second);
}

}  // namespace ge::nn
