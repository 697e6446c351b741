#pragma once
// metrics.jsonl: one JSON object a log interval (step, time, img_per_s, then every logged value).
#include <cstdint>
#include <fstream>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace ge::models::train {

class MetricsLog {
 public:
  // A fresh run starts the file empty; a resumed one (`keep_through` set) keeps the lines up to
  // and including that step, dropping what a crashed run logged after its last checkpoint.
  MetricsLog(const std::string& path, std::optional<int64_t> keep_through);
  void write(int64_t step, double time_s, double img_per_s,
             const std::vector<std::pair<std::string, double>>& values);
  // {"step": step, "eval": <report>} where `report` is a JSON object's text (eval.jsonl).
  void write_report(int64_t step, const std::string& report);
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::ofstream out_;
};

}  // namespace ge::models::train
