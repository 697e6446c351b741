#pragma once
// pad's index arithmetic, shared by the CPU loops and the CUDA kernels, so that both devices
// read the same sources and gather the same outputs in the same order.
//
// Readers of input i along an axis (lo leading pad, out outputs):
//   reflect: o = i + lo always; o = lo - i when 1 <= i <= lo (the leading reflection); and
//            o = lo + 2 (in - 1) - i when that lies below out and i <= in - 2 (the trailing
//            one). The three are in increasing order, and pad < in keeps each one single.
//   replicate: one run, widened to the start for i = 0 and to the end for i = in - 1.
#include <cstdint>

#include "common/macros.h"
#include "ganengine/error.h"
#include "ganengine/kernels/pad.h"

namespace ge::kernels {

struct PadAxis {
  int64_t in = 0;
  int64_t lo = 0;  // the leading pad (left or top)
  int64_t out = 0;
};

inline PadAxis pad_axis_h(const PadShape& s) {
  return {s.in_h, s.top, s.out_h()};
}

inline PadAxis pad_axis_w(const PadShape& s) {
  return {s.in_w, s.left, s.out_w()};
}

template <PadMode M>
GE_HOST_DEVICE int64_t pad_source(int64_t o, const PadAxis& a) {
  const int64_t i = o - a.lo;
  if constexpr (M == PadMode::Reflect) {
    if (i < 0) return -i;
    return i < a.in ? i : 2 * (a.in - 1) - i;
  } else {
    return i < 0 ? 0 : (i < a.in ? i : a.in - 1);
  }
}

// The outputs along one axis that read one input, in increasing order: `before`, the run
// [run_lo, run_hi), then `after` (-1: absent).
struct PadReaders {
  int64_t before;
  int64_t run_lo, run_hi;
  int64_t after;
};

template <PadMode M>
GE_HOST_DEVICE PadReaders pad_readers(int64_t i, const PadAxis& a) {
  if constexpr (M == PadMode::Reflect) {
    const int64_t trailing = a.lo + 2 * (a.in - 1) - i;
    return {i >= 1 && i <= a.lo ? a.lo - i : -1, i + a.lo, i + a.lo + 1,
            i <= a.in - 2 && trailing < a.out ? trailing : -1};
  } else {
    return {-1, i == 0 ? 0 : i + a.lo, i == a.in - 1 ? a.out : i + a.lo + 1, -1};
  }
}

// The sum of row[o] over the readers r, in their order.
GE_HOST_DEVICE float pad_gather_row(const float* row, const PadReaders& r) {
  float acc = 0.f;
  if (r.before >= 0) acc += row[r.before];
  for (int64_t o = r.run_lo; o < r.run_hi; ++o)
    acc += row[o];
  if (r.after >= 0) acc += row[r.after];
  return acc;
}

// The adjoint at one input element: the gradients of a plane `g` (out_w wide) at every
// (row reader, column reader) pair, summed row by row in increasing order.
GE_HOST_DEVICE float pad_gather(const float* g, int64_t out_w, const PadReaders& rh,
                                const PadReaders& rw) {
  float acc = 0.f;
  if (rh.before >= 0) acc += pad_gather_row(g + rh.before * out_w, rw);
  for (int64_t o = rh.run_lo; o < rh.run_hi; ++o)
    acc += pad_gather_row(g + o * out_w, rw);
  if (rh.after >= 0) acc += pad_gather_row(g + rh.after * out_w, rw);
  return acc;
}

// One side's pad against its input side: reflect needs pad < side (one reflection reaches
// every output), replicate a non-empty side to repeat.
inline void pad_check_side(const char* fn, PadMode mode, const char* side, int64_t pad,
                           const char* dim, int64_t size) {
  GE_CHECK(pad >= 0, fn, "(", name(mode), "): expected a non-negative ", side, " pad, got ", pad);
  if (mode == PadMode::Reflect) {
    GE_CHECK(pad == 0 || pad < size, fn, "(reflect): expected the ", side, " pad below the input ",
             dim, " ", size, ", got ", pad);
  } else {
    GE_CHECK(pad == 0 || size > 0, fn, "(replicate): expected a non-empty input ", dim, " for the ",
             side, " pad ", pad, ", got ", dim, " ", size);
  }
}

inline void pad_check(const char* fn, PadMode mode, const PadShape& s, const float* in,
                      const float* out) {
  GE_CHECK(mode == PadMode::Reflect || mode == PadMode::Replicate, fn,
           ": expected mode reflect or replicate, got ", static_cast<int>(mode));
  GE_CHECK(s.planes >= 0 && s.in_h >= 0 && s.in_w >= 0, fn, "(", name(mode),
           "): expected non-negative sizes, got [", s.planes, ", ", s.in_h, ", ", s.in_w, "]");
  pad_check_side(fn, mode, "left", s.left, "width", s.in_w);
  pad_check_side(fn, mode, "right", s.right, "width", s.in_w);
  pad_check_side(fn, mode, "top", s.top, "height", s.in_h);
  pad_check_side(fn, mode, "bottom", s.bottom, "height", s.in_h);
  GE_CHECK(s.out_h() <= INT32_MAX && s.out_w() <= INT32_MAX, fn, "(", name(mode),
           "): expected output sides below 2^31, got ", s.out_h(), "x", s.out_w());
  if (s.out_numel() == 0) return;
  GE_CHECK(in != nullptr && out != nullptr, fn, "(", name(mode),
           "): expected non-null input and output for ", s.in_numel(), " input elements");
}

}  // namespace ge::kernels
