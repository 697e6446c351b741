#pragma once
// Index math of the implicit-GEMM convolutions, shared by the CUDA kernels and the tests.
//
// conv2d as a GEMM per group g (no column buffer is ever built; the B operand is gathered):
//   C[m][n] = sum_k A[m][k] B[k][n],  m = output channel within the group,
//   n = (sample, output pixel),       k = (input channel within the group, ki, kj),
//   B[k][n] = x[sample, g*cg + ci, oy*stride_h - pad_h + ki, ox*stride_w - pad_w + kj] (0 outside).
//
// conv_transpose2d by stride phase: the transposed output pixel yy only meets kernel rows
// ki with ki = (yy + pad_h) mod stride_h, and then reads input row (yy + pad_h - ki) / stride_h.
// Grouping the output rows by that residue (the phase) turns the scatter into stride_h*stride_w
// dense GEMMs with ceil((kh - ry) / stride_h) * ceil((kw - rx) / stride_w) taps each: no
// multiply ever touches one of the zeros a zero-stuffed input would hold.
#include <cstdint>

#include "common/fast_div.h"
#include "common/macros.h"
#include "ganengine/kernels/conv.h"

namespace ge::kernels {

// The output size of conv2d along one axis for a non-empty padded input.
GE_HOST_DEVICE int64_t conv_out_size(int64_t in, int64_t k, int64_t stride, int64_t pad) {
  return (in + 2 * pad - k) / stride + 1;
}

// One stride phase of conv_transpose2d (conv2d geometry names: `in` is the transposed output).
struct ConvPhase {
  int64_t ry = 0, rx = 0;          // kernel taps ki = ry + t * stride_h, kj = rx + u * stride_w
  int64_t taps_h = 0, taps_w = 0;  // how many t and u exist (0 when ry >= kh or rx >= kw)
  int64_t y0 = 0, x0 = 0;          // the phase's first transposed-output row and column
  int64_t rows = 0, cols = 0;      // its rows y0, y0 + stride_h, ... below in_h (cols alike)
  int64_t qy0 = 0, qx0 = 0;        // row/col of y that tap 0 reads for (y0, x0)
};

// Phase p in [0, stride_h * stride_w), row-major over (ry, rx). Output row y0 + i * stride_h
// with tap t reads y row qy0 + i - t (valid when it falls in [0, out_h)); columns alike.
GE_HOST_DEVICE ConvPhase conv_transpose_phase(const ConvShape& s, int64_t p) {
  ConvPhase ph;
  ph.ry = p / s.stride_w;
  ph.rx = p % s.stride_w;
  ph.taps_h = ph.ry < s.kh ? (s.kh - ph.ry + s.stride_h - 1) / s.stride_h : 0;
  ph.taps_w = ph.rx < s.kw ? (s.kw - ph.rx + s.stride_w - 1) / s.stride_w : 0;
  // The smallest y >= 0 with (y + pad) % stride == r; then y + pad >= r, so q is exact.
  ph.y0 = ((ph.ry - s.pad_h) % s.stride_h + s.stride_h) % s.stride_h;
  ph.x0 = ((ph.rx - s.pad_w) % s.stride_w + s.stride_w) % s.stride_w;
  ph.rows = ph.y0 < s.in_h ? (s.in_h - ph.y0 + s.stride_h - 1) / s.stride_h : 0;
  ph.cols = ph.x0 < s.in_w ? (s.in_w - ph.x0 + s.stride_w - 1) / s.stride_w : 0;
  ph.qy0 = (ph.y0 + s.pad_h - ph.ry) / s.stride_h;
  ph.qx0 = (ph.x0 + s.pad_w - ph.rx) / s.stride_w;
  return ph;
}

}  // namespace ge::kernels
