#pragma once
// The trainer's progress display on stderr: one line redrawn in place on a terminal, a line per
// log interval otherwise (logs, CI).
#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

namespace ge::models::train {

struct ProgressState {
  int64_t step = 0, total = 0;
  double img_per_s = 0;
  double eta_s = -1;                                   // < 0: unknown yet
  std::vector<std::pair<std::string, double>> values;  // e.g. {"d_loss", 0.69}
};

// "1:02:05" (hours unbounded); negative: "?".
std::string format_duration(double seconds);
// "step 120/1000  12.0%  845 img/s  ETA 0:01:02  d_loss 0.6931  g_loss 0.7120"
std::string format_progress(const ProgressState& state);

class ProgressBar {
 public:
  // Disabled: prints nothing. A terminal `out` gets one line redrawn with '\r'.
  explicit ProgressBar(bool enabled, std::FILE* out = stderr);
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;
  // Every step; `log_point`: a step on which a non-terminal output gets its line.
  void update(const ProgressState& state, bool log_point);
  // Ends the redrawn line so later output starts on a fresh one.
  void finish();
  bool interactive() const { return interactive_; }

 private:
  bool enabled_;
  bool interactive_ = false;
  bool open_line_ = false;
  size_t last_width_ = 0;
  std::FILE* out_;
};

}  // namespace ge::models::train
