#include "ganengine/models/gan_options.h"

#include <nlohmann/json.hpp>

#include <set>
#include <string>
#include <vector>

#include "ganengine/error.h"

namespace ge::models {

namespace {

using nlohmann::json;

// One table drives both directions, so a field added to GanOptions and forgotten here fails the
// round-trip test instead of silently vanishing from checkpoints.
template <class Fn>
void for_each_field(GanOptions& o, Fn&& fn) {
  fn("arch", o.arch);
  fn("channels", o.channels);
  fn("resolution", o.resolution);
  fn("latent_dim", o.latent_dim);
  fn("num_classes", o.num_classes);
  fn("width", o.width);
  fn("gp_lambda", o.gp_lambda);
  fn("weight_clip", o.weight_clip);
  fn("loss", o.loss);
  fn("minibatch_kernels", o.minibatch_kernels);
  fn("minibatch_kernel_dim", o.minibatch_kernel_dim);
  fn("fade_images", o.fade_images);
  fn("stable_images", o.stable_images);
  fn("w_dim", o.w_dim);
  fn("mapping_layers", o.mapping_layers);
  fn("style_mixing_prob", o.style_mixing_prob);
  fn("r1_gamma", o.r1_gamma);
  fn("r1_interval", o.r1_interval);
  fn("w_avg_beta", o.w_avg_beta);
  fn("pack", o.pack);
  fn("resnet_blocks", o.resnet_blocks);
  fn("d_layers", o.d_layers);
  fn("lambda_cycle", o.lambda_cycle);
  fn("lambda_identity", o.lambda_identity);
  fn("pool_size", o.pool_size);
  fn("cycle_noise", o.cycle_noise);
  fn("sr_blocks", o.sr_blocks);
  fn("sr_norm", o.sr_norm);
  fn("sr_skip", o.sr_skip);
  fn("content_loss", o.content_loss);
  fn("adversarial_weight", o.adversarial_weight);
}

const char* kind_of(const std::string&) {
  return "a string";
}
const char* kind_of(int64_t) {
  return "an integer";
}
const char* kind_of(float) {
  return "a number";
}

bool fits(const json& v, const std::string&) {
  return v.is_string();
}
bool fits(const json& v, int64_t) {
  return v.is_number_integer();
}
bool fits(const json& v, float) {
  return v.is_number();
}

}  // namespace

std::string GanOptions::to_json() const {
  json j = json::object();
  GanOptions copy = *this;
  for_each_field(copy, [&](const char* key, auto& value) { j[key] = value; });
  return j.dump(2);
}

GanOptions GanOptions::from_json(const std::string& text) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    fail("GanOptions::from_json: expected a JSON object, got unparsable text (", e.what(), ")");
  }
  GE_CHECK(j.is_object(), "GanOptions::from_json: expected a JSON object, got ", j.type_name());
  GanOptions o;
  std::set<std::string> known;
  for_each_field(o, [&](const char* key, auto& value) {
    known.insert(key);
    const auto it = j.find(key);
    if (it == j.end()) return;
    GE_CHECK(fits(*it, value), "GanOptions::from_json: expected \"", key, "\" to be ",
             kind_of(value), ", got ", it->dump());
    value = it->template get<std::remove_reference_t<decltype(value)>>();
  });
  std::vector<std::string> unknown;
  for (const auto& item : j.items())
    if (!known.count(item.key())) unknown.push_back(item.key());
  if (!unknown.empty()) {
    std::string names, accepted;
    for (const std::string& k : unknown)
      names += (names.empty() ? "\"" : ", \"") + k + "\"";
    for (const std::string& k : known)
      accepted += (accepted.empty() ? "" : ", ") + k;
    fail("GanOptions::from_json: unknown key", unknown.size() > 1 ? "s " : " ", names,
         "; expected keys among ", accepted);
  }
  return o;
}

}  // namespace ge::models
