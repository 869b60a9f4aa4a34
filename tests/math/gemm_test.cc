#include "ract/math/gemm.h"

#include <doctest/doctest.h>
#include <math.h>
#include <string.h>

#include <string>
#include <vector>

#include "ract/core/rng.h"

namespace {

// A rows x cols view with `pad` spare floats at the end of each row, random contents.
struct Mat {
  std::vector<float> buf;
  ract_tensor t;
  Mat(int rows, int cols, int pad, ract_rng* r) : buf((size_t)rows * (cols + pad) + 1) {
    for (float& x : buf) x = ract_rng_uniform(r) * 2 - 1;
    t = {buf.data(), rows, cols, cols + pad};
  }
};

float max_diff(ract_tensor a, ract_tensor b) {
  float m = 0;
  for (int i = 0; i < a.rows; i++)
    for (int j = 0; j < a.cols; j++)
      m = fmaxf(m, fabsf(ract_tensor_at(a, i, j) - ract_tensor_at(b, i, j)));
  return m;
}

}  // namespace

TEST_CASE("gemm: BLIS equals the reference for every transpose, stride and odd size") {
  ract_rng r;
  ract_rng_seed(&r, 11, 0);
  const int shapes[][3] = {{1, 1, 1},  {3, 5, 7},    {17, 1, 9},
                           {1, 33, 1}, {31, 29, 37}, {64, 65, 63}};
  int cases = 0;
  for (auto& s : shapes) {
    int m = s[0], k = s[1], n = s[2];
    for (int ta = 0; ta < 2; ta++)
      for (int tb = 0; tb < 2; tb++)
        for (int pad = 0; pad < 3; pad += 2)
          for (float beta : {0.0f, 1.0f, -0.5f}) {
            Mat a = ta ? Mat(k, m, pad, &r) : Mat(m, k, pad, &r);
            Mat b = tb ? Mat(n, k, pad, &r) : Mat(k, n, pad, &r);
            Mat c(m, n, pad, &r), cref(m, n, pad, &r);
            memcpy(cref.buf.data(), c.buf.data(), c.buf.size() * sizeof(float));
            REQUIRE(ract_gemm(c.t, (ract_trans)ta, a.t, (ract_trans)tb, b.t, 0.7f, beta) ==
                    RACT_OK);
            REQUIRE(ract_gemm_ref(cref.t, (ract_trans)ta, a.t, (ract_trans)tb, b.t, 0.7f, beta) ==
                    RACT_OK);
            CHECK(max_diff(c.t, cref.t) < 1e-5f * (k + 1));
            // the padding between rows is never written
            for (int i = 0; i < m; i++)
              for (int p = 0; p < pad; p++)
                CHECK(c.buf[(size_t)i * c.t.stride + n + p] ==
                      cref.buf[(size_t)i * c.t.stride + n + p]);
            cases++;
          }
  }
  CHECK(cases == 6 * 2 * 2 * 2 * 3);
}

TEST_CASE("gemm: beta = 0 overwrites C even when it holds NaN") {
  ract_rng r;
  ract_rng_seed(&r, 12, 0);
  Mat a(4, 3, 0, &r), b(3, 5, 0, &r), c(4, 5, 0, &r);
  for (float& x : c.buf) x = NAN;
  REQUIRE(ract_gemm(c.t, RACT_NOTRANS, a.t, RACT_NOTRANS, b.t, 1.0f, 0.0f) == RACT_OK);
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 5; j++) CHECK(std::isfinite(ract_tensor_at(c.t, i, j)));
}

TEST_CASE("gemm: shape mismatches are rejected before BLIS is called") {
  ract_rng r;
  ract_rng_seed(&r, 13, 0);
  Mat a(4, 3, 0, &r), b(4, 5, 0, &r), c(4, 5, 0, &r);
  CHECK(ract_gemm(c.t, RACT_NOTRANS, a.t, RACT_NOTRANS, b.t, 1, 0) == RACT_ERR_SHAPE);
  CHECK(ract_gemm(c.t, RACT_TRANS, a.t, RACT_NOTRANS, b.t, 1, 0) == RACT_ERR_SHAPE);
  Mat c2(3, 4, 0, &r);  // op(A) = 3x4, op(B) = 4x5: C must be 3x5
  CHECK(ract_gemm(c2.t, RACT_TRANS, a.t, RACT_NOTRANS, b.t, 1, 0) == RACT_ERR_SHAPE);
  Mat c3(3, 5, 0, &r);  // op(A) = 3x4, op(B) = 4x5: fits
  Mat a2(4, 3, 0, &r);
  CHECK(ract_gemm(c3.t, RACT_TRANS, a2.t, RACT_NOTRANS, b.t, 1, 0) == RACT_OK);
  ract_tensor bad_stride = {b.buf.data(), 4, 5, 4};
  CHECK(ract_gemm(c.t, RACT_TRANS, a2.t, RACT_NOTRANS, bad_stride, 1, 0) == RACT_ERR_SHAPE);
}

TEST_CASE("gemv: BLIS equals the reference, both transposes, strided A") {
  ract_rng r;
  ract_rng_seed(&r, 14, 0);
  for (int ta = 0; ta < 2; ta++) {
    Mat a(37, 23, 3, &r);
    int m = ta ? 23 : 37, k = ta ? 37 : 23;
    std::vector<float> x(k), y(m), yref(m);
    for (float& v : x) v = ract_rng_uniform(&r);
    for (int i = 0; i < m; i++) y[i] = yref[i] = ract_rng_uniform(&r);
    REQUIRE(ract_gemv(y.data(), (ract_trans)ta, a.t, x.data(), 1.5f, 0.5f) == RACT_OK);
    REQUIRE(ract_gemv_ref(yref.data(), (ract_trans)ta, a.t, x.data(), 1.5f, 0.5f) == RACT_OK);
    for (int i = 0; i < m; i++) CHECK(y[i] == doctest::Approx(yref[i]).epsilon(1e-5));
  }
}

TEST_CASE("blas: never the generic kernels on a CPU with AVX2; threads setting") {
  std::string k = ract_gemm_kernel();
  MESSAGE("BLIS kernel family: " << k);
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && getenv("BLIS_ARCH_TYPE") == nullptr) {
    CHECK(k != "generic");
  }
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
      getenv("BLIS_ARCH_TYPE") == nullptr) {
    CHECK(k == "skx");
  }
#endif
  ract_gemm_set_threads(2);
  CHECK(ract_gemm_threads() == 2);
  ract_gemm_set_threads(0);
  CHECK(ract_gemm_threads() == 1);
}
