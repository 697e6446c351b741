#include "ganengine/models/train/plots.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "ganengine/models/image_io.h"
#include "plot_axes.h"

namespace ge::models::train {

PlotBounds square_bounds(const std::vector<Point2>& points, float margin) {
  float x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
  for (const auto& [x, y] : points) {
    if (!std::isfinite(x) || !std::isfinite(y)) continue;
    x0 = std::min(x0, x);
    x1 = std::max(x1, x);
    y0 = std::min(y0, y);
    y1 = std::max(y1, y);
  }
  if (!(x1 >= x0)) return {};
  const float cx = (x0 + x1) / 2, cy = (y0 + y1) / 2;
  float half = std::max({x1 - x0, y1 - y0, 1e-3f}) / 2;
  half *= 1 + 2 * margin;
  return {cx - half, cx + half, cy - half, cy + half};
}

void save_scatter_plot(const std::string& path, const std::vector<Point2>& points,
                       const std::vector<Point2>& reference, const PlotBounds& bounds) {
  Canvas canvas(560, 560);
  Axes axes(canvas, 70, 20, 20, 70, bounds.x0, bounds.x1, bounds.y0, bounds.y1);
  axes.draw();
  for (const auto& [x, y] : reference)
    canvas.dot(axes.px(x), axes.py(y), 1, 185, 185, 185);
  for (const auto& [x, y] : points)
    canvas.dot(axes.px(x), axes.py(y), 2, 30, 90, 220);
  canvas.save_png(path);
}

std::vector<LossPoint> read_loss_history(const std::string& metrics_path) {
  std::vector<LossPoint> history;
  std::ifstream in(metrics_path);
  std::string line;
  while (std::getline(in, line)) {
    const auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object() || !j.contains("step") || !j.contains("d_loss") || !j.contains("g_loss"))
      continue;
    if (!j["step"].is_number() || !j["d_loss"].is_number() || !j["g_loss"].is_number()) continue;
    history.push_back(
        {j["step"].get<int64_t>(), j["d_loss"].get<double>(), j["g_loss"].get<double>()});
  }
  return history;
}

void save_loss_curve(const std::string& path, const std::vector<LossPoint>& history) {
  Canvas canvas(800, 480);
  double lo = INFINITY, hi = -INFINITY;
  int64_t last = 1;
  for (const LossPoint& p : history) {
    for (double v : {p.d_loss, p.g_loss})
      if (std::isfinite(v)) {
        lo = std::min(lo, v);
        hi = std::max(hi, v);
      }
    last = std::max(last, p.step);
  }
  if (!(hi >= lo)) lo = 0, hi = 1;
  const double pad = std::max(hi - lo, 1e-3) * 0.05;
  Axes axes(canvas, 80, 40, 20, 40, 0, static_cast<double>(last), lo - pad, hi + pad);
  axes.draw();
  const Rgb d{215, 45, 45}, g{35, 85, 215};
  auto plot = [&](double LossPoint::*value, Rgb c) {
    for (size_t i = 0; i < history.size(); ++i) {
      const float x = axes.px(static_cast<double>(history[i].step));
      const float y = axes.py(history[i].*value);
      if (history.size() == 1) canvas.dot(x, y, 2, c.r, c.g, c.b);
      if (i == 0) continue;
      canvas.line(axes.px(static_cast<double>(history[i - 1].step)), axes.py(history[i - 1].*value),
                  x, y, c.r, c.g, c.b);
    }
  };
  plot(&LossPoint::d_loss, d);
  plot(&LossPoint::g_loss, g);
  // Legend above the plot's top-right corner.
  const int lx = canvas.width - 140, ly = 14;
  canvas.line(static_cast<float>(lx), ly + 5.f, lx + 24.f, ly + 5.f, d.r, d.g, d.b);
  draw_text(canvas, lx + 30, ly, "D", d);
  canvas.line(lx + 60.f, ly + 5.f, lx + 84.f, ly + 5.f, g.r, g.g, g.b);
  draw_text(canvas, lx + 90, ly, "G", g);
  canvas.save_png(path);
}

}  // namespace ge::models::train
