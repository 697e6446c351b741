// CUDA convolutions as implicit GEMMs (see common/conv.h for the index math): the B operand is
// gathered from the activation tile by tile, never materialised as a column buffer.
//
// One main loop serves the three problems; what differs is how a tile is fetched and where a
// result goes:
//   conv2d_forward            M = out_c/groups   N = batch*out_h*out_w   K = in_c/groups*kh*kw
//   conv_transpose2d_forward  M = in_c/groups    N = batch*phase pixels  K = out_c/groups*taps
//                             one GEMM per stride phase (grid.z = phase x group)
//   conv2d_weight             M = out_c/groups   N = in_c/groups*kh*kw   K = batch*out_h*out_w
//                             K split across blocks when the output alone has too few tiles;
//                             partials are summed by a second kernel in a fixed order
//
// Block tile BM x BN with a K step of 16 and 256 threads, on the FP32 cores or the tensor cores
// (conv_tiles.cuh); the loaders of the three problems are in conv_loaders.cuh. This file holds
// the kernels and their launchers.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <utility>

#include "common/bias_act.h"
#include "common/conv.h"
#include "common/grid.h"
#include "cuda/conv_loaders.cuh"
#include "cuda/conv_tiles.cuh"
#include "cuda/launch.cuh"
#include "ganengine/kernels/conv.h"

namespace ge::kernels::cuda {
namespace {

using namespace conv_detail;  // NOLINT(google-build-using-namespace): this file's own parts

constexpr int64_t kMaxGridYZ = 65535;
constexpr int64_t kMinSplitK = 16 * kBK;  // a split of the weight gradient's K is never shorter

enum class TileKind { Wide, Tall, Thin };

// ---- conv2d_forward ----------------------------------------------------------------------

// grid (N tiles, M tiles, groups).
template <class T>
__global__ void __launch_bounds__(kThreads, T::kMinBlocks)
    conv2d_forward_kernel(Geo g, const float* __restrict__ x, const float* __restrict__ w,
                          ConvEpilogue e, float* __restrict__ y, bool vec_a, bool vec_out) {
  GE_DYNAMIC_SHARED(float, smem);
  const int grp = static_cast<int>(blockIdx.z);
  const TilePos<T> at;
  float acc[T::TM][T::TN] = {};
  ForwardLoader<T> ld(g, w, x, grp, at.m0, at.n0, vec_a);
  main_loop<T>(ld, 0, g.cg * g.khw, smem, acc, at);

  const auto rows = [&](int m) { return channel_row(m, grp, g.og, g.out_hw, e.bias); };
  const auto cols = [&](int n) {
    if (n >= g.batch * g.out_hw) return -1;
    int nb, pix;
    g.div_out_hw.divmod(n, nb, pix);
    return nb * g.out_c * g.out_hw + pix;
  };
  if (e.prelu != nullptr) {  // uniform across the grid
    float slope[T::TM];
    GE_UNROLL
    for (int i = 0; i < T::TM; ++i) {
      const int m = at.m(i);
      slope[i] = m < g.og ? __ldg(e.prelu + grp * g.og + m) : 0.f;
    }
    store_tile<T>(acc, y, e.pre_activation, tile_dest(at, rows, cols), vec_out,
                  [&slope](int i, float z) { return z > 0.f ? z : slope[i] * z; });
    return;
  }
  store_epilogue<T>(acc, y, tile_dest(at, rows, cols), e.act, vec_out);
}

// ---- conv_transpose2d_forward ------------------------------------------------------------

// grid (N tiles of the largest phase, M tiles, phases x groups); out is the conv2d input x.
template <class T>
__global__ void __launch_bounds__(kThreads, T::kTransposeMinBlocks)
    conv_transpose2d_kernel(Geo g, PhaseTable phases, const float* __restrict__ y,
                            const float* __restrict__ w, ConvEpilogue e, float* __restrict__ x,
                            bool vec_out) {
  GE_DYNAMIC_SHARED(float, smem);
  const int grp = static_cast<int>(blockIdx.z) % g.groups;
  const PhaseInfo ph = phases.p[blockIdx.z / g.groups];
  const TilePos<T> at;
  const int n_count = g.batch * ph.rows * ph.cols;
  if (at.n0 >= n_count) return;  // the whole block: this phase has fewer pixels than the largest
  float acc[T::TM][T::TN] = {};
  TransposeLoader<T> ld(g, ph, w, y, grp, at.m0, at.n0);
  // A phase without taps (kernel smaller than the stride) still writes bias + activation.
  main_loop<T>(ld, 0, g.og * ph.taps_h * ph.taps_w, smem, acc, at);

  const auto rows = [&](int m) { return channel_row(m, grp, g.cg, g.in_hw, e.bias); };
  const auto cols = [&](int n) {
    if (n >= n_count) return -1;
    int nb, i, j;
    ph.pixel(n, nb, i, j);
    return nb * g.in_c * g.in_hw + (ph.y0 + i * g.sh) * g.in_w + ph.x0 + j * g.sw;
  };
  store_epilogue<T>(acc, x, tile_dest(at, rows, cols), e.act, vec_out);
}

// ---- conv2d_weight -----------------------------------------------------------------------

// grid (N tiles, M tiles, splits x groups); with splits > 1, `out` is the workspace and split s
// writes the s-th dw-sized slice.
template <class T>
__global__ void __launch_bounds__(kThreads, T::kMinBlocks)
    conv2d_weight_kernel(Geo g, const float* __restrict__ x, const float* __restrict__ dy,
                         float* __restrict__ out, int split_len, bool vec_out) {
  GE_DYNAMIC_SHARED(float, smem);
  const int grp = static_cast<int>(blockIdx.z) % g.groups;
  const int split = static_cast<int>(blockIdx.z) / g.groups;
  const TilePos<T> at;
  const int K = g.batch * g.out_hw, N = g.cg * g.khw;
  const int k_begin = split * split_len;
  const int k_end = K < k_begin + split_len ? K : k_begin + split_len;
  float acc[T::TM][T::TN] = {};
  WeightLoader<T> ld(g, x, dy, grp, at.m0, at.n0, k_end);
  main_loop<T>(ld, k_begin, k_end, smem, acc, at);

  const int slice = split * g.out_c * N;
  const auto rows = [&](int m) {
    return RowDest{m < g.og ? slice + (grp * g.og + m) * N : -1, 0.f};
  };
  const auto cols = [&](int n) { return n < N ? n : -1; };
  store_act_tile<T, BiasActFn::Linear>(acc, out, tile_dest(at, rows, cols), BiasActParams{},
                                       vec_out);
}

// dw[i] = sum over splits s of parts[s * n + i], s ascending.
__global__ void sum_splits_kernel(const float* __restrict__ parts, float* __restrict__ dw,
                                  int64_t n, int splits) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += stride) {
    float s = parts[i];
    for (int k = 1; k < splits; ++k)
      s += parts[k * n + i];
    dw[i] = s;
  }
}

// ---- launchers ---------------------------------------------------------------------------

int64_t ceil_div(int64_t a, int64_t b) {
  return (a + b - 1) / b;
}

constexpr int64_t kIntMax = 0x7fffffff;

// The kernels index with int: every buffer (and the GEMM sizes) must stay below 2^31.
void check_int_range(const ConvShape& s, const char* op) {
  const int64_t x = s.batch * s.in_c * s.in_h * s.in_w;
  const int64_t y = s.batch * s.out_c * s.out_h * s.out_w;
  const int64_t w = s.out_c * (s.groups > 0 ? s.in_c / s.groups : 0) * s.kh * s.kw;
  GE_CHECK(x <= kIntMax && y <= kIntMax && w <= kIntMax, op,
           ": expected every buffer to hold fewer than 2^31 elements, got input ", x, ", output ",
           y, ", weight ", w);
}

void check_epilogue(const ConvEpilogue& e, const char* op) {
  GE_CHECK(e.act.act != BiasActFn::LeakyRelu || e.act.alpha >= 0.f, op,
           ": expected alpha >= 0 for lrelu, got ", e.act.alpha);
  GE_CHECK(std::isfinite(e.act.gain), op, ": expected a finite gain, got ", e.act.gain);
}

TileKind pick_tile(ConvTile forced, int64_t m, int64_t n, int64_t z) {
  switch (forced) {
    case ConvTile::Wide:
      return TileKind::Wide;
    case ConvTile::Tall:
      return TileKind::Tall;
    case ConvTile::Thin:
      return TileKind::Thin;
    case ConvTile::Auto:
      break;
  }
  if (m <= Thin::BM) return TileKind::Thin;
  if (m >= Tall::BM &&
      ceil_div(m, Tall::BM) * ceil_div(n, Tall::BN) * z >= 2 * ge::cuda::sm_count())
    return TileKind::Tall;
  return TileKind::Wide;
}

template <class T>
dim3 grid_of(int64_t m, int64_t n, int64_t z) {
  return dim3(static_cast<unsigned>(ceil_div(n, T::BN)), static_cast<unsigned>(ceil_div(m, T::BM)),
              static_cast<unsigned>(z));
}

// Calls f.template operator()<T>() for the tile kind, on the FP32 or the tensor cores.
template <class F>
void with_tile(TileKind kind, ConvMath math, F&& f) {
  const bool tc = math == ConvMath::Tf32;
  switch (kind) {
    case TileKind::Wide:
      return tc ? f.template operator()<TcWide>() : f.template operator()<Wide>();
    case TileKind::Tall:
      return tc ? f.template operator()<TcTall>() : f.template operator()<Tall>();
    case TileKind::Thin:
      return tc ? f.template operator()<TcThin>() : f.template operator()<Thin>();
  }
}

// The weight gradient's B columns are per-thread registers: Thin's 16 each would not fit.
template <class F>
void with_weight_tile(TileKind kind, ConvMath math, F&& f) {
  const bool tall = kind == TileKind::Tall;
  if (math == ConvMath::Tf32)
    return tall ? f.template operator()<TcTall>() : f.template operator()<TcWide>();
  return tall ? f.template operator()<Tall>() : f.template operator()<Wide>();
}

PhaseInfo phase_info(const ConvShape& s, int64_t p) {
  const ConvPhase c = conv_transpose_phase(s, p);
  PhaseInfo i;
  i.ry = static_cast<int>(c.ry);
  i.rx = static_cast<int>(c.rx);
  i.taps_h = static_cast<int>(c.taps_h);
  i.taps_w = static_cast<int>(c.taps_w);
  i.y0 = static_cast<int>(c.y0);
  i.x0 = static_cast<int>(c.x0);
  i.rows = static_cast<int>(c.rows);
  i.cols = static_cast<int>(c.cols);
  i.qy0 = static_cast<int>(c.qy0);
  i.qx0 = static_cast<int>(c.qx0);
  i.div_taps = FastDiv(static_cast<uint32_t>(std::max(i.taps_h * i.taps_w, 1)));
  i.div_taps_w = FastDiv(static_cast<uint32_t>(std::max(i.taps_w, 1)));
  i.div_pixels = FastDiv(static_cast<uint32_t>(std::max(i.rows * i.cols, 1)));
  i.div_cols = FastDiv(static_cast<uint32_t>(std::max(i.cols, 1)));
  return i;
}

struct WeightSplit {
  TileKind tile;
  int64_t splits;
  int64_t split_len;  // a multiple of kBK
};

// Depends on the shape and the device's SM count only, so the workspace size and the summation
// order (hence the bits of the result) are the same on every run on one kind of GPU.
WeightSplit weight_split(const ConvShape& s, ConvTile forced, const char* op) {
  const int64_t m = s.out_c / s.groups, n = s.in_c / s.groups * s.kh * s.kw;
  const int64_t k = s.batch * s.out_h * s.out_w;
  GE_CHECK(forced != ConvTile::Thin, op, ": expected tile Auto, Wide or Tall, got Thin");
  WeightSplit w;
  w.tile = forced == ConvTile::Wide   ? TileKind::Wide
           : forced == ConvTile::Tall ? TileKind::Tall
           : m >= Tall::BM            ? TileKind::Tall
                                      : TileKind::Wide;
  const int64_t bm = w.tile == TileKind::Tall ? Tall::BM : Wide::BM;
  const int64_t tiles = ceil_div(m, bm) * ceil_div(n, Wide::BN) * s.groups;
  const int64_t numel = s.out_c * n;
  int64_t splits = std::min(ceil_div(2 * ge::cuda::sm_count(), tiles), ceil_div(k, kMinSplitK));
  splits = std::min({splits, kMaxGridYZ / s.groups, kIntMax / std::max<int64_t>(numel, 1)});
  splits = std::max<int64_t>(splits, 1);
  w.split_len = ceil_div(ceil_div(std::max<int64_t>(k, 1), splits), kBK) * kBK;
  w.splits = ceil_div(std::max<int64_t>(k, 1), w.split_len);
  return w;
}

}  // namespace

void conv2d_forward(const ConvShape& s, const float* x, const float* w, const ConvEpilogue& e,
                    float* y, Stream stream, ConvTile tile, ConvMath math) {
  const char* op = "conv2d_forward(cuda)";
  check_conv_shape(s, op);
  check_epilogue(e, op);
  check_prelu_epilogue(e, op, true);
  check_int_range(s, op);
  if (s.batch * s.out_c * s.out_h * s.out_w == 0) return;
  const int64_t m = s.out_c / s.groups, n = s.batch * s.out_h * s.out_w;
  const int64_t k = s.in_c / s.groups * s.kh * s.kw;
  GE_CHECK(y != nullptr && (k == 0 || (x != nullptr && w != nullptr)), op,
           ": expected non-null x, w and y");
  GE_CHECK(s.groups <= kMaxGridYZ, op, ": expected groups <= ", kMaxGridYZ, ", got ", s.groups);
  const Geo g = make_geo(s);
  const bool vec_a = k % 4 == 0 && aligned16(w);
  const bool vec_out = s.out_h * s.out_w % 4 == 0 && aligned16(y);
  with_tile(pick_tile(tile, m, n, s.groups), math, [&]<class T>() {
    GE_LAUNCH((conv2d_forward_kernel<T>), grid_of<T>(m, n, s.groups), kThreads, T::kSmemBytes,
              stream, g, x, w, e, y, vec_a, vec_out);
  });
}

void conv_transpose2d_forward(const ConvShape& s, const float* y, const float* w,
                              const ConvEpilogue& e, float* x, Stream stream, ConvTile tile,
                              ConvMath math) {
  const char* op = "conv_transpose2d_forward(cuda)";
  check_conv_shape(s, op);
  check_epilogue(e, op);
  check_prelu_epilogue(e, op, false);
  check_int_range(s, op);
  if (s.batch * s.in_c * s.in_h * s.in_w == 0) return;
  GE_CHECK(x != nullptr && (s.out_c == 0 || (y != nullptr && w != nullptr)), op,
           ": expected non-null y, w and x");
  const Geo g = make_geo(s);
  const int64_t m = s.in_c / s.groups;
  const int64_t phases = s.stride_h * s.stride_w;
  const int64_t per_launch = std::min<int64_t>(kMaxPhases, kMaxGridYZ / s.groups);
  GE_CHECK(per_launch >= 1, op, ": expected groups <= ", kMaxGridYZ, ", got ", s.groups);
  // Stride 1 has one phase covering every pixel in order: rows of the output stay contiguous.
  const bool vec_out = phases == 1 && s.in_h * s.in_w % 4 == 0 && aligned16(x);
  for (int64_t first = 0; first < phases; first += per_launch) {
    PhaseTable table{};
    table.count = static_cast<int>(std::min(per_launch, phases - first));
    int64_t n_max = 0;
    for (int i = 0; i < table.count; ++i) {
      table.p[i] = phase_info(s, first + i);
      n_max = std::max<int64_t>(n_max, s.batch * table.p[i].rows * table.p[i].cols);
    }
    if (n_max == 0) continue;
    const int64_t z = table.count * s.groups;
    with_tile(pick_tile(tile, m, n_max, z), math, [&]<class T>() {
      GE_LAUNCH((conv_transpose2d_kernel<T>), grid_of<T>(m, n_max, z), kThreads, T::kSmemBytes,
                stream, g, table, y, w, e, x, vec_out);
    });
  }
}

int64_t conv2d_weight_workspace_floats(const ConvShape& s, ConvTile tile) {
  const char* op = "conv2d_weight_workspace_floats(cuda)";
  check_conv_shape(s, op);
  const int64_t numel = s.out_c * (s.in_c / s.groups) * s.kh * s.kw;
  const WeightSplit w = weight_split(s, tile, op);
  return w.splits > 1 ? w.splits * numel : 0;
}

void conv2d_weight(const ConvShape& s, const float* x, const float* dy, float* dw, float* workspace,
                   Stream stream, ConvTile tile, ConvMath math) {
  const char* op = "conv2d_weight(cuda)";
  check_conv_shape(s, op);
  check_int_range(s, op);
  const int64_t m = s.out_c / s.groups, n = s.in_c / s.groups * s.kh * s.kw;
  const int64_t numel = s.out_c * n;
  if (numel == 0) return;
  const int64_t k = s.batch * s.out_h * s.out_w;
  GE_CHECK(dw != nullptr && (k == 0 || (x != nullptr && dy != nullptr)), op,
           ": expected non-null x, dy and dw");
  GE_CHECK(k <= kIntMax, op, ": expected batch * out_h * out_w < 2^31, got ", k);
  const WeightSplit split = weight_split(s, tile, op);
  GE_CHECK(split.splits == 1 || workspace != nullptr, op, ": expected a workspace of ",
           split.splits * numel, " floats (conv2d_weight_workspace_floats), got null");
  GE_CHECK(s.groups * split.splits <= kMaxGridYZ, op, ": expected groups <= ", kMaxGridYZ, ", got ",
           s.groups);
  const Geo g = make_geo(s);
  float* out = split.splits > 1 ? workspace : dw;
  const bool vec_out = n % 4 == 0 && aligned16(out);
  const int64_t z = s.groups * split.splits;
  with_weight_tile(split.tile, math, [&]<class T>() {
    GE_LAUNCH((conv2d_weight_kernel<T>), grid_of<T>(m, n, z), kThreads, T::kSmemBytes, stream, g, x,
              dy, out, static_cast<int>(split.split_len), vec_out);
  });
  if (split.splits > 1) {
    GE_LAUNCH(sum_splits_kernel, grid_for(numel), kBlock, 0, stream, workspace, dw, numel,
              static_cast<int>(split.splits));
  }
}

}  // namespace ge::kernels::cuda
