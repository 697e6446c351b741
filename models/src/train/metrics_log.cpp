#include "metrics_log.h"

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

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
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    GE_CHECK(out.good(), path, ": cannot write ", tmp);
    out << kept;
    GE_CHECK(out.good(), path, ": writing ", tmp, " failed");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  GE_CHECK(!ec, path, ": cannot rename ", tmp, " over it (", ec.message(), ")");
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

}  // namespace ge::models::train
