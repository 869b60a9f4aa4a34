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

void ract_kernel_gemv_f32(float* RACT_RESTRICT y, const float* RACT_RESTRICT W,
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

void ract_kernel_gemv_f16(float* RACT_RESTRICT y, const uint16_t* RACT_RESTRICT W,
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

void ract_kernel_gemv_i8(float* RACT_RESTRICT y, const int8_t* RACT_RESTRICT W,
                         const float* RACT_RESTRICT scale, const float* RACT_RESTRICT x, int rows,
                         int cols) {
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

void ract_kernel_axpy_f32(float* RACT_RESTRICT y, float a, const float* RACT_RESTRICT w, int n) {
  for (int c = 0; c < n; c++) y[c] += a * w[c];
}

void ract_kernel_axpy_f16(float* RACT_RESTRICT y, float a, const uint16_t* RACT_RESTRICT w, int n) {
  for (int c = 0; c < n; c++) y[c] += a * half_to_float(w[c]);
}

void ract_kernel_axpy_i8(float* RACT_RESTRICT y, float a, const int8_t* RACT_RESTRICT w, int n) {
  for (int c = 0; c < n; c++) y[c] += a * (float)w[c];
}

}  // extern "C"
