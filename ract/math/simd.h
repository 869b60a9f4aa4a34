// Internal to ract/math: 16-float vectors as GCC vector extensions, which every target
// lowers to its own SIMD (AVX-512, AVX2, SSE, NEON), and the always-inline vector math the
// array kernels (vec.cc) and the sparse kernels (sparse.cc) are built from. Not a public
// header: nothing outside ract/math includes it.
#ifndef RACT_MATH_SIMD_H_
#define RACT_MATH_SIMD_H_

#include <stdint.h>
#include <string.h>

// The float kernels below are compiled for AVX-512, AVX2 and baseline x86-64 and picked at
// load time (the library's default flags target baseline x86-64, where they would run 4
// wide). Results may differ in the last bit between those targets (FMA contraction), never
// between runs or thread counts on one machine.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define RACT_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define RACT_CLONES
#endif

namespace ract_simd {

// ---- float exp and tanh over arrays (Cephes' expf and tanhf, branch-free on 16-float GCC
// vectors, which every target lowers to its own SIMD: AVX-512, AVX2, SSE, NEON).
// exp: x = n ln2 + r, |r| <= ln2/2, a degree-6 polynomial for e^r, then 2^n built from its
// bits in two halves (so 2^128 and 2^-126 stay normal). Relative error below 2e-7 for x in
// [-87.3, 88.7]; below -87.3 the result is 0 (the true value is subnormal), above 88.72
// +inf; NaN stays NaN. tanh: x + x^3 P(x^2) for |x| < 0.625, else
// sign(x) (1 - 2/(e^{2|x|} + 1)); relative error below 3e-7.
typedef float vf16 __attribute__((vector_size(64)));
typedef int32_t vi16 __attribute__((vector_size(64)));
#define RACT_INLINE inline __attribute__((always_inline))

RACT_INLINE vf16 splat(float v) { return vf16{} + v; }

RACT_INLINE vf16 exp16(vf16 x) {
  const vf16 hi = splat(88.72283905206835f), lo = splat(-87.33654475055310898657f);
  const vi16 ok = x == x;  // not NaN
  vf16 xc = x > hi ? hi : x;
  xc = xc < lo ? lo : xc;
  xc = ok ? xc : splat(0.0f);
  const vf16 t = xc * 1.44269504088896341f + 0.5f;
  vi16 n = __builtin_convertvector(t, vi16);  // toward zero; floor below
  n = __builtin_convertvector(n, vf16) > t ? n - 1 : n;
  const vf16 fx = __builtin_convertvector(n, vf16);
  vf16 r = xc - fx * 0.693359375f;
  r = r - fx * -2.12194440e-4f;
  const vf16 z = r * r;
  vf16 y = splat(1.9875691500E-4f);
  y = y * r + 1.3981999507E-3f;
  y = y * r + 8.3334519073E-3f;
  y = y * r + 4.1665795894E-2f;
  y = y * r + 1.6666665459E-1f;
  y = y * r + 5.0000001201E-1f;
  y = y * z + r + 1.0f;
  const vi16 h = n >> 1;
  const vf16 p1 = (vf16)((h + 127) << 23);
  const vf16 p2 = (vf16)((n - h + 127) << 23);
  vf16 res = y * p1 * p2;
  res = x < lo ? splat(0.0f) : res;
  res = x > hi ? splat(__builtin_inff()) : res;
  return ok ? res : x;
}

RACT_INLINE vf16 tanh16(vf16 x) {
  const vi16 neg = x < 0;
  const vf16 ax = neg ? -x : x;
  const vf16 s = x * x;
  vf16 p = splat(-5.70498872745E-3f);
  p = p * s + 2.06390887954E-2f;
  p = p * s - 5.37397155531E-2f;
  p = p * s + 1.33314422036E-1f;
  p = p * s - 3.33332819422E-1f;
  const vf16 small = p * s * x + x;
  const vf16 e = exp16(ax + ax);
  vf16 big = 1.0f - 2.0f / (e + 1.0f);
  big = neg ? -big : big;
  return ax < 0.625f ? small : big;
}

// ln((1 + x) 2^e) for x in [sqrt(1/2) - 1, sqrt(2) - 1): Cephes' logf polynomial (degree 9
// in x) and e ln 2 in two parts; relative error below 2e-7.
RACT_INLINE vf16 log1p_core(vf16 x, vf16 fe) {
  const vf16 z = x * x;
  vf16 y = splat(7.0376836292E-2f);
  y = y * x - 1.1514610310E-1f;
  y = y * x + 1.1676998740E-1f;
  y = y * x - 1.2420140846E-1f;
  y = y * x + 1.4249322787E-1f;
  y = y * x - 1.6668057665E-1f;
  y = y * x + 2.0000714765E-1f;
  y = y * x - 2.4999993993E-1f;
  y = y * x + 3.3333331174E-1f;
  y = y * x * z;
  y = y + fe * -2.12194440e-4f - 0.5f * z;
  return x + y + fe * 0.693359375f;
}

// ln x of 16 positive normal floats: x = (1 + m) 2^e with 1 + m in [sqrt(1/2), sqrt(2)).
RACT_INLINE vf16 log16(vf16 x) {
  const vi16 bits = (vi16)x;
  vi16 e = ((bits >> 23) & 0xff) - 126;  // x = f 2^e, f in [1/2, 1)
  vf16 f = (vf16)((bits & 0x007fffff) | 0x3f000000);
  const vi16 low = f < 0.707106781186547524f;
  e = low ? e - 1 : e;
  f = low ? f + f - 1.0f : f - 1.0f;
  return log1p_core(f, __builtin_convertvector(e, vf16));
}

// cos(2 pi u) for u in [0, 1]: t = |u - round(u)| and the folds t -> 1/2 - t (sign) and
// s -> 1/4 - s (cos to sin) are exact in float, then Cephes' cosf or sinf polynomial on
// [0, pi/4]; absolute error below 2e-7.
RACT_INLINE vf16 cos2pi16(vf16 u) {
  vf16 t = u > 0.5f ? u - 1.0f : u;
  t = t < 0.0f ? -t : t;
  const vi16 flip = t > 0.25f;
  const vf16 s = flip ? 0.5f - t : t;
  const vi16 use_sin = s > 0.125f;
  const vf16 a = (use_sin ? 0.25f - s : s) * 6.283185307179586f;
  const vf16 z = a * a;
  vf16 c = splat(2.443315711809948E-5f);
  c = c * z - 1.388731625493765E-3f;
  c = c * z + 4.166664568298827E-2f;
  c = c * z * z - 0.5f * z + 1.0f;
  vf16 sn = splat(-1.9515295891E-4f);
  sn = sn * z + 8.3321608736E-3f;
  sn = sn * z - 1.6666654611E-1f;
  sn = sn * z * a + a;
  const vf16 r = use_sin ? sn : c;
  return flip ? -r : r;
}

RACT_INLINE vf16 load16(const float* p) {
  vf16 v;
  memcpy(&v, p, sizeof(v));
  return v;
}
RACT_INLINE void store16(float* p, vf16 v) { memcpy(p, &v, sizeof(v)); }
// The last n < 16 elements through a padded copy.
RACT_INLINE vf16 load_tail(const float* p, int n, float pad) {
  float t[16];
  for (int j = 0; j < 16; j++) t[j] = j < n ? p[j] : pad;
  return load16(t);
}
RACT_INLINE void store_tail(float* p, vf16 v, int n) {
  float t[16];
  store16(t, v);
  for (int j = 0; j < n; j++) p[j] = t[j];
}

inline float exp_core(float x) {
  vf16 v = exp16(splat(x));
  return v[0];
}

}  // namespace ract_simd

#endif  // RACT_MATH_SIMD_H_
