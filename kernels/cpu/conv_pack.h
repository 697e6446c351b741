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

// B = col ([cin_g * kh * kw, count * L]), for the forward convolution's GEMM; AVX-512 panels.
// `columns` must outlive the GEMM.
GemmPackB conv_pack_columns_avx512(const ConvColumns& columns);

// B = col^T ([count * L, cin_g * kh * kw]), for the weight gradient's GEMM; AVX-512 panels.
GemmPackB conv_pack_columns_transposed_avx512(const ConvColumns& columns);

}  // namespace ge::kernels::cpu
