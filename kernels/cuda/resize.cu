// CUDA resize. Each call first builds both axes' tables in the workspace (a thread per output
// index for the taps, then a thread per input index for the readers: the binary search for an
// input's run of readers happens here, once per call), then runs two gather passes:
//   along W: a thread per element of a [rows, n] result, x over n (coalesced writes; the taps of
//     neighbouring threads are neighbouring inputs of one row, served by L1);
//   along H: a thread per element of a [P, n, width] result, x over width, y over n, z over
//     planes: every tap is a coalesced row read, and the table entry is uniform across a warp.
// 2-D and 3-D grids name the row, plane and column directly, so the passes divide nothing.
#include <algorithm>
#include <cstdint>
#include <utility>

#include "common/grid.h"
#include "common/resize.h"
#include "cuda/launch.cuh"
#include "ganengine/kernels/resize.h"

namespace ge::kernels::cuda {
namespace {

constexpr unsigned kMaxGridYZ = 65535;

__global__ void taps_kernel(ResizeAxis a, float* base, AxisTableLayout l) {
  for (int64_t o = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; o < a.out;
       o += static_cast<int64_t>(gridDim.x) * blockDim.x)
    build_taps(static_cast<int32_t>(o), a, reinterpret_cast<int32_t*>(base + l.tap_first),
               reinterpret_cast<int32_t*>(base + l.tap_count), base + l.tap_weight);
}

__global__ void readers_kernel(ResizeAxis a, float* base, AxisTableLayout l) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < a.in;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    build_readers(static_cast<int32_t>(i), a, reinterpret_cast<const int32_t*>(base + l.tap_first),
                  reinterpret_cast<const int32_t*>(base + l.tap_count), base + l.tap_weight,
                  reinterpret_cast<int32_t*>(base + l.reader_first),
                  reinterpret_cast<int32_t*>(base + l.reader_count), base + l.reader_weight);
}

// dst[r][e] = entry e of t over src row r.
__global__ void along_w_kernel(PassTable t, const float* src, float* dst, int64_t rows) {
  const int32_t e = static_cast<int32_t>(blockIdx.x * blockDim.x + threadIdx.x);
  if (e >= t.out) return;
  for (int64_t r = static_cast<int64_t>(blockIdx.y) * blockDim.y + threadIdx.y; r < rows;
       r += static_cast<int64_t>(gridDim.y) * blockDim.y)
    dst[r * t.out + e] = pass_entry(t, e, src + r * t.src, 1);
}

// dst[p][e][j] = entry e of t over column j of src plane p.
__global__ void along_h_kernel(PassTable t, const float* src, float* dst, int64_t planes,
                               int32_t width) {
  const int32_t j = static_cast<int32_t>(blockIdx.x * blockDim.x + threadIdx.x);
  if (j >= width) return;
  for (int64_t p = blockIdx.z; p < planes; p += gridDim.z) {
    const float* in = src + p * t.src * width + j;
    float* out = dst + p * t.out * width + j;
    for (int32_t e = static_cast<int32_t>(blockIdx.y * blockDim.y + threadIdx.y); e < t.out;
         e += static_cast<int32_t>(gridDim.y * blockDim.y))
      out[static_cast<int64_t>(e) * width] = pass_entry(t, e, in, width);
  }
}

// Blocks of 256 threads, x spanning up to 128 columns, y filling in rows when rows are narrow.
dim3 block_for(int64_t width) {
  const unsigned x = static_cast<unsigned>(std::min<int64_t>(128, (width + 31) / 32 * 32));
  return dim3(x, kBlock / x);
}

unsigned blocks(int64_t n, unsigned per, unsigned cap) {
  return static_cast<unsigned>(std::clamp<int64_t>((n + per - 1) / per, 1, cap));
}

void along_w(const PassTable& t, const float* src, float* dst, int64_t rows, Stream stream) {
  const dim3 block = block_for(t.out);
  const dim3 grid(blocks(t.out, block.x, INT32_MAX), blocks(rows, block.y, kMaxGridYZ));
  GE_LAUNCH(along_w_kernel, grid, block, 0, stream, t, src, dst, rows);
}

void along_h(const PassTable& t, const float* src, float* dst, int64_t planes, int64_t width,
             Stream stream) {
  const dim3 block = block_for(width);
  const dim3 grid(blocks(width, block.x, INT32_MAX), blocks(t.out, block.y, kMaxGridYZ),
                  blocks(planes, 1, kMaxGridYZ));
  GE_LAUNCH(along_h_kernel, grid, block, 0, stream, t, src, dst, planes,
            static_cast<int32_t>(width));
}

struct Plan {
  ResizeAxis h, w;
  AxisTableLayout lh, lw;
  int64_t mid;  // offset of the [P, H, OW] temporary
  int64_t size;
};

Plan plan_for(const ResizeShape& s) {
  Plan p;
  p.h = resize_axis(s.in_h, s.out_h, s.align_corners, s.antialias);
  p.w = resize_axis(s.in_w, s.out_w, s.align_corners, s.antialias);
  p.lh = axis_table_layout(p.h, 0);
  p.lw = axis_table_layout(p.w, p.lh.end);
  p.mid = p.lw.end;
  p.size = p.mid + s.mid_numel();
  return p;
}

void build_tables(const Plan& p, float* workspace, Stream stream) {
  for (const auto& [a, l] : {std::pair{p.h, p.lh}, std::pair{p.w, p.lw}}) {
    GE_LAUNCH(taps_kernel, grid_for(a.out), kBlock, 0, stream, a, workspace, l);
    GE_LAUNCH(readers_kernel, grid_for(a.in), kBlock, 0, stream, a, workspace, l);
  }
}

Plan checked_plan(const char* fn, const ResizeShape& s, const float* in, const float* out,
                  const float* workspace, int64_t workspace_size) {
  resize_check(fn, s, in, out);
  const Plan p = plan_for(s);
  if (s.planes == 0) return p;
  GE_CHECK(workspace != nullptr && workspace_size >= p.size, fn, ": expected a workspace of ",
           p.size, " floats, got ", workspace == nullptr ? 0 : workspace_size);
  return p;
}

}  // namespace

int64_t resize_bicubic2d_workspace(const ResizeShape& s) {
  resize_check_sizes("resize_bicubic2d_workspace", s);
  return s.planes == 0 ? 0 : plan_for(s).size;
}

void resize_bicubic2d(const float* x, float* y, const ResizeShape& s, float* workspace,
                      int64_t workspace_size, Stream stream) {
  const Plan p = checked_plan("resize_bicubic2d", s, x, y, workspace, workspace_size);
  if (s.planes == 0) return;
  build_tables(p, workspace, stream);
  float* mid = workspace + p.mid;
  along_w(taps_of(workspace, p.lw, p.w), x, mid, s.planes * s.in_h, stream);
  along_h(taps_of(workspace, p.lh, p.h), mid, y, s.planes, s.out_w, stream);
}

void resize_bicubic2d_backward(const float* dy, float* dx, const ResizeShape& s, float* workspace,
                               int64_t workspace_size, Stream stream) {
  const Plan p = checked_plan("resize_bicubic2d_backward", s, dy, dx, workspace, workspace_size);
  if (s.planes == 0) return;
  build_tables(p, workspace, stream);
  float* mid = workspace + p.mid;
  along_h(readers_of(workspace, p.lh, p.h), dy, mid, s.planes, s.out_w, stream);
  along_w(readers_of(workspace, p.lw, p.w), mid, dx, s.planes * s.in_h, stream);
}

}  // namespace ge::kernels::cuda
