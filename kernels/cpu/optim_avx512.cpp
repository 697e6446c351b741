// The optimizers' element loops for AVX-512. Clamp and EMA are optim_loops.h's, which the
// compiler vectorizes under the target pragma; Adam and RMSprop, whose loops it leaves scalar
// there, are written with intrinsics in the operation order of common/optim.h (no fused
// multiply-adds; the masked square root only sidesteps a false uninitialized warning of GCC 12's
// header), so each element's result is bit for bit the scalar one. The shared headers
// come first, compiled for the baseline.
#include <immintrin.h>

#include "common/optim.h"
#include "cpu/avx512_region.h"

GE_BEGIN_AVX512
#include "cpu/optim_loops.h"

namespace ge::kernels::cpu {

void adam_loop_avx512(const AdamScalars& s, float* param, const float* grad, float* m, float* v,
                      int64_t n) {
  const __m512 l2 = _mm512_set1_ps(s.l2), decay_scale = _mm512_set1_ps(s.decay_scale);
  const __m512 beta1 = _mm512_set1_ps(s.beta1), beta2 = _mm512_set1_ps(s.beta2);
  const __m512 one_beta1 = _mm512_set1_ps(1.f - s.beta1), one_beta2 = _mm512_set1_ps(1.f - s.beta2);
  const __m512 bias2_sqrt = _mm512_set1_ps(s.bias2_sqrt), eps = _mm512_set1_ps(s.eps);
  const __m512 step_size = _mm512_set1_ps(s.step_size);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 p0 = _mm512_loadu_ps(param + i), gr = _mm512_loadu_ps(grad + i);
    const __m512 g = _mm512_add_ps(gr, _mm512_mul_ps(l2, p0));
    const __m512 p = _mm512_mul_ps(p0, decay_scale);
    const __m512 mv =
        _mm512_add_ps(_mm512_mul_ps(beta1, _mm512_loadu_ps(m + i)), _mm512_mul_ps(one_beta1, g));
    const __m512 vv = _mm512_add_ps(_mm512_mul_ps(beta2, _mm512_loadu_ps(v + i)),
                                    _mm512_mul_ps(_mm512_mul_ps(one_beta2, g), g));
    const __m512 denom =
        _mm512_add_ps(_mm512_div_ps(_mm512_maskz_sqrt_ps(0xFFFF, vv), bias2_sqrt), eps);
    _mm512_storeu_ps(param + i,
                     _mm512_sub_ps(p, _mm512_div_ps(_mm512_mul_ps(step_size, mv), denom)));
    _mm512_storeu_ps(m + i, mv);
    _mm512_storeu_ps(v + i, vv);
  }
  for (; i < n; ++i)
    adam_update(s, param[i], m[i], v[i], grad[i]);
}

void rmsprop_loop_avx512(const RmspropParams& p, float* param, const float* grad, float* v,
                         int64_t n) {
  const __m512 wd = _mm512_set1_ps(p.weight_decay), alpha = _mm512_set1_ps(p.alpha);
  const __m512 one_alpha = _mm512_set1_ps(1.f - p.alpha), lr = _mm512_set1_ps(p.lr);
  const __m512 eps = _mm512_set1_ps(p.eps);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 x = _mm512_loadu_ps(param + i);
    const __m512 g = _mm512_add_ps(_mm512_loadu_ps(grad + i), _mm512_mul_ps(wd, x));
    const __m512 vv = _mm512_add_ps(_mm512_mul_ps(alpha, _mm512_loadu_ps(v + i)),
                                    _mm512_mul_ps(_mm512_mul_ps(one_alpha, g), g));
    const __m512 step = _mm512_div_ps(g, _mm512_add_ps(_mm512_maskz_sqrt_ps(0xFFFF, vv), eps));
    _mm512_storeu_ps(param + i, _mm512_sub_ps(x, _mm512_mul_ps(lr, step)));
    _mm512_storeu_ps(v + i, vv);
  }
  for (; i < n; ++i)
    rmsprop_update(p, param[i], v[i], grad[i]);
}

void clamp_loop_avx512(float lo, float hi, float* x, int64_t n) {
  clamp_loop(lo, hi, x, n);
}

void ema_loop_avx512(float decay, float* avg, const float* src, int64_t n) {
  ema_loop(decay, avg, src, n);
}

}  // namespace ge::kernels::cpu

GE_END_AVX512
