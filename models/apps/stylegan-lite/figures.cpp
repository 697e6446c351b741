#include "figures.h"

#include <vector>

#include "ganengine/autograd.h"
#include "ganengine/error.h"
#include "ganengine/ops.h"

namespace ge::apps {

Tensor style_mix_figure(models::StyleGanLite& gan, const StyleMixArgs& a) {
  GE_CHECK(a.rows >= 1 && a.cols >= 1, "style-mix: expected --rows and --cols >= 1, got ", a.rows,
           " and ", a.cols);
  const int64_t num_ws = gan.num_ws();
  const int64_t cutoff = a.coarse_layers < 0 ? num_ws / 2 : a.coarse_layers;
  GE_CHECK(cutoff <= num_ws, "style-mix: --coarse-layers ", a.coarse_layers,
           " exceeds the model's ", num_ws, " style inputs (ws)");
  NoGradGuard no_grad;
  const Device device = gan.generator().device();
  Generator generator(a.seed);
  const Tensor w_rows = gan.mapping(gan.sample_latent(a.rows, generator, device), a.truncation,
                                    /*ema=*/true);
  const Tensor w_cols = gan.mapping(gan.sample_latent(a.cols, generator, device), a.truncation,
                                    /*ema=*/true);
  const int64_t w_dim = w_rows.size(1);
  // ws of every cell, assembled on the host: [rows * cols, num_ws, w_dim].
  const std::vector<float> wr = w_rows.to_vector(), wc = w_cols.to_vector();
  std::vector<float> ws(static_cast<size_t>(a.rows * a.cols * num_ws * w_dim));
  for (int64_t r = 0; r < a.rows; ++r)
    for (int64_t c = 0; c < a.cols; ++c)
      for (int64_t l = 0; l < num_ws; ++l) {
        const float* src =
            l < cutoff ? &wr[static_cast<size_t>(r * w_dim)] : &wc[static_cast<size_t>(c * w_dim)];
        std::copy(src, src + w_dim,
                  &ws[static_cast<size_t>(((r * a.cols + c) * num_ws + l) * w_dim)]);
      }
  const Tensor row_imgs = gan.synthesis(gan.g(true).broadcast(w_rows), /*ema=*/true);
  const Tensor col_imgs = gan.synthesis(gan.g(true).broadcast(w_cols), /*ema=*/true);
  const Tensor mixed =
      gan.synthesis(from_vector(ws, {a.rows * a.cols, num_ws, w_dim}, device), /*ema=*/true);
  // Grid order: a blank (white) corner, the column sources, then each row source followed by its
  // row of mixes.
  std::vector<Tensor> cells = {
      ones({1, row_imgs.size(1), row_imgs.size(2), row_imgs.size(3)}, device), col_imgs};
  for (int64_t r = 0; r < a.rows; ++r) {
    cells.push_back(row_imgs.slice(0, r, r + 1));
    cells.push_back(mixed.slice(0, r * a.cols, (r + 1) * a.cols));
  }
  return cat(cells, 0);
}

Tensor interpolation_figure(models::StyleGanLite& gan, const InterpolateArgs& a) {
  GE_CHECK(a.rows >= 1, "interpolate: expected --rows >= 1, got ", a.rows);
  GE_CHECK(a.steps >= 2, "interpolate: expected --steps >= 2, got ", a.steps);
  NoGradGuard no_grad;
  const Device device = gan.generator().device();
  Generator generator(a.seed);
  const Tensor w_a = gan.mapping(gan.sample_latent(a.rows, generator, device), a.truncation, true);
  const Tensor w_b = gan.mapping(gan.sample_latent(a.rows, generator, device), a.truncation, true);
  const int64_t w_dim = w_a.size(1);
  const std::vector<float> va = w_a.to_vector(), vb = w_b.to_vector();
  std::vector<float> w(static_cast<size_t>(a.rows * a.steps * w_dim));
  for (int64_t r = 0; r < a.rows; ++r)
    for (int64_t k = 0; k < a.steps; ++k) {
      const float t = static_cast<float>(k) / static_cast<float>(a.steps - 1);
      for (int64_t i = 0; i < w_dim; ++i) {
        const auto src = static_cast<size_t>(r * w_dim + i);
        w[static_cast<size_t>((r * a.steps + k) * w_dim + i)] = va[src] + t * (vb[src] - va[src]);
      }
    }
  const Tensor ws = gan.g(true).broadcast(from_vector(w, {a.rows * a.steps, w_dim}, device));
  return gan.synthesis(ws, /*ema=*/true);
}

}  // namespace ge::apps
