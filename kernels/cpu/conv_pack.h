#pragma once
// Implicit GEMM for the CPU convolutions: the GEMM's packed panels of B are gathered straight
// from the image, so no im2col column matrix is written and read back. The columns of a chunk of
// samples are col[p][j], p = (c, ki, kj) over the group's cin_g * kh * kw kernel taps and j =
// sample * L + output position (L = out_h * out_w), as cpu/conv.cpp lays out its im2col buffer;
// taps that fall in the padding read zero.
#include <cstdint>

#include "cpu/sgemm.h"
#include "ganengine/kernels/conv.h"

namespace ge::kernels::cpu {

// The width of the packers' panels: the AVX-512 GEMM's nr, which the convolutions check
// (sgemm_panel_width) before they pack for it.
inline constexpr int kConvPackWidth = 48;

// The columns of samples [n0, n0 + count) and group g of the input x ([batch, in_c, in_h,
// in_w]) of a convolution of shape s.
struct ConvColumns {
  const ConvShape* shape = nullptr;
  const float* x = nullptr;
  int64_t n0 = 0, count = 0, g = 0;
};

// Whether the packers below address a chunk of `count` samples of s: their offsets are 32-bit.
bool conv_pack_fits(const ConvShape& s, int64_t count);

// --- Transposed convolution (also a convolution's input gradient) by phases.
//
// Image row i sums the kernel rows k with i + pad - k a multiple of the stride, reading output
// row (i + pad - k) / stride. Rows of one phase r = (i + pad) mod stride share their taps k = r +
// t * stride, so each of the stride_h x stride_w phases is a dense GEMM: C[cin_g, positions of
// the phase] = W_phase[cin_g, cout_g * taps] x Y_phase[cout_g * taps, positions], with Y_phase
// gathered from the output (dy) and no col2im scatter of a [cin_g * kh * kw, L] matrix.

// One axis of a phase: image positions i = r - pad + m * stride, m in [m_lo, m_lo + count) (those
// within the image), each summing `taps` kernel positions k = r + t * stride.
struct PhaseAxis {
  int64_t r = 0, taps = 0, m_lo = 0, count = 0;
};
PhaseAxis phase_axis(int64_t size, int64_t kernel, int64_t stride, int64_t pad, int64_t r);

// Floats of all phases' packed weights (as many as the weights), and where phase (ry, rx)'s
// start: for each group, a row-major [cin_g, cout_g * taps_y * taps_x] matrix of rows (o, t, u).
int64_t conv_phase_weights_floats(const ConvShape& s);
int64_t conv_phase_weights_offset(const ConvShape& s, int64_t ry, int64_t rx);
void conv_pack_phase_weights(const ConvShape& s, const float* w, float* out);

// The phase's B: rows (o, t, u), columns (sample, m_y, m_x) of samples [n0, n0 + count) of
// group g of the output y ([batch, out_c, out_h, out_w]).
struct PhaseColumns {
  const ConvShape* shape = nullptr;
  const float* y = nullptr;
  int64_t n0 = 0, count = 0, g = 0;
  PhaseAxis rows, cols;
};

// Whether conv_pack_phase_avx512 addresses a chunk of `count` samples: 32-bit offsets.
bool conv_phase_fits(const ConvShape& s, int64_t count);

GemmPackB conv_pack_phase_avx512(const PhaseColumns& columns);

// B = col ([cin_g * kh * kw, count * L]), for the forward convolution's GEMM; AVX-512 panels.
// `columns` must outlive the GEMM.
GemmPackB conv_pack_columns_avx512(const ConvColumns& columns);

// B = col^T ([count * L, cin_g * kh * kw]), for the weight gradient's GEMM; AVX-512 panels.
GemmPackB conv_pack_columns_transposed_avx512(const ConvColumns& columns);

}  // namespace ge::kernels::cpu
