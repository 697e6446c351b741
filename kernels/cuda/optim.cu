// CUDA multi-tensor Adam, RMSprop, clamp and EMA. A launch takes a table of up to N tensors by
// value in its kernel parameters (under 4 KiB, so any toolkit and architecture accepts it): W
// written and R read-only pointers per tensor, its size, and the prefix sums of its chunk counts.
// Block b finds its tensor by a binary search of those prefix sums and updates one chunk of it.
// Keeping prefix sums rather than PyTorch's per-block (tensor, chunk) entries means the table's
// size bounds the number of tensors a launch takes, never the number of blocks, so a list of up to
// N tensors is always one launch however large they are.
//
// The chunk size is chosen per launch so that the grid fills the GPU (about 8 blocks per SM)
// for small lists and stays at 64 Ki elements per block for large ones; a chunk is a multiple of
// 4 * kThreads, so every chunk of a 16-byte aligned tensor starts 16-byte aligned and the body
// moves float4s. Tensors with any misaligned buffer take a scalar loop.
#include <cstdint>

#include "common/optim.h"
#include "cuda/launch.cuh"
#include "cuda/vec4.cuh"
#include "ganengine/kernels/optim.h"

namespace ge::kernels::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int64_t kMinChunk = 4 * kThreads;  // one float4 per thread
constexpr int64_t kMaxChunk = 64 * kMinChunk;
// The blocks a launch aims for: 8 resident blocks of 256 threads on every SM.
int64_t target_blocks() {
  return 8 * static_cast<int64_t>(ge::cuda::sm_count());
}

// Arrays of R read-only operands keep one slot when R is 0 (clamp reads nothing else).
template <int R>
inline constexpr int kSlots = R > 0 ? R : 1;

template <int W, int R, int N>
struct TensorTable {
  float* out[W][N];
  const float* in[kSlots<R>][N];
  int64_t n[N];
  int first_block[N + 1];  // tensor i owns blocks [first_block[i], first_block[i + 1])
  int count;
};

// Kernel parameters are limited to 4 KiB on toolkits before 12.1; stay below with room for the
// op and the chunk size.
static_assert(sizeof(TensorTable<3, 1, kAdamTensorsPerLaunch>) <= 3584, "Adam table too large");
static_assert(sizeof(TensorTable<2, 1, kRmspropTensorsPerLaunch>) <= 3584,
              "RMSprop table too large");
static_assert(sizeof(TensorTable<1, 0, kClampTensorsPerLaunch>) <= 3584, "clamp table too large");
static_assert(sizeof(TensorTable<1, 1, kEmaTensorsPerLaunch>) <= 3584, "EMA table too large");

// lanes[k][slot] = element k of v.
template <int S>
__device__ __forceinline__ void scatter4(const float4& v, float (&lanes)[4][S], int slot) {
  lanes[0][slot] = v.x;
  lanes[1][slot] = v.y;
  lanes[2][slot] = v.z;
  lanes[3][slot] = v.w;
}

// Op: a functor with `void operator()(float (&out)[W], const float (&in)[kSlots<R>]) const` that
// updates one element in place.
template <int W, int R, int N, typename Op>
__global__ void __launch_bounds__(kThreads)
    multi_tensor_kernel(const __grid_constant__ TensorTable<W, R, N> table, int64_t chunk, Op op) {
  // The largest i with first_block[i] <= blockIdx.x; uniform across the block.
  const int b = static_cast<int>(blockIdx.x);
  int lo = 0, hi = table.count - 1;
  while (lo < hi) {
    const int mid = (lo + hi + 1) / 2;
    if (table.first_block[mid] <= b) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  const int t = lo;
  const int64_t n = table.n[t];
  const int64_t start = static_cast<int64_t>(b - table.first_block[t]) * chunk;
  const int64_t end = start + chunk < n ? start + chunk : n;

  float* out[W];
  const float* in[kSlots<R>];
  bool vec = true;
  for (int w = 0; w < W; ++w) {
    out[w] = table.out[w][t];
    vec = vec && aligned16(out[w]);
  }
  for (int r = 0; r < R; ++r) {
    in[r] = table.in[r][t];
    vec = vec && aligned16(in[r]);
  }

  int64_t scalar_from = start;
  if (vec) {
    const int64_t nvec = (end - start) / 4;
    for (int64_t j = threadIdx.x; j < nvec; j += kThreads) {
      const int64_t e = start + 4 * j;
      // Element-major, so that op updates o[k] and reads x[k] in place.
      float o[4][W], x[4][kSlots<R>];
      for (int w = 0; w < W; ++w)
        scatter4(load4(out[w] + e), o, w);
      for (int r = 0; r < R; ++r)
        scatter4(load4(in[r] + e), x, r);
      for (int k = 0; k < 4; ++k)
        op(o[k], x[k]);
      for (int w = 0; w < W; ++w)
        *reinterpret_cast<float4*>(out[w] + e) = make_float4(o[0][w], o[1][w], o[2][w], o[3][w]);
    }
    scalar_from = start + 4 * nvec;  // at most 3 elements, in a tensor's last chunk
  }
  for (int64_t e = scalar_from + threadIdx.x; e < end; e += kThreads) {
    float ok[W], xk[kSlots<R>];
    for (int w = 0; w < W; ++w)
      ok[w] = out[w][e];
    for (int r = 0; r < R; ++r)
      xk[r] = in[r][e];
    op(ok, xk);
    for (int w = 0; w < W; ++w)
      out[w][e] = ok[w];
  }
}

struct AdamOp {
  AdamScalars s;
  __device__ __forceinline__ void operator()(float (&o)[3], const float (&g)[1]) const {
    adam_update(s, o[0], o[1], o[2], g[0]);
  }
};

struct RmspropOp {
  RmspropParams p;
  __device__ __forceinline__ void operator()(float (&o)[2], const float (&g)[1]) const {
    rmsprop_update(p, o[0], o[1], g[0]);
  }
};

struct ClampOp {
  float lo, hi;
  __device__ __forceinline__ void operator()(float (&x)[1], const float (&)[1]) const {
    x[0] = clamp_update(x[0], lo, hi);
  }
};

struct EmaOp {
  float decay;
  __device__ __forceinline__ void operator()(float (&avg)[1], const float (&src)[1]) const {
    avg[0] = ema_update(avg[0], src[0], decay);
  }
};

// Launches `table` (count > 0, sizes filled in) after choosing the chunk size and block ranges.
template <int W, int R, int N, typename Op>
void launch_table(TensorTable<W, R, N>& table, const Op& op, Stream stream) {
  int64_t total = 0;
  for (int i = 0; i < table.count; ++i)
    total += table.n[i];
  const int64_t target = target_blocks();
  int64_t chunk = (total + target - 1) / target;
  chunk = (chunk + kMinChunk - 1) / kMinChunk * kMinChunk;
  chunk = chunk < kMinChunk ? kMinChunk : (chunk > kMaxChunk ? kMaxChunk : chunk);
  int64_t blocks = 0;
  for (int i = 0; i < table.count; ++i) {
    table.first_block[i] = static_cast<int>(blocks);
    blocks += (table.n[i] + chunk - 1) / chunk;
    GE_CHECK(blocks <= 0x7fffffff, "multi-tensor launch: expected at most 2^31 - 1 blocks of ",
             chunk, " elements, got ", blocks);
  }
  table.first_block[table.count] = static_cast<int>(blocks);
  GE_LAUNCH((multi_tensor_kernel<W, R, N, Op>), dim3(static_cast<unsigned>(blocks)), kThreads, 0,
            stream, table, chunk, op);
}

// Packs the non-empty tensors of a list into tables of N and launches each full table.
// fill(i, table, slot) writes tensor i's pointers into slot `slot`; size(i) is its length.
template <int W, int R, int N, typename Op, typename Size, typename Fill>
void for_each_table(int64_t count, const Op& op, Stream stream, Size size, Fill fill) {
  TensorTable<W, R, N> table{};
  table.count = 0;
  for (int64_t i = 0; i < count; ++i) {
    const int64_t n = size(i);
    if (n == 0) continue;
    fill(i, table, table.count);
    table.n[table.count] = n;
    if (++table.count == N) {
      launch_table(table, op, stream);
      table.count = 0;
    }
  }
  if (table.count > 0) launch_table(table, op, stream);
}

}  // namespace

void adam(const AdamParams& p, const AdamTensor* tensors, int64_t count, Stream stream) {
  adam_check(p, tensors, count);
  constexpr int N = kAdamTensorsPerLaunch;
  for_each_table<3, 1, N>(
      count, AdamOp{adam_scalars(p)}, stream, [&](int64_t i) { return tensors[i].n; },
      [&](int64_t i, TensorTable<3, 1, N>& table, int slot) {
        table.out[0][slot] = tensors[i].param;
        table.out[1][slot] = tensors[i].exp_avg;
        table.out[2][slot] = tensors[i].exp_avg_sq;
        table.in[0][slot] = tensors[i].grad;
      });
}

void rmsprop(const RmspropParams& p, const RmspropTensor* tensors, int64_t count, Stream stream) {
  rmsprop_check(p, tensors, count);
  constexpr int N = kRmspropTensorsPerLaunch;
  for_each_table<2, 1, N>(
      count, RmspropOp{p}, stream, [&](int64_t i) { return tensors[i].n; },
      [&](int64_t i, TensorTable<2, 1, N>& table, int slot) {
        table.out[0][slot] = tensors[i].param;
        table.out[1][slot] = tensors[i].square_avg;
        table.in[0][slot] = tensors[i].grad;
      });
}

void clamp(float lo, float hi, const InPlaceTensor* tensors, int64_t count, Stream stream) {
  clamp_check(lo, hi, tensors, count);
  constexpr int N = kClampTensorsPerLaunch;
  for_each_table<1, 0, N>(
      count, ClampOp{lo, hi}, stream, [&](int64_t i) { return tensors[i].n; },
      [&](int64_t i, TensorTable<1, 0, N>& table, int slot) {
        table.out[0][slot] = tensors[i].data;
      });
}

void ema(float decay, const EmaTensor* tensors, int64_t count, Stream stream) {
  ema_check(decay, tensors, count);
  constexpr int N = kEmaTensorsPerLaunch;
  for_each_table<1, 1, N>(
      count, EmaOp{decay}, stream, [&](int64_t i) { return tensors[i].n; },
      [&](int64_t i, TensorTable<1, 1, N>& table, int slot) {
        table.out[0][slot] = tensors[i].average;
        table.in[0][slot] = tensors[i].source;
      });
}

}  // namespace ge::kernels::cuda
