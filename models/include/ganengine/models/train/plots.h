#pragma once
// The trainer's PNG plots: scatter plots of 2-D samples and the loss curve of a run.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace ge::models::train {

using Point2 = std::pair<float, float>;

struct PlotBounds {
  float x0 = -1, x1 = 1, y0 = -1, y1 = 1;
};
// A square region around `points` with `margin` (a fraction of the extent) on each side.
PlotBounds square_bounds(const std::vector<Point2>& points, float margin = 0.15f);

// `points` as dots over `reference` (e.g. real data, drawn in light gray), in `bounds`, with
// axes and tick labels. Atomic write; errors name the path.
void save_scatter_plot(const std::string& path, const std::vector<Point2>& points,
                       const std::vector<Point2>& reference, const PlotBounds& bounds);

struct LossPoint {
  int64_t step = 0;
  double d_loss = 0, g_loss = 0;
};
// The (step, d_loss, g_loss) of every metrics.jsonl line that has them; unparsable lines (a
// line cut short by a crash) are skipped. A missing file gives an empty history.
std::vector<LossPoint> read_loss_history(const std::string& metrics_path);
// D (red) and G (blue) loss over steps, with axes, tick labels and a legend.
void save_loss_curve(const std::string& path, const std::vector<LossPoint>& history);

}  // namespace ge::models::train
