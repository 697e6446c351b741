// TrainOptions as JSON, for checkpoint.json.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "ganengine/error.h"
#include "ganengine/models/train/checkpoint.h"

namespace ge::models::train {

using nlohmann::json;

namespace {

// nlohmann's get<int64_t>() converts a JSON float as a C++ cast does: 2.5 truncates and 1e300 is
// undefined behaviour. Integer keys take JSON integers in the type's range only.
[[noreturn]] void wrong_type(const json& v, const std::string& key) {
  fail("TrainOptions: key '", key, "' has the wrong type (", v.type_name(), ")");
}

int64_t as_int64(const json& v, const std::string& key) {
  if (!v.is_number()) wrong_type(v, key);
  if (!v.is_number_integer() ||
      (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)))
    fail("TrainOptions: key '", key, "' is ", v.dump(), ", expected an integer in [", INT64_MIN,
         ", ", INT64_MAX, "]");
  return v.get<int64_t>();
}

uint64_t as_uint64(const json& v, const std::string& key) {
  if (!v.is_number()) wrong_type(v, key);
  if (!v.is_number_unsigned())
    fail("TrainOptions: key '", key, "' is ", v.dump(), ", expected a non-negative integer");
  return v.get<uint64_t>();
}

}  // namespace

std::string train_options_to_json(const TrainOptions& o) {
  json j = {{"out_dir", o.out_dir},
            {"steps", o.steps},
            {"batch", o.batch},
            {"seed", o.seed},
            {"device", o.device.str()},
            {"g_lr", o.g_lr},
            {"d_lr", o.d_lr},
            {"beta1", o.beta1},
            {"beta2", o.beta2},
            {"ema_beta", o.ema_beta},
            {"n_critic", o.n_critic},
            {"lr_decay_steps", o.lr_decay_steps},
            {"label_smoothing", o.label_smoothing},
            {"clip_grad_norm", o.clip_grad_norm},
            {"log_grad_norm", o.log_grad_norm},
            {"sync_bn", o.sync_bn},
            {"instance_noise", o.instance_noise},
            {"instance_noise_steps", o.instance_noise_steps},
            {"checkpoint_every", o.checkpoint_every},
            {"sample_every", o.sample_every},
            {"log_every", o.log_every},
            {"grid_size", o.grid_size},
            {"resume", o.resume},
            {"progress", o.progress},
            {"eval_every", o.eval_every},
            {"data", o.data},
            {"data_b", o.data_b},
            {"init", o.init}};
  return j.dump();
}

TrainOptions train_options_from_json(const std::string& text) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    fail("TrainOptions: not valid JSON: ", e.what());
  }
  GE_CHECK(j.is_object(), "TrainOptions: expected a JSON object, got ", j.type_name());
  TrainOptions o;
  for (const auto& [key, value] : j.items()) {
    try {
      if (key == "out_dir")
        o.out_dir = value.get<std::string>();
      else if (key == "steps")
        o.steps = as_int64(value, key);
      else if (key == "batch")
        o.batch = as_int64(value, key);
      else if (key == "seed")
        o.seed = as_uint64(value, key);
      else if (key == "device")
        o.device = parse_device(value.get<std::string>());
      else if (key == "g_lr")
        o.g_lr = value.get<float>();
      else if (key == "d_lr")
        o.d_lr = value.get<float>();
      else if (key == "beta1")
        o.beta1 = value.get<float>();
      else if (key == "beta2")
        o.beta2 = value.get<float>();
      else if (key == "ema_beta")
        o.ema_beta = value.get<float>();
      else if (key == "n_critic")
        o.n_critic = as_int64(value, key);
      else if (key == "lr_decay_steps")
        o.lr_decay_steps = as_int64(value, key);
      else if (key == "label_smoothing")
        o.label_smoothing = value.get<float>();
      else if (key == "clip_grad_norm")
        o.clip_grad_norm = value.get<float>();
      else if (key == "log_grad_norm")
        o.log_grad_norm = value.get<bool>();
      else if (key == "sync_bn")
        o.sync_bn = value.get<bool>();
      else if (key == "instance_noise")
        o.instance_noise = value.get<float>();
      else if (key == "instance_noise_steps")
        o.instance_noise_steps = as_int64(value, key);
      else if (key == "checkpoint_every")
        o.checkpoint_every = as_int64(value, key);
      else if (key == "sample_every")
        o.sample_every = as_int64(value, key);
      else if (key == "log_every")
        o.log_every = as_int64(value, key);
      else if (key == "grid_size")
        o.grid_size = as_int64(value, key);
      else if (key == "resume")
        o.resume = value.get<bool>();
      else if (key == "eval_every")
        o.eval_every = as_int64(value, key);
      else if (key == "data")
        o.data = value.get<std::string>();
      else if (key == "data_b")
        o.data_b = value.get<std::string>();
      else if (key == "init")
        o.init = value.get<std::string>();
      else if (key == "progress")
        o.progress = value.get<bool>();
      else
        fail("TrainOptions: unknown key '", key, "'");
    } catch (const json::exception&) {
      fail("TrainOptions: key '", key, "' has the wrong type (", value.type_name(), ")");
    }
  }
  return o;
}

}  // namespace ge::models::train
