#include "metrics_log.h"

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "../file_io.h"
#include "ganengine/error.h"

namespace ge::models::train {

MetricsLog::MetricsLog(const std::string& path, std::optional<int64_t> keep_through) : path_(path) {
  std::string kept;
  if (keep_through) {
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
      const auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
      if (j.is_object() && j.contains("step") && j["step"].is_number_integer() &&
          j["step"].get<int64_t>() <= *keep_through)
        kept += line + "\n";
    }
  }
  detail::write_file_atomic("MetricsLog", path, kept);
  out_.open(path, std::ios::binary | std::ios::app);
  GE_CHECK(out_.good(), path, ": cannot open for appending");
}

void MetricsLog::write(int64_t step, double time_s, double img_per_s,
                       const std::vector<std::pair<std::string, double>>& values) {
  nlohmann::ordered_json j;
  j["step"] = step;
  j["time"] = time_s;
  j["img_per_s"] = img_per_s;
  for (const auto& [name, value] : values)
    j[name] = value;  // NaN/Inf become null: JSON has no such numbers
  out_ << j.dump() << '\n';
  out_.flush();
  GE_CHECK(out_.good(), path_, ": writing a metrics line failed");
}

void MetricsLog::write_report(int64_t step, const std::string& report) {
  nlohmann::ordered_json j;
  j["step"] = step;
  j["eval"] = nlohmann::ordered_json::parse(report, nullptr, /*allow_exceptions=*/false);
  GE_CHECK(!j["eval"].is_discarded(), path_, ": the evaluator's report at step ", step,
           " is not JSON");
  out_ << j.dump() << '\n';
  out_.flush();
  GE_CHECK(out_.good(), path_, ": writing an evaluation line failed");
}

}  // namespace ge::models::train
