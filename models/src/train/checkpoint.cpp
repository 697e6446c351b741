#include "ganengine/models/train/checkpoint.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>
#include <type_traits>
#include <utility>
#include <vector>

#include "../file_io.h"
#include "ganengine/autograd.h"
#include "ganengine/error.h"
#include "ganengine/safetensors.h"

namespace ge::models::train {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kFormat = "ganengine-gan-checkpoint";
// 2: loaders, optimizer groups and learning-rate schedules keyed by name. 1: one loader, groups
// G and D at constant rates; still read.
constexpr int kVersion = 2;

std::string hex64(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

// nlohmann converts a JSON float or an out-of-range integer to an integer type as a C++ cast
// does: 2.5 truncates, 1e300 is undefined behaviour. A number for integer type T must be an
// integer T holds (a value of another kind is left to get<T>'s type error).
template <class T>
void check_integer(const json& v, const std::string& file, const std::string& name) {
  if (!v.is_number()) return;
  const bool fits = v.is_number_unsigned()  ? std::in_range<T>(v.get<uint64_t>())
                    : v.is_number_integer() ? std::in_range<T>(v.get<int64_t>())
                                            : false;
  GE_CHECK(fits, file, ": field '", name, "' is ", v.dump(), ", expected an integer in [",
           +std::numeric_limits<T>::min(), ", ", +std::numeric_limits<T>::max(), "]");
}

// The field `key` of `object` converted to T; errors name the file and the field path.
template <class T>
T field(const json& object, const std::string& key, const std::string& file,
        const std::string& where = "") {
  const std::string name = where.empty() ? key : where + "." + key;
  GE_CHECK(object.is_object(), file, ": expected '", where, "' to be an object");
  auto it = object.find(key);
  GE_CHECK(it != object.end(), file, ": missing field '", name, "'");
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    check_integer<T>(*it, file, name);
  } else if constexpr (std::is_same_v<T, std::vector<int64_t>>) {
    if (it->is_array())
      for (const json& element : *it)
        check_integer<int64_t>(element, file, name);
  }
  try {
    return it->template get<T>();
  } catch (const json::exception&) {
    fail(file, ": field '", name, "' has the wrong type (", it->type_name(), ")");
  }
}

const json& member(const json& object, const std::string& key, const std::string& file) {
  auto it = object.find(key);
  GE_CHECK(it != object.end(), file, ": missing field '", key, "'");
  GE_CHECK(it->is_object(), file, ": field '", key, "' should be an object, got ", it->type_name());
  return *it;
}

json record_to_json(const CheckpointRecord& r) {
  json j;
  j["format"] = kFormat;
  j["version"] = kVersion;
  j["step"] = r.step;
  j["rng"] = {{"seed", r.rng_seed}, {"offset", r.rng_offset}};
  j["batch"] = r.batch;
  j["world_size"] = r.world_size;
  j["loaders"] = json::object();
  for (const auto& [slot, l] : r.loaders)
    j["loaders"][slot] = {{"epoch", l.epoch}, {"index", l.index}};
  j["optimizers"] = json::object();
  for (const auto& [name, o] : r.optimizers) {
    json& g = j["optimizers"][name];
    g = {{"steps", o.steps}, {"param_steps", o.param_steps}, {"lr", o.lr}};
    if (o.schedule)
      g["schedule"] = {{"total_steps", o.schedule->total_steps},
                       {"decay_steps", o.schedule->decay_steps}};
  }
  j["elapsed_s"] = r.elapsed_s;
  j["gan_options"] = json::parse(r.gan_options.to_json());
  j["train_options"] = json::parse(train_options_to_json(r.train_options));
  j["tensors"] = {{"file", kCheckpointTensors},
                  {"bytes", r.tensors_bytes},
                  {"fnv1a64", hex64(r.tensors_fnv1a64)}};
  return j;
}

OptimizerRecord optimizer_from_json(const json& j, const std::string& file,
                                    const std::string& where, int version) {
  OptimizerRecord o;
  o.steps = field<int64_t>(j, "steps", file, where);
  o.param_steps = field<std::vector<int64_t>>(j, "param_steps", file, where);
  if (version >= 2) {
    o.lr = field<float>(j, "lr", file, where);
    if (j.contains("schedule")) {
      const json& s = j.at("schedule");
      o.schedule = LrSchedule{field<int64_t>(s, "total_steps", file, where + ".schedule"),
                              field<int64_t>(s, "decay_steps", file, where + ".schedule")};
    }
  }
  return o;
}

data::LoaderState loader_from_json(const json& j, const std::string& file,
                                   const std::string& where) {
  return {field<int64_t>(j, "epoch", file, where), field<int64_t>(j, "index", file, where)};
}

CheckpointRecord record_from_json(const json& j, const std::string& file) {
  GE_CHECK(j.is_object(), file, ": expected a JSON object, got ", j.type_name());
  const auto format = field<std::string>(j, "format", file);
  GE_CHECK(format == kFormat, file, ": format is '", format, "', expected '", kFormat, "'");
  const int version = field<int>(j, "version", file);
  GE_CHECK(version == 1 || version == kVersion, file, ": version ", version,
           " is not supported (expected 1 or ", kVersion, ")");
  CheckpointRecord r;
  r.step = field<int64_t>(j, "step", file);
  GE_CHECK(r.step >= 0, file, ": step is negative (", r.step, ")");
  const json& rng = member(j, "rng", file);
  r.rng_seed = field<uint64_t>(rng, "seed", file, "rng");
  r.rng_offset = field<uint64_t>(rng, "offset", file, "rng");
  if (version == 1) {
    // One loader, the real data of a G/D pair.
    const json& loader = member(j, "loader", file);
    r.loaders["real"] = loader_from_json(loader, file, "loader");
    r.batch = field<int64_t>(loader, "batch", file, "loader");
  } else {
    r.batch = field<int64_t>(j, "batch", file);
    if (j.contains("world_size")) {
      r.world_size = field<int64_t>(j, "world_size", file);
      GE_CHECK(r.world_size >= 1, file, ": world_size must be >= 1, got ", r.world_size);
    }
    for (const auto& [slot, l] : member(j, "loaders", file).items())
      r.loaders[slot] = loader_from_json(l, file, "loaders." + slot);
  }
  const json& opts = member(j, "optimizers", file);
  if (version == 1)
    GE_CHECK(opts.contains("G") && opts.contains("D"), file,
             ": field 'optimizers' needs entries 'G' and 'D'");
  for (const auto& [name, o] : opts.items())
    r.optimizers[name] = optimizer_from_json(o, file, "optimizers." + name, version);
  r.elapsed_s = field<double>(j, "elapsed_s", file);
  const json& gan_options = member(j, "gan_options", file);
  const json& train_options = member(j, "train_options", file);
  try {
    r.gan_options = GanOptions::from_json(gan_options.dump());
    r.train_options = train_options_from_json(train_options.dump());
  } catch (const Error& e) {
    fail(file, ": ", e.what());
  }
  const json& t = member(j, "tensors", file);
  const auto tensor_file = field<std::string>(t, "file", file, "tensors");
  GE_CHECK(tensor_file == kCheckpointTensors, file, ": names tensor file '", tensor_file,
           "', expected '", kCheckpointTensors, "'");
  r.tensors_bytes = field<uint64_t>(t, "bytes", file, "tensors");
  const auto sum = field<std::string>(t, "fnv1a64", file, "tensors");
  char* end = nullptr;
  r.tensors_fnv1a64 = std::strtoull(sum.c_str(), &end, 16);
  GE_CHECK(sum.size() == 16 && end == sum.c_str() + sum.size(), file,
           ": field 'tensors.fnv1a64' is not 16 hex digits ('", sum, "')");
  return r;
}

}  // namespace

uint64_t fnv1a64_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  GE_CHECK(in.good(), path, ": cannot open for reading");
  uint64_t h = 0xcbf29ce484222325ull;
  std::vector<char> buf(1 << 16);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    const std::streamsize n = in.gcount();
    for (std::streamsize i = 0; i < n; ++i) {
      h ^= static_cast<unsigned char>(buf[i]);
      h *= 0x100000001b3ull;
    }
  }
  GE_CHECK(in.eof(), path, ": read error");
  return h;
}

CheckpointRecord parse_checkpoint_json(const std::string& text, const std::string& file) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    fail(file, ": not valid JSON (", e.what(), ")");
  }
  try {
    return record_from_json(j, file);
  } catch (const json::exception& e) {
    fail(file, ": malformed (", e.what(), ")");
  }
}

namespace {

// The record of `json_path`, checked against `tensor_path`, the tensor file it names.
CheckpointRecord read_pair(const std::string& json_path, const std::string& tensor_path) {
  const json j =
      detail::read_json_file(json_path, "no checkpoint here (file missing or unreadable)");
  CheckpointRecord r;
  try {
    r = record_from_json(j, json_path);
  } catch (const json::exception& e) {
    fail(json_path, ": malformed (", e.what(), ")");
  }
  std::error_code ec;
  const auto bytes = fs::file_size(tensor_path, ec);
  GE_CHECK(!ec, tensor_path, ": missing (", json_path, " names it)");
  GE_CHECK(bytes == r.tensors_bytes, tensor_path, ": ", bytes, " bytes, but ", json_path,
           " expects ", r.tensors_bytes,
           " (truncated, or the pair comes from different checkpoints)");
  const uint64_t sum = fnv1a64_file(tensor_path);
  GE_CHECK(sum == r.tensors_fnv1a64, tensor_path, ": checksum ", hex64(sum), " does not match ",
           hex64(r.tensors_fnv1a64), " in ", json_path,
           " (corrupt, or the pair comes from different checkpoints)");
  return r;
}

}  // namespace

CheckpointRecord read_checkpoint(const std::string& out_dir) {
  const std::string json_path = (fs::path(out_dir) / kCheckpointJson).string();
  const std::string tensor_path = (fs::path(out_dir) / kCheckpointTensors).string();
  const std::string next = models::detail::pair_next_text(json_path);
  // A trainer writing the directory meanwhile may replace the tensor file between the reads of
  // the JSON and of the tensors; another try then reads its new pair.
  for (int attempt = 1;; ++attempt) {
    try {
      return read_pair(json_path, tensor_path);
    } catch (const Error&) {
      // A crash between the two renames of write_checkpoint leaves the new tensor file with the
      // JSON that describes it under its next name.
      std::error_code ec;
      if (fs::exists(next, ec)) {
        try {
          return read_pair(next, tensor_path);
        } catch (const Error&) {
          // Neither JSON describes the tensor file: the first one's defect is the one to report.
        }
      }
      if (attempt == 3) throw;
    }
  }
}

namespace {

// Finishes a write_checkpoint interrupted between its two renames: when checkpoint.json does not
// describe the tensor file but the next JSON does, the next JSON takes its place. A next JSON of
// a write interrupted before its commit is removed. Either way the next write may reuse the name.
void roll_forward(const std::string& json_path, const std::string& tensor_path) {
  const std::string next_json = models::detail::pair_next_text(json_path);
  std::error_code ec;
  if (!fs::exists(next_json, ec)) return;
  try {
    read_pair(json_path, tensor_path);
  } catch (const Error&) {
    try {
      read_pair(next_json, tensor_path);
    } catch (const Error&) {
      return;  // neither describes it: left for read_checkpoint to report
    }
    std::ifstream in(next_json, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    models::detail::write_file_atomic("recover_checkpoint", json_path, text.str());
  }
  fs::remove(next_json, ec);
}

}  // namespace

void recover_checkpoint(const std::string& out_dir) {
  const std::string json_path = (fs::path(out_dir) / kCheckpointJson).string();
  const std::string tensor_path = (fs::path(out_dir) / kCheckpointTensors).string();
  roll_forward(json_path, tensor_path);
  std::error_code ec;
  fs::remove(tensor_path + ".next", ec);
  // Temporary files of interrupted writes (the checkpoint, the logs, the loss curve, the sample
  // grids): write_file_atomic names them ".<file>.tmp-<pid>-...", only a trainer writes into
  // these directories, and the caller holds the directory's lock, so every one is stale.
  for (const fs::path& dir : {fs::path(out_dir), fs::path(out_dir) / "samples"}) {
    std::vector<fs::path> stale;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      const std::string name = entry.path().filename().string();
      if (name.size() > 1 && name[0] == '.' && name.find(".tmp-") != std::string::npos)
        stale.push_back(entry.path());
    }
    for (const fs::path& path : stale) {
      std::error_code ignored;
      fs::remove(path, ignored);
    }
  }
}

std::map<std::string, Tensor> read_checkpoint_tensors(const std::string& out_dir) {
  return load_safetensors((fs::path(out_dir) / kCheckpointTensors).string());
}

void write_checkpoint(const std::string& out_dir, const std::map<std::string, Tensor>& tensors,
                      CheckpointRecord record) {
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  GE_CHECK(!ec, out_dir, ": cannot create the output directory (", ec.message(), ")");
  const std::string json_path = (fs::path(out_dir) / kCheckpointJson).string();
  const std::string tensor_path = (fs::path(out_dir) / kCheckpointTensors).string();
  const std::string next_tensors = tensor_path + ".next";
  roll_forward(json_path, tensor_path);
  try {
    save_safetensors(next_tensors, tensors,
                     {{"format", kFormat}, {"step", std::to_string(record.step)}});
  } catch (const Error& e) {
    fail("write_checkpoint: the checkpoint of step ", record.step, " was not written; ", out_dir,
         " keeps the one it had (", e.what(), ")");
  }
  record.tensors_bytes = fs::file_size(next_tensors);
  record.tensors_fnv1a64 = fnv1a64_file(next_tensors);
  models::detail::replace_file_pair("write_checkpoint", next_tensors, tensor_path, json_path,
                                    record_to_json(record).dump(2) + "\n");
}

std::map<std::string, Tensor> entries_with_prefix(const std::map<std::string, Tensor>& tensors,
                                                  const std::string& prefix) {
  std::map<std::string, Tensor> entries;
  for (auto it = tensors.lower_bound(prefix);
       it != tensors.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it)
    entries.emplace(it->first.substr(prefix.size()), it->second);
  return entries;
}

void check_module_state(const nn::Module& module, const std::map<std::string, Tensor>& tensors,
                        const std::string& prefix, const std::string& file) {
  const std::map<std::string, Tensor> entries = entries_with_prefix(tensors, prefix);
  const auto expected = module.state_dict();
  for (const auto& [key, t] : expected) {
    auto it = entries.find(key);
    GE_CHECK(it != entries.end(), file, ": missing tensor '", prefix, key, "'");
    GE_CHECK(it->second.shape() == t.shape(), file, ": tensor '", prefix, key, "' has shape ",
             to_string(it->second.shape()), ", the model expects ", to_string(t.shape()));
  }
  for (const auto& [key, t] : entries)
    GE_CHECK(expected.count(key) != 0, file, ": unexpected tensor '", prefix, key,
             "' (not in the model)");
}

void load_module_state(nn::Module& module, const std::map<std::string, Tensor>& tensors,
                       const std::string& prefix, const std::string& file) {
  check_module_state(module, tensors, prefix, file);
  module.load_state_dict(entries_with_prefix(tensors, prefix), /*strict=*/true);
}

std::vector<std::string> init_networks_from(Model& model, const std::string& out_dir) {
  read_checkpoint(out_dir);  // the pair is whole and consistent
  const std::map<std::string, Tensor> tensors = read_checkpoint_tensors(out_dir);
  const std::string file = (std::filesystem::path(out_dir) / kCheckpointTensors).string();
  std::vector<std::pair<std::string, nn::Module*>> shared;
  std::string names;
  for (const auto& [name, module] : model.networks()) {
    names += (names.empty() ? "" : ", ") + name;
    if (!entries_with_prefix(tensors, name + ".").empty()) shared.emplace_back(name, module);
  }
  GE_CHECK(!shared.empty(), "--init ", out_dir, ": ", file, " holds none of the networks ", names,
           " of arch ", model.options().arch);
  for (const auto& [name, module] : shared)
    check_module_state(*module, tensors, name + ".", file);
  std::vector<std::string> loaded;
  for (const auto& [name, module] : shared) {
    load_module_state(*module, tensors, name + ".", file);
    loaded.push_back(name);
  }
  return loaded;
}

}  // namespace ge::models::train
