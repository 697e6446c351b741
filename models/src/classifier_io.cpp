// The classifier's file pair: classifier.safetensors (the state dict) and classifier.json (the
// training report and the tensor file's size and FNV-1a checksum), so a torn or mixed pair, or
// a file of another architecture, is refused rather than read into wrong metrics.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "file_io.h"
#include "ganengine/error.h"
#include "ganengine/models/classifier.h"
#include "ganengine/models/train/checkpoint.h"
#include "ganengine/safetensors.h"

namespace ge::models {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kFormat = "ganengine-mnist-classifier";
constexpr int kVersion = 1;
// Names the layer stack of MnistClassifier; bump it whenever that stack changes.
constexpr const char* kArchitecture = "lenet5-lrelu-32";
constexpr const char* kJsonFile = "classifier.json";
constexpr const char* kTensorFile = "classifier.safetensors";

std::string hex64(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string how_to_make(const std::string& dir) {
  return "train one with `gan classifier train --out " + dir + "`";
}

template <class T>
T field(const json& object, const char* key, const std::string& file, const char* where = "") {
  const std::string name = *where ? std::string(where) + "." + key : std::string(key);
  GE_CHECK(object.is_object(), file, ": expected '", where, "' to be an object");
  const auto it = object.find(key);
  GE_CHECK(it != object.end(), file, ": missing field '", name, "'");
  try {
    return it->template get<T>();
  } catch (const json::exception&) {
    fail(file, ": field '", name, "' has the wrong type (", it->type_name(), ")");
  }
}

json report_to_json(const ClassifierReport& r) {
  return json{
      {"epochs", r.epochs},         {"train_size", r.train_size},       {"test_size", r.test_size},
      {"train_loss", r.train_loss}, {"test_accuracy", r.test_accuracy}, {"seconds", r.seconds}};
}

ClassifierReport report_from_json(const json& j, const std::string& file) {
  ClassifierReport r;
  r.epochs = field<int64_t>(j, "epochs", file, "report");
  r.train_size = field<int64_t>(j, "train_size", file, "report");
  r.test_size = field<int64_t>(j, "test_size", file, "report");
  r.train_loss = field<double>(j, "train_loss", file, "report");
  r.test_accuracy = field<double>(j, "test_accuracy", file, "report");
  r.seconds = field<double>(j, "seconds", file, "report");
  return r;
}

// Reads and checks classifier.json against the tensor file beside it.
ClassifierReport read_record(const std::string& dir, const std::string& json_path,
                             const std::string& tensor_path) {
  const json j = detail::read_json_file(
      json_path,
      ge::detail::concat("no classifier here (file missing or unreadable); ", how_to_make(dir)));
  GE_CHECK(j.is_object(), json_path, ": expected a JSON object, got ", j.type_name());
  const auto format = field<std::string>(j, "format", json_path);
  GE_CHECK(format == kFormat, json_path, ": format is '", format, "', expected '", kFormat, "'");
  const int version = field<int>(j, "version", json_path);
  GE_CHECK(version == kVersion, json_path, ": version ", version, " is not supported (expected ",
           kVersion, ")");
  const auto arch = field<std::string>(j, "architecture", json_path);
  GE_CHECK(arch == kArchitecture, json_path, ": architecture is '", arch, "', this build reads '",
           kArchitecture, "'; ", how_to_make(dir));
  const ClassifierReport report = report_from_json(j.value("report", json()), json_path);
  const json tensors = j.value("tensors", json());
  const auto file = field<std::string>(tensors, "file", json_path, "tensors");
  GE_CHECK(file == kTensorFile, json_path, ": names tensor file '", file, "', expected '",
           kTensorFile, "'");
  const auto bytes = field<uint64_t>(tensors, "bytes", json_path, "tensors");
  const auto sum_text = field<std::string>(tensors, "fnv1a64", json_path, "tensors");
  char* end = nullptr;
  const uint64_t sum = std::strtoull(sum_text.c_str(), &end, 16);
  GE_CHECK(sum_text.size() == 16 && end == sum_text.c_str() + sum_text.size(), json_path,
           ": field 'tensors.fnv1a64' is not 16 hex digits ('", sum_text, "')");

  std::error_code ec;
  const auto actual_bytes = fs::file_size(tensor_path, ec);
  GE_CHECK(!ec, tensor_path, ": missing (", json_path, " names it); ", how_to_make(dir));
  GE_CHECK(actual_bytes == bytes, tensor_path, ": ", actual_bytes, " bytes, but ", json_path,
           " expects ", bytes, " (truncated, or the pair comes from different runs)");
  const uint64_t actual_sum = train::fnv1a64_file(tensor_path);
  GE_CHECK(actual_sum == sum, tensor_path, ": checksum ", hex64(actual_sum), " does not match ",
           sum_text, " in ", json_path, " (corrupt, or the pair comes from different runs)");
  return report;
}

}  // namespace

void save_classifier(const std::string& dir, MnistClassifier& net, const ClassifierReport& report) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  GE_CHECK(!ec, dir, ": cannot create the classifier directory (", ec.message(), ")");
  const std::string json_path = (fs::path(dir) / kJsonFile).string();
  const std::string tensor_path = (fs::path(dir) / kTensorFile).string();
  const std::string next_tensors = tensor_path + ".next";
  save_safetensors(next_tensors, net.state_dict(),
                   {{"format", kFormat}, {"architecture", kArchitecture}});
  json j;
  j["format"] = kFormat;
  j["version"] = kVersion;
  j["architecture"] = kArchitecture;
  j["report"] = report_to_json(report);
  j["tensors"] = {{"file", kTensorFile},
                  {"bytes", fs::file_size(next_tensors)},
                  {"fnv1a64", hex64(train::fnv1a64_file(next_tensors))}};
  detail::replace_file_pair("save_classifier", next_tensors, tensor_path, json_path,
                            j.dump(2) + "\n");
}

std::unique_ptr<MnistClassifier> load_classifier(const std::string& dir, Device device,
                                                 ClassifierReport* report) {
  std::error_code ec;
  GE_CHECK(fs::is_directory(dir, ec), dir, ": no classifier here (not a directory); ",
           how_to_make(dir));
  const std::string json_path = (fs::path(dir) / kJsonFile).string();
  const std::string tensor_path = (fs::path(dir) / kTensorFile).string();
  const ClassifierReport record = [&] {
    try {
      return read_record(dir, json_path, tensor_path);
    } catch (const Error&) {
      // A save interrupted between its two renames leaves the new tensor file with the JSON that
      // describes it under its next name.
      const std::string next = detail::pair_next_text(json_path);
      if (!fs::exists(next, ec)) throw;
      try {
        return read_record(dir, next, tensor_path);
      } catch (const Error&) {
      }
      throw;  // neither JSON describes the tensors: the first one's defect is the one to report
    }
  }();
  const std::map<std::string, Tensor> tensors = load_safetensors(tensor_path);
  // The initial weights are overwritten by the file's.
  Generator unused(0);
  auto net = std::make_unique<MnistClassifier>(unused);
  train::load_module_state(*net, tensors, "", tensor_path);
  net->to(device);
  net->eval();
  if (report != nullptr) *report = record;
  return net;
}

}  // namespace ge::models
