// The progress display's text and when it prints; the loss-history reader behind loss_curve.png.
#include "ganengine/models/train/progress.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>

#include "ganengine/models/train/plots.h"
#include "models/train_test_util.h"

namespace ge::testing {
namespace {

using models::train::format_duration;
using models::train::format_progress;
using models::train::ProgressBar;
using models::train::ProgressState;

TEST(Progress, FormatsDurations) {
  EXPECT_EQ(format_duration(0), "0:00:00");
  EXPECT_EQ(format_duration(59.6), "0:01:00");
  EXPECT_EQ(format_duration(3725), "1:02:05");
  EXPECT_EQ(format_duration(100 * 3600 + 1), "100:00:01");
  EXPECT_EQ(format_duration(-1), "?");
}

TEST(Progress, FormatsTheLine) {
  ProgressState s{120, 1000, 845.3, 62, {{"d_loss", 0.69314718}, {"g_loss", 0.712}}};
  EXPECT_EQ(format_progress(s),
            "step 120/1000  12.0%  845 img/s  ETA 0:01:02  d_loss 0.6931  g_loss 0.712");
  ProgressState slow{1, 3, 12.34, -1, {}};
  EXPECT_EQ(format_progress(slow), "step 1/3  33.3%  12.3 img/s  ETA ?");
}

// Reads everything written to `f` so far.
std::string contents(std::FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::string s;
  for (int c; (c = std::fgetc(f)) != EOF;)
    s += static_cast<char>(c);
  return s;
}

TEST(Progress, NonTerminalOutputGetsALinePerLogPoint) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  {
    ProgressBar bar(true, f);
    EXPECT_FALSE(bar.interactive());
    bar.update({1, 4, 10, 3, {}}, false);
    bar.update({2, 4, 10, 2, {}}, true);
    bar.update({3, 4, 10, 1, {}}, false);
    bar.update({4, 4, 10, 0, {}}, true);
  }
  EXPECT_EQ(contents(f),
            "step 2/4  50.0%  10.0 img/s  ETA 0:00:02\n"
            "step 4/4  100.0%  10.0 img/s  ETA 0:00:00\n");
  std::fclose(f);
}

TEST(Progress, DisabledPrintsNothing) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  {
    ProgressBar bar(false, f);
    bar.update({1, 1, 1, 0, {}}, true);
    bar.finish();
  }
  EXPECT_EQ(contents(f), "");
  std::fclose(f);
}

TEST(Plots, LossHistorySkipsLinesItCannotUse) {
  const std::string path = (std::filesystem::path(fresh_dir("h")) / "metrics.jsonl").string();
  write_text(path,
             "{\"step\":10,\"d_loss\":1.5,\"g_loss\":0.5}\n"
             "{\"step\":20,\"d_loss\":null,\"g_loss\":0.5}\n"  // a NaN written as null
             "{\"step\":30,\"g_loss\":0.5}\n"
             "not json\n"
             "{\"step\":40,\"d_loss\":1.25,\"g_loss\":-2}\n"
             "{\"step\":50,\"d_lo");  // cut short by a crash
  const auto h = models::train::read_loss_history(path);
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h[0].step, 10);
  EXPECT_EQ(h[0].d_loss, 1.5);
  EXPECT_EQ(h[1].step, 40);
  EXPECT_EQ(h[1].g_loss, -2);
  EXPECT_TRUE(models::train::read_loss_history(path + ".missing").empty());
}

TEST(Plots, SquareBoundsCenterThePoints) {
  const auto b = models::train::square_bounds({{0.f, 0.f}, {2.f, 1.f}}, 0.f);
  EXPECT_FLOAT_EQ(b.x0, 0.f);
  EXPECT_FLOAT_EQ(b.x1, 2.f);
  EXPECT_FLOAT_EQ(b.y0, -0.5f);
  EXPECT_FLOAT_EQ(b.y1, 1.5f);
  const auto m = models::train::square_bounds({{-1.f, -1.f}, {1.f, 1.f}}, 0.25f);
  EXPECT_FLOAT_EQ(m.x0, -1.5f);
  EXPECT_FLOAT_EQ(m.y1, 1.5f);
}

TEST(Plots, LossCurveAndScatterArePngs) {
  const std::filesystem::path dir = fresh_dir("png");
  models::train::save_loss_curve((dir / "curve.png").string(),
                                 {{10, 1.0, 0.5}, {20, 0.8, 0.9}, {30, 0.7, 1.1}});
  EXPECT_EQ(png_size((dir / "curve.png").string()), std::make_pair(800, 480));
  models::train::save_loss_curve((dir / "empty.png").string(), {});
  EXPECT_EQ(png_size((dir / "empty.png").string()), std::make_pair(800, 480));
  models::train::save_scatter_plot((dir / "s.png").string(), {{0.f, 0.f}, {NAN, 1.f}}, {{1.f, 1.f}},
                                   {-2, 2, -2, 2});
  EXPECT_EQ(png_size((dir / "s.png").string()), std::make_pair(560, 560));
}

}  // namespace
}  // namespace ge::testing
