#pragma once
// GE_BEGIN_AVX512 ... GE_END_AVX512: the functions defined between them (lambdas and template
// instances included) are compiled for AVX-512, through GCC's target pragma or clang's attribute
// push. Include every shared header before the region, so that nothing with external linkage is
// compiled for AVX-512 and chosen at link time over a baseline copy.
#if defined(__clang__)
#define GE_BEGIN_AVX512 \
  _Pragma(              \
      "clang attribute push(__attribute__((target(\"avx512f,avx512dq,avx2,fma\"))), \
          apply_to = function)")
#define GE_END_AVX512 _Pragma("clang attribute pop")
#else
#define GE_BEGIN_AVX512 \
  _Pragma("GCC push_options") _Pragma("GCC target(\"avx512f,avx512dq,avx2,fma\")")
#define GE_END_AVX512 _Pragma("GCC pop_options")
#endif
