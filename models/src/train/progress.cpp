#include "ganengine/models/train/progress.h"

#include <unistd.h>

#include <cmath>
#include <string>

namespace ge::models::train {
namespace {

std::string printf_string(const char* format, double value) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, value);
  return buf;
}

}  // namespace

std::string format_duration(double seconds) {
  if (!(seconds >= 0) || !std::isfinite(seconds)) return "?";
  const auto total = static_cast<long long>(std::llround(seconds));
  char buf[48];
  std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", total / 3600, total / 60 % 60, total % 60);
  return buf;
}

std::string format_progress(const ProgressState& s) {
  const double pct = s.total > 0 ? 100.0 * static_cast<double>(s.step) / s.total : 100.0;
  std::string line = "step " + std::to_string(s.step) + "/" + std::to_string(s.total) + "  " +
                     printf_string("%.1f%%", pct) + "  " +
                     printf_string(s.img_per_s >= 100 ? "%.0f" : "%.1f", s.img_per_s) +
                     " img/s  ETA " + format_duration(s.eta_s);
  for (const auto& [name, value] : s.values)
    line += "  " + name + " " + printf_string("%.4g", value);
  return line;
}

ProgressBar::ProgressBar(bool enabled, std::FILE* out) : enabled_(enabled), out_(out) {
  interactive_ = enabled_ && ::isatty(::fileno(out_)) != 0;
}

ProgressBar::~ProgressBar() {
  finish();
}

void ProgressBar::update(const ProgressState& state, bool log_point) {
  if (!enabled_) return;
  const std::string line = format_progress(state);
  if (interactive_) {
    // Pad with spaces so a shorter line fully covers the previous one.
    const size_t pad = last_width_ > line.size() ? last_width_ - line.size() : 0;
    std::fprintf(out_, "\r%s%s", line.c_str(), std::string(pad, ' ').c_str());
    last_width_ = line.size();
    open_line_ = true;
  } else if (log_point) {
    std::fprintf(out_, "%s\n", line.c_str());
  }
  std::fflush(out_);
}

void ProgressBar::finish() {
  if (open_line_) {
    std::fputc('\n', out_);
    std::fflush(out_);
    open_line_ = false;
    last_width_ = 0;
  }
}

}  // namespace ge::models::train
