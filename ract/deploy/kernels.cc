// Portable GEMV / AXPY kernels of the scorer: see kernels.h.
//
// Each dot product keeps RACT_LANES independent partial sums (one per lane of a 16-float
// block), so the loop has no serial dependency the compiler must keep and vectorises
// without -ffast-math; the lanes are added in a fixed tree order at the end.
#include "ract/deploy/kernels.h"

#include <string.h>

#if defined(__GNUC__) || defined(__clang__)
#define RACT_RESTRICT __restrict__
#else
#define RACT_RESTRICT
#endif

enum { RACT_LANES = 16 };

static inline uint32_t float_bits(float f) {
  uint32_t u;
  memcpy(&u, &f, sizeof(u));
  return u;
}

static inline float bits_float(uint32_t u) {
  float f;
  memcpy(&f, &u, sizeof(f));
  return f;
}

// Branch-free (integer masks, no selects the vectoriser could refuse) so it vectorises
// inside the fp16 loops. With w = the half shifted to the top of 32 bits and its sign
// dropped (two_w = w << 1):
//  - normal, inf, NaN: exponent and mantissa moved into place (two_w >> 4) with the exponent
//    rebiased by +224, then scaled by 2^-112: rebias 15 -> 127 overall, and exponent 31 lands
//    on 255 (inf/NaN survive the scaling). The operands are never float subnormals.
//  - subnormal (exponent 0): the mantissa m placed below an exponent of 2^-1 gives
//    0.5 + m * 2^-24 as a float; subtracting 0.5 leaves m * 2^-24 exactly.
static inline float half_to_float(uint16_t h) {
  uint32_t w = (uint32_t)h << 16;
  uint32_t sign = w & 0x80000000u;
  uint32_t two_w = w + w;
  uint32_t normal = float_bits(bits_float((two_w >> 4) + (224u << 23)) * 0x1p-112f);
  uint32_t subnormal = float_bits(bits_float((two_w >> 17) | (126u << 23)) - 0.5f);
  uint32_t is_sub = 0u - (uint32_t)(two_w < (1u << 27));  // all ones for exponent 0
  return bits_float(sign | (subnormal & is_sub) | (normal & ~is_sub));
}

static inline float lanes_sum(float* acc) {
  for (int w = RACT_LANES / 2; w > 0; w /= 2) {
    for (int j = 0; j < w; j++) acc[j] += acc[j + w];
  }
  return acc[0];
}

extern "C" {

float ract_kernel_half_to_float(uint16_t h) { return half_to_float(h); }

uint16_t ract_kernel_float_to_half(float f) {
  uint32_t x = float_bits(f);
  uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
  uint32_t a = x & 0x7fffffffu;
  if (a > 0x7f800000u) return (uint16_t)(sign | 0x7e00u);   // NaN
  if (a >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u);  // >= 65520 rounds to inf
  if (a < 0x38800000u) {                                    // below 2^-14: subnormal half
    // |f| * 2^24 < 1024 is exact; adding and removing 2^23 rounds it to the nearest
    // integer, ties to even (the default rounding mode).
    volatile float scaled = bits_float(a) * 0x1p24f + 0x1p23f;
    float r = scaled - 0x1p23f;
    return (uint16_t)(sign | (uint16_t)r);  // r == 1024 is the smallest normal, 0x0400
  }
  uint32_t e = (a >> 23) - 112u;
  uint32_t mant = a & 0x7fffffu;
  uint32_t h = (e << 10) | (mant >> 13);
  uint32_t rest = mant & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) h++;  // carries into the exponent
  return (uint16_t)(sign | h);
}

}  // extern "C"

// ---- portable GEMV bodies
static void gemv_f32_portable(float* RACT_RESTRICT y, const float* RACT_RESTRICT W,
                              const float* RACT_RESTRICT x, int rows, int cols) {
  for (int r = 0; r < rows; r++) {
    const float* RACT_RESTRICT w = W + (size_t)r * (size_t)cols;
    float acc[RACT_LANES] = {0};
    int c = 0;
    for (; c + RACT_LANES <= cols; c += RACT_LANES) {
      for (int j = 0; j < RACT_LANES; j++) acc[j] += w[c + j] * x[c + j];
    }
    for (int j = 0; c + j < cols; j++) acc[j] += w[c + j] * x[c + j];
    y[r] = lanes_sum(acc);
  }
}

static void gemv_f16_portable(float* RACT_RESTRICT y, const uint16_t* RACT_RESTRICT W,
                              const float* RACT_RESTRICT x, int rows, int cols) {
  for (int r = 0; r < rows; r++) {
    const uint16_t* RACT_RESTRICT w = W + (size_t)r * (size_t)cols;
    float acc[RACT_LANES] = {0};
    int c = 0;
    for (; c + RACT_LANES <= cols; c += RACT_LANES) {
      for (int j = 0; j < RACT_LANES; j++) acc[j] += half_to_float(w[c + j]) * x[c + j];
    }
    for (int j = 0; c + j < cols; j++) acc[j] += half_to_float(w[c + j]) * x[c + j];
    y[r] = lanes_sum(acc);
  }
}

static void gemv_i8_portable(float* RACT_RESTRICT y, const int8_t* RACT_RESTRICT W,
                             const float* RACT_RESTRICT scale, const float* RACT_RESTRICT x,
                             int rows, int cols) {
  for (int r = 0; r < rows; r++) {
    const int8_t* RACT_RESTRICT w = W + (size_t)r * (size_t)cols;
    float acc[RACT_LANES] = {0};
    int c = 0;
    for (; c + RACT_LANES <= cols; c += RACT_LANES) {
      for (int j = 0; j < RACT_LANES; j++) acc[j] += (float)w[c + j] * x[c + j];
    }
    for (int j = 0; c + j < cols; j++) acc[j] += (float)w[c + j] * x[c + j];
    y[r] = scale[r] * lanes_sum(acc);
  }
}

// Per-vector int8 activation: q[c] = round(x[c] / sx), sx = max|x| / 127 (0 when x is 0).
extern "C" float ract_kernel_quantise_i8(int8_t* q, const float* x, int cols) {
  float mx = 0;
  for (int c = 0; c < cols; c++) {
    const float a = x[c] < 0 ? -x[c] : x[c];
    mx = a > mx ? a : mx;
  }
  if (!(mx > 0) || mx != mx) {
    for (int c = 0; c < cols; c++) q[c] = 0;
    return 0.0f;
  }
  const float sx = mx / 127.0f, inv = 127.0f / mx;
  for (int c = 0; c < cols; c++) {
    float v = x[c] * inv;
    v = v > 127.0f ? 127.0f : (v < -127.0f ? -127.0f : v);
    if (v != v) v = 0;  // NaN (or inf * 0): casting it to int8 is undefined
    q[c] = (int8_t)(v < 0 ? v - 0.5f : v + 0.5f);
  }
  return sx;
}

static void gemv_i8q_portable(float* RACT_RESTRICT y, const int8_t* RACT_RESTRICT W,
                              const float* RACT_RESTRICT scale, const int8_t* RACT_RESTRICT q,
                              float sx, int rows, int cols) {
  for (int r = 0; r < rows; r++) {
    const int8_t* RACT_RESTRICT w = W + (size_t)r * (size_t)cols;
    int32_t acc = 0;
    for (int c = 0; c < cols; c++) acc += (int32_t)w[c] * (int32_t)q[c];
    y[r] = scale[r] * sx * (float)acc;
  }
}

// ---- x86-64: AVX2 and AVX-512 bodies picked at run time. The float paths keep the portable
// order exactly (16 lanes, c = j mod 16, multiply then add: no FMA, as the baseline x86-64
// build has none; the same tree at the end), so every x86 CPU gives the same bits.
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#include <immintrin.h>
// GCC 12 reports its own intrinsics' undefined-vector idiom (_mm512_undefined_*) as
// maybe-uninitialised.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#define RACT_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,f16c,fma")))
#define RACT_AVX2 __attribute__((target("avx2,f16c,fma")))

static int cpu_avx512(void) {
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl");
}
// F16C from CPUID leaf 1 (ECX bit 29): clang 14's __builtin_cpu_supports does not know
// "f16c" (the --config=fuzz build).
static int cpu_f16c(void) {
  unsigned a, b, c, d;
  return __get_cpuid(1, &a, &b, &c, &d) && (c & bit_F16C) != 0;
}
static int cpu_avx2(void) { return __builtin_cpu_supports("avx2") && cpu_f16c(); }
static int cpu_vnni(void) { return cpu_avx512() && __builtin_cpu_supports("avx512vnni"); }

// The tail (c..cols) and the tree, exactly as the portable loop.
static inline float finish_row(float* acc, const float* w, const float* x, int c, int cols) {
  for (int j = 0; c + j < cols; j++) acc[j] += w[c + j] * x[c + j];
  return lanes_sum(acc);
}

RACT_AVX512 static void gemv_f32_avx512(float* y, const float* W, const float* x, int rows,
                                        int cols) {
  const int body = cols / 16 * 16;
  int r = 0;
  for (; r + 4 <= rows; r += 4) {
    const float* w0 = W + (size_t)r * cols;
    const float* w1 = w0 + cols;
    const float* w2 = w1 + cols;
    const float* w3 = w2 + cols;
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (int c = 0; c < body; c += 16) {
      const __m512 xv = _mm512_loadu_ps(x + c);
      a0 = _mm512_add_ps(a0, _mm512_mul_ps(_mm512_loadu_ps(w0 + c), xv));
      a1 = _mm512_add_ps(a1, _mm512_mul_ps(_mm512_loadu_ps(w1 + c), xv));
      a2 = _mm512_add_ps(a2, _mm512_mul_ps(_mm512_loadu_ps(w2 + c), xv));
      a3 = _mm512_add_ps(a3, _mm512_mul_ps(_mm512_loadu_ps(w3 + c), xv));
    }
    float t[16];
    _mm512_storeu_ps(t, a0);
    y[r] = finish_row(t, w0, x, body, cols);
    _mm512_storeu_ps(t, a1);
    y[r + 1] = finish_row(t, w1, x, body, cols);
    _mm512_storeu_ps(t, a2);
    y[r + 2] = finish_row(t, w2, x, body, cols);
    _mm512_storeu_ps(t, a3);
    y[r + 3] = finish_row(t, w3, x, body, cols);
  }
  if (r < rows) gemv_f32_portable(y + r, W + (size_t)r * cols, x, rows - r, cols);
}

RACT_AVX512 static void gemv_f16_avx512(float* y, const uint16_t* W, const float* x, int rows,
                                        int cols) {
  const int body = cols / 16 * 16;
  int r = 0;
  for (; r + 4 <= rows; r += 4) {
    const uint16_t* w[4];
    for (int k = 0; k < 4; k++) w[k] = W + (size_t)(r + k) * cols;
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (int c = 0; c < body; c += 16) {
      const __m512 xv = _mm512_loadu_ps(x + c);
      a0 = _mm512_add_ps(
          a0, _mm512_mul_ps(_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i*)(w[0] + c))), xv));
      a1 = _mm512_add_ps(
          a1, _mm512_mul_ps(_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i*)(w[1] + c))), xv));
      a2 = _mm512_add_ps(
          a2, _mm512_mul_ps(_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i*)(w[2] + c))), xv));
      a3 = _mm512_add_ps(
          a3, _mm512_mul_ps(_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i*)(w[3] + c))), xv));
    }
    __m512 acc[4] = {a0, a1, a2, a3};
    for (int k = 0; k < 4; k++) {
      float t[16];
      _mm512_storeu_ps(t, acc[k]);
      for (int j = 0; body + j < cols; j++) t[j] += half_to_float(w[k][body + j]) * x[body + j];
      y[r + k] = lanes_sum(t);
    }
  }
  if (r < rows) gemv_f16_portable(y + r, W + (size_t)r * cols, x, rows - r, cols);
}

RACT_AVX512 static void gemv_i8_avx512(float* y, const int8_t* W, const float* scale,
                                       const float* x, int rows, int cols) {
  const int body = cols / 16 * 16;
  for (int r = 0; r < rows; r++) {
    const int8_t* w = W + (size_t)r * cols;
    __m512 a = _mm512_setzero_ps();
    for (int c = 0; c < body; c += 16) {
      const __m512 wv =
          _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i*)(w + c))));
      a = _mm512_add_ps(a, _mm512_mul_ps(wv, _mm512_loadu_ps(x + c)));
    }
    float t[16];
    _mm512_storeu_ps(t, a);
    for (int j = 0; body + j < cols; j++) t[j] += (float)w[body + j] * x[body + j];
    y[r] = scale[r] * lanes_sum(t);
  }
}

// VNNI: u8 x s8 products summed in int32 (exact). The activation is offset to unsigned,
// u = q + 128, and sum_c w*q = sum_c w*u - 128 * sum_c w, both sums by vpdpbusd (the second
// against a vector of ones): 64 products per instruction, exact for every int8 weight.
// One target attribute with every feature: clang keeps only the last of two.
__attribute__((target("avx512f,avx512bw,avx512vl,f16c,fma,avx512vnni"))) static void gemv_i8q_vnni(
    float* y, const int8_t* W, const float* scale, const int8_t* q, float sx, int rows, int cols) {
  const int nch = (cols + 63) / 64;
  __m512i ua[64];
  __mmask64 tail[64];
  const __m512i bias = _mm512_set1_epi8((char)0x80);
  for (int k = 0; k < nch; k++) {
    const int c = k * 64, n = cols - c < 64 ? cols - c : 64;
    tail[k] = n == 64 ? ~(__mmask64)0 : (((__mmask64)1 << n) - 1);
    ua[k] = _mm512_xor_si512(_mm512_maskz_loadu_epi8(tail[k], q + c), bias);  // q + 128
  }
  const __m512i zero = _mm512_setzero_si512(), ones = _mm512_set1_epi8(1);
  for (int r = 0; r < rows; r++) {
    const int8_t* w0 = W + (size_t)r * cols;
    __m512i a0 = zero, s0 = zero;
    for (int k = 0; k < nch; k++) {
      const __m512i v0 = _mm512_maskz_loadu_epi8(tail[k], w0 + k * 64);
      a0 = _mm512_dpbusd_epi32(a0, ua[k], v0);
      s0 = _mm512_dpbusd_epi32(s0, ones, v0);
    }
    const int32_t dot = _mm512_reduce_add_epi32(a0) - 128 * _mm512_reduce_add_epi32(s0);
    y[r] = scale[r] * sx * (float)dot;
  }
}

RACT_AVX2 static void gemv_f32_avx2(float* y, const float* W, const float* x, int rows, int cols) {
  const int body = cols / 16 * 16;
  for (int r = 0; r < rows; r++) {
    const float* w = W + (size_t)r * cols;
    __m256 lo = _mm256_setzero_ps(), hi = lo;
    for (int c = 0; c < body; c += 16) {
      lo = _mm256_add_ps(lo, _mm256_mul_ps(_mm256_loadu_ps(w + c), _mm256_loadu_ps(x + c)));
      hi = _mm256_add_ps(hi, _mm256_mul_ps(_mm256_loadu_ps(w + c + 8), _mm256_loadu_ps(x + c + 8)));
    }
    float t[16];
    _mm256_storeu_ps(t, lo);
    _mm256_storeu_ps(t + 8, hi);
    y[r] = finish_row(t, w, x, body, cols);
  }
}

RACT_AVX2 static void gemv_f16_avx2(float* y, const uint16_t* W, const float* x, int rows,
                                    int cols) {
  const int body = cols / 16 * 16;
  for (int r = 0; r < rows; r++) {
    const uint16_t* w = W + (size_t)r * cols;
    __m256 lo = _mm256_setzero_ps(), hi = lo;
    for (int c = 0; c < body; c += 16) {
      const __m256 w0 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i*)(w + c)));
      const __m256 w1 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i*)(w + c + 8)));
      lo = _mm256_add_ps(lo, _mm256_mul_ps(w0, _mm256_loadu_ps(x + c)));
      hi = _mm256_add_ps(hi, _mm256_mul_ps(w1, _mm256_loadu_ps(x + c + 8)));
    }
    float t[16];
    _mm256_storeu_ps(t, lo);
    _mm256_storeu_ps(t + 8, hi);
    for (int j = 0; body + j < cols; j++) t[j] += half_to_float(w[body + j]) * x[body + j];
    y[r] = lanes_sum(t);
  }
}
// y += a * w, element-wise (the history gather of the first layer), multiply then add.
RACT_AVX512 static void axpy_f32_avx512(float* y, float a, const float* w, int n) {
  const __m512 av = _mm512_set1_ps(a);
  int c = 0;
  for (; c + 16 <= n; c += 16) {
    _mm512_storeu_ps(
        y + c, _mm512_add_ps(_mm512_loadu_ps(y + c), _mm512_mul_ps(av, _mm512_loadu_ps(w + c))));
  }
  for (; c < n; c++) y[c] += a * w[c];
}

RACT_AVX512 static void axpy_f16_avx512(float* y, float a, const uint16_t* w, int n) {
  const __m512 av = _mm512_set1_ps(a);
  int c = 0;
  for (; c + 16 <= n; c += 16) {
    const __m512 wv = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i*)(w + c)));
    _mm512_storeu_ps(y + c, _mm512_add_ps(_mm512_loadu_ps(y + c), _mm512_mul_ps(av, wv)));
  }
  for (; c < n; c++) y[c] += a * half_to_float(w[c]);
}

RACT_AVX512 static void axpy_i8_avx512(float* y, float a, const int8_t* w, int n) {
  const __m512 av = _mm512_set1_ps(a);
  int c = 0;
  for (; c + 16 <= n; c += 16) {
    const __m512 wv =
        _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i*)(w + c))));
    _mm512_storeu_ps(y + c, _mm512_add_ps(_mm512_loadu_ps(y + c), _mm512_mul_ps(av, wv)));
  }
  for (; c < n; c++) y[c] += a * (float)w[c];
}

RACT_AVX2 static void axpy_f32_avx2(float* y, float a, const float* w, int n) {
  const __m256 av = _mm256_set1_ps(a);
  int c = 0;
  for (; c + 8 <= n; c += 8) {
    _mm256_storeu_ps(
        y + c, _mm256_add_ps(_mm256_loadu_ps(y + c), _mm256_mul_ps(av, _mm256_loadu_ps(w + c))));
  }
  for (; c < n; c++) y[c] += a * w[c];
}

RACT_AVX2 static void axpy_f16_avx2(float* y, float a, const uint16_t* w, int n) {
  const __m256 av = _mm256_set1_ps(a);
  int c = 0;
  for (; c + 8 <= n; c += 8) {
    const __m256 wv = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i*)(w + c)));
    _mm256_storeu_ps(y + c, _mm256_add_ps(_mm256_loadu_ps(y + c), _mm256_mul_ps(av, wv)));
  }
  for (; c < n; c++) y[c] += a * half_to_float(w[c]);
}
#pragma GCC diagnostic pop
#endif  // x86-64

extern "C" {

void ract_kernel_gemv_f32(float* y, const float* W, const float* x, int rows, int cols) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  if (cpu_avx512()) return gemv_f32_avx512(y, W, x, rows, cols);
  if (cpu_avx2()) return gemv_f32_avx2(y, W, x, rows, cols);
#endif
  gemv_f32_portable(y, W, x, rows, cols);
}

void ract_kernel_gemv_f16(float* y, const uint16_t* W, const float* x, int rows, int cols) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  if (cpu_avx512()) return gemv_f16_avx512(y, W, x, rows, cols);
  if (cpu_avx2()) return gemv_f16_avx2(y, W, x, rows, cols);
#endif
  gemv_f16_portable(y, W, x, rows, cols);
}

void ract_kernel_gemv_i8(float* y, const int8_t* W, const float* scale, const float* x, int rows,
                         int cols) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  if (cpu_avx512()) return gemv_i8_avx512(y, W, scale, x, rows, cols);
#endif
  gemv_i8_portable(y, W, scale, x, rows, cols);
}

void ract_kernel_gemv_i8q(float* y, const int8_t* W, const float* scale, const int8_t* q, float sx,
                          int rows, int cols) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  if (cpu_vnni() && cols <= 64 * 64) return gemv_i8q_vnni(y, W, scale, q, sx, rows, cols);
#endif
  gemv_i8q_portable(y, W, scale, q, sx, rows, cols);
}

void ract_kernel_axpy_f32(float* RACT_RESTRICT y, float a, const float* RACT_RESTRICT w, int n) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  if (cpu_avx512()) return axpy_f32_avx512(y, a, w, n);
  if (cpu_avx2()) return axpy_f32_avx2(y, a, w, n);
#endif
  for (int c = 0; c < n; c++) y[c] += a * w[c];
}

void ract_kernel_axpy_f16(float* RACT_RESTRICT y, float a, const uint16_t* RACT_RESTRICT w, int n) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  if (cpu_avx512()) return axpy_f16_avx512(y, a, w, n);
  if (cpu_avx2()) return axpy_f16_avx2(y, a, w, n);
#endif
  for (int c = 0; c < n; c++) y[c] += a * half_to_float(w[c]);
}

void ract_kernel_axpy_i8(float* RACT_RESTRICT y, float a, const int8_t* RACT_RESTRICT w, int n) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  if (cpu_avx512()) return axpy_i8_avx512(y, a, w, n);
#endif
  for (int c = 0; c < n; c++) y[c] += a * (float)w[c];
}

}  // extern "C"
