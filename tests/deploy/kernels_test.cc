// Kernels: binary16 conversion (every half exactly; rounding of floats checked against the
// compiler's _Float16 where it has one, and by hand), GEMV/AXPY against plain loops at
// sizes around the 16-lane blocks.
#include "ract/deploy/kernels.h"

#include <doctest/doctest.h>
#include <math.h>
#include <string.h>

#include <vector>

#include "ract/core/rng.h"

#if defined(__aarch64__)
typedef __fp16 half;  // IEEE binary16 on aarch64; g++ 12 has no C++ _Float16 there
#define RACT_COMPILER_HALF 1
#elif defined(__FLT16_MAX__)
typedef _Float16 half;
#define RACT_COMPILER_HALF 1
#else
#define RACT_COMPILER_HALF 0
#endif
static const bool kCompilerHalf = RACT_COMPILER_HALF;

static uint32_t bits(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  return u;
}

static float from_bits(uint32_t u) {
  float f;
  memcpy(&f, &u, 4);
  return f;
}

// Value of a half by its definition: (-1)^s * 2^(e-15) * (1 + m/1024), subnormals 2^-14 * m/1024.
static double half_value(uint16_t h) {
  int s = h >> 15, e = (h >> 10) & 31, m = h & 1023;
  double v = e == 0 ? ldexp(m, -24) : ldexp(1024 + m, e - 25);
  return s ? -v : v;
}

TEST_CASE("kernels: every half converts to the exact float and back") {
  for (uint32_t h = 0; h < 65536; h++) {
    float f = ract_kernel_half_to_float((uint16_t)h);
    int e = (h >> 10) & 31;
    if (e == 31) {
      if ((h & 1023) == 0) {
        CHECK(isinf(f));
        CHECK((f < 0) == (h >> 15 == 1));
      } else {
        CHECK(isnan(f));
      }
      continue;
    }
    if ((double)f != half_value((uint16_t)h)) FAIL_CHECK("half " << h << " -> " << f);
    if (ract_kernel_float_to_half(f) != h) FAIL_CHECK("round trip of half " << h);
  }
  CHECK(ract_kernel_float_to_half(NAN) == 0x7e00);
}

TEST_CASE("kernels: float -> half rounds to nearest even, overflows to inf") {
  CHECK(ract_kernel_float_to_half(65504.0f) == 0x7bff);
  CHECK(ract_kernel_float_to_half(65519.99f) == 0x7bff);
  CHECK(ract_kernel_float_to_half(65520.0f) == 0x7c00);  // the tie rounds to even = inf
  CHECK(ract_kernel_float_to_half(-1e10f) == 0xfc00);
  CHECK(ract_kernel_float_to_half(1.0f + 0x1p-11f) == 0x3c00);      // tie -> even (down)
  CHECK(ract_kernel_float_to_half(1.0f + 3 * 0x1p-11f) == 0x3c02);  // tie -> even (up)
  CHECK(ract_kernel_float_to_half(1.0f + 0x1p-11f + 0x1p-20f) == 0x3c01);
  CHECK(ract_kernel_float_to_half(0x1p-24f) == 0x0001);             // smallest subnormal
  CHECK(ract_kernel_float_to_half(0x1p-25f) == 0x0000);             // tie -> even (0)
  CHECK(ract_kernel_float_to_half(0x1p-25f * 3) == 0x0002);         // 1.5 -> 2
  CHECK(ract_kernel_float_to_half(0x1p-14f - 0x1p-26f) == 0x0400);  // rounds up to normal
  CHECK(ract_kernel_float_to_half(-0.0f) == 0x8000);
  CHECK(ract_kernel_float_to_half(1e-30f) == 0x0000);
}

// The compiler's own conversion as a second opinion, on random bit patterns; reported as
// skipped by a compiler without a binary16 type.
TEST_CASE("kernels: float -> half agrees with the compiler's binary16 conversion" *
          doctest::skip(!kCompilerHalf)) {
#if RACT_COMPILER_HALF
  ract_rng r;
  ract_rng_seed(&r, 5, 0);
  for (int i = 0; i < 200000; i++) {
    float f = from_bits((uint32_t)ract_rng_u64(&r));
    if (isnan(f)) continue;
    half h = (half)f;
    uint16_t hb;
    memcpy(&hb, &h, 2);
    if (ract_kernel_float_to_half(f) != hb) FAIL_CHECK("float " << bits(f));
  }
#endif
}

TEST_CASE("kernels: GEMV and AXPY equal plain loops for every dtype and ragged sizes") {
  ract_rng r;
  ract_rng_seed(&r, 6, 0);
  for (int cols : {1, 7, 15, 16, 17, 33, 64, 100}) {
    int rows = 5;
    std::vector<float> W(rows * cols), x(cols), scale(rows);
    std::vector<uint16_t> Wh(rows * cols);
    std::vector<int8_t> Wq(rows * cols);
    for (auto& v : W) v = (float)ract_rng_normal(&r);
    for (auto& v : x) v = (float)ract_rng_normal(&r);
    for (auto& v : scale) v = ract_rng_uniform(&r) + 0.1f;
    for (int i = 0; i < rows * cols; i++) {
      Wh[i] = ract_kernel_float_to_half(W[i]);
      Wq[i] = (int8_t)((int)ract_rng_below(&r, 255) - 127);
    }
    std::vector<float> y(rows), yh(rows), yq(rows);
    ract_kernel_gemv_f32(y.data(), W.data(), x.data(), rows, cols);
    ract_kernel_gemv_f16(yh.data(), Wh.data(), x.data(), rows, cols);
    ract_kernel_gemv_i8(yq.data(), Wq.data(), scale.data(), x.data(), rows, cols);
    for (int o = 0; o < rows; o++) {
      double a = 0, b = 0, c = 0, mag = 0;
      for (int i = 0; i < cols; i++) {
        a += (double)W[o * cols + i] * x[i];
        b += (double)ract_kernel_half_to_float(Wh[o * cols + i]) * x[i];
        c += (double)scale[o] * Wq[o * cols + i] * x[i];
        mag += fabs((double)W[o * cols + i] * x[i]);
      }
      CAPTURE(cols);
      CHECK(fabs(y[o] - a) <= 1e-6 * (mag + 1));
      CHECK(fabs(yh[o] - b) <= 1e-6 * (mag + 1));
      CHECK(fabs(yq[o] - c) <= 1e-6 * 127 * (mag + 1));
    }
    std::vector<float> acc(cols, 1.0f), acch(cols, 1.0f), accq(cols, 1.0f);
    ract_kernel_axpy_f32(acc.data(), 0.5f, W.data(), cols);
    ract_kernel_axpy_f16(acch.data(), 0.5f, Wh.data(), cols);
    ract_kernel_axpy_i8(accq.data(), 0.5f, Wq.data(), cols);
    // Within one rounding (a target with FMA may fuse the multiply-add).
    for (int i = 0; i < cols; i++) {
      CHECK(acc[i] == doctest::Approx(1.0 + 0.5 * W[i]).epsilon(1e-6));
      CHECK(acch[i] == doctest::Approx(1.0 + 0.5 * ract_kernel_half_to_float(Wh[i])).epsilon(1e-6));
      CHECK(accq[i] == doctest::Approx(1.0 + 0.5 * Wq[i]).epsilon(1e-6));
    }
  }
}

// The documented order: 16 lane sums (lane c mod 16, multiply then add), a tree at the end.
static float lanes_dot(const float* w, const float* x, int cols) {
  float acc[16] = {0};
  for (int c = 0; c < cols; c++) acc[c % 16] += w[c] * x[c];
  for (int s = 8; s > 0; s /= 2) {
    for (int j = 0; j < s; j++) acc[j] += acc[j + s];
  }
  return acc[0];
}

TEST_CASE("kernels: fp32 and fp16 GEMV give the documented sums bit for bit (any CPU)") {
  ract_rng r;
  ract_rng_seed(&r, 9, 0);
  for (int cols : {1, 15, 16, 17, 100, 600}) {
    const int rows = 13;  // 4-row groups and a rest
    std::vector<float> W(rows * cols), Wf(rows * cols), x(cols), y(rows), yh(rows);
    std::vector<uint16_t> Wh(rows * cols);
    for (auto& v : x) v = (float)ract_rng_normal(&r);
    for (int i = 0; i < rows * cols; i++) {
      W[i] = (float)ract_rng_normal(&r);
      Wh[i] = ract_kernel_float_to_half(W[i]);
      Wf[i] = ract_kernel_half_to_float(Wh[i]);
    }
    ract_kernel_gemv_f32(y.data(), W.data(), x.data(), rows, cols);
    ract_kernel_gemv_f16(yh.data(), Wh.data(), x.data(), rows, cols);
    for (int o = 0; o < rows; o++) {
      CAPTURE(cols);
      CAPTURE(o);
      CHECK(bits(y[o]) == bits(lanes_dot(&W[o * cols], x.data(), cols)));
      CHECK(bits(yh[o]) == bits(lanes_dot(&Wf[o * cols], x.data(), cols)));
    }
  }
}

TEST_CASE("kernels: int8 GEMV with an int8 activation: exact integer sums, bounded error") {
  ract_rng r;
  ract_rng_seed(&r, 17, 0);
  for (int cols : {1, 15, 63, 64, 65, 130, 600}) {
    const int rows = 37;  // odd: the row tail of the blocked kernels
    std::vector<int8_t> W(rows * cols);
    std::vector<float> x(cols), scale(rows), y(rows), yf(rows);
    for (auto& v : W) v = (int8_t)((int)ract_rng_below(&r, 256) - 128);  // -128 included
    for (auto& v : x) v = (float)tanh(ract_rng_normal(&r));              // a tanh layer's output
    for (auto& v : scale) v = 0.01f * (ract_rng_uniform(&r) + 0.1f);
    std::vector<int8_t> q(cols);
    const float sx = ract_kernel_quantise_i8(q.data(), x.data(), cols);
    float mx = 0;
    for (float v : x) mx = fmaxf(mx, fabsf(v));
    CHECK(sx == doctest::Approx(mx / 127.0f).epsilon(1e-6));
    for (int c = 0; c < cols; c++) CHECK(fabs(q[c] * sx - x[c]) <= 0.5 * sx * (1 + 1e-5));
    ract_kernel_gemv_i8q(y.data(), W.data(), scale.data(), q.data(), sx, rows, cols);
    ract_kernel_gemv_i8(yf.data(), W.data(), scale.data(), x.data(), rows, cols);
    for (int o = 0; o < rows; o++) {
      long long dot = 0;
      double l1 = 0;
      for (int c = 0; c < cols; c++) {
        dot += (long long)W[o * cols + c] * q[c];
        l1 += fabs((double)W[o * cols + c]);
      }
      CAPTURE(cols);
      CHECK(y[o] == doctest::Approx((double)scale[o] * sx * (double)dot).epsilon(1e-6));
      // Against the float-activation kernel: half a quantisation step per term at most.
      CHECK(fabs(y[o] - yf[o]) <= scale[o] * sx * 0.5 * l1 + 1e-5);
    }
  }
  // A zero activation gives zero scores.
  std::vector<int8_t> W(64, 3), q(64);
  std::vector<float> x(64, 0.0f), scale(1, 1.0f), y(1, 5.0f);
  CHECK(ract_kernel_quantise_i8(q.data(), x.data(), 64) == 0.0f);
  ract_kernel_gemv_i8q(y.data(), W.data(), scale.data(), q.data(), 0.0f, 1, 64);
  CHECK(y[0] == 0.0f);
}
