// BLIS glue: kernel-family selection, shape checks, row-major strides.
#include "ract/math/gemm.h"

#include <blis.h>
#include <stdio.h>
#include <stdlib.h>

#include <mutex>

#include "ract/core/parallel.h"

static int g_threads = 1;
static ract_gemm_trace* g_trace = nullptr;

void ract_gemm_trace_set(ract_gemm_trace* t) { g_trace = t; }

static void trace_add(int ta, int tb, int m, int n, int k, int beta_zero) {
  ract_gemm_trace* t = g_trace;
  for (int i = 0; i < t->n; i++) {
    ract_gemm_shape* s = &t->shapes[i];
    if (s->ta == ta && s->tb == tb && s->m == m && s->n == n && s->k == k &&
        s->beta_zero == beta_zero) {
      s->count++;
      return;
    }
  }
  if (t->n >= t->cap) {
    t->dropped++;
    return;
  }
  t->shapes[t->n++] = ract_gemm_shape{ta, tb, m, n, k, beta_zero, 1};
}

static void select_kernels() {
  if (getenv("BLIS_ARCH_TYPE") != nullptr) return;  // the user's choice wins
#if defined(__x86_64__) || defined(__i386__)
  int arch = -1;
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl")) {
    arch = BLIS_ARCH_SKX;
  } else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    arch = BLIS_ARCH_HASWELL;
  }
  if (arch >= 0) {
    char v[16];
    snprintf(v, sizeof(v), "%d", arch);
    setenv("BLIS_ARCH_TYPE", v, 0);
  }
#endif
}

void ract_gemm_init(void) {
  static std::once_flag once;
  std::call_once(once, [] {
    select_kernels();
    bli_init();
    bli_thread_set_num_threads(g_threads);
  });
}

const char* ract_gemm_kernel(void) {
  ract_gemm_init();
  return bli_arch_string(bli_arch_query_id());
}

void ract_gemm_set_threads(int threads) {
  ract_gemm_init();
  g_threads = threads < 1 ? 1 : threads;
  bli_thread_set_num_threads(g_threads);
  ract_parallel_set_threads(g_threads);
}

int ract_gemm_threads(void) { return g_threads; }

// op(t) dims: rows and cols after the optional transpose.
static inline int op_rows(ract_tensor t, ract_trans tr) { return tr ? t.cols : t.rows; }
static inline int op_cols(ract_tensor t, ract_trans tr) { return tr ? t.rows : t.cols; }

static ract_status check_gemm(ract_tensor c, ract_trans ta, ract_tensor a, ract_trans tb,
                              ract_tensor b) {
  if (op_rows(a, ta) != c.rows || op_cols(b, tb) != c.cols || op_cols(a, ta) != op_rows(b, tb)) {
    return RACT_ERR_SHAPE;
  }
  if (a.stride < a.cols || b.stride < b.cols || c.stride < c.cols) return RACT_ERR_SHAPE;
  return RACT_OK;
}

ract_status ract_gemm(ract_tensor c, ract_trans ta, ract_tensor a, ract_trans tb, ract_tensor b,
                      float alpha, float beta) {
  RACT_CHECK(check_gemm(c, ta, a, tb, b));
  if (c.rows == 0 || c.cols == 0) return RACT_OK;
  ract_gemm_init();
  if (g_trace) trace_add(ta, tb, c.rows, c.cols, op_cols(a, ta), beta == 0.0f);
  bli_sgemm(ta ? BLIS_TRANSPOSE : BLIS_NO_TRANSPOSE, tb ? BLIS_TRANSPOSE : BLIS_NO_TRANSPOSE,
            c.rows, c.cols, op_cols(a, ta), &alpha, a.data, a.stride, 1, b.data, b.stride, 1, &beta,
            c.data, c.stride, 1);
  return RACT_OK;
}

ract_status ract_gemv(float* y, ract_trans ta, ract_tensor a, const float* x, float alpha,
                      float beta) {
  if (a.stride < a.cols) return RACT_ERR_SHAPE;
  if (op_rows(a, ta) == 0) return RACT_OK;
  ract_gemm_init();
  // BLIS 0.9's gemv takes the dims of A as stored, not of transa(A) as its docs say.
  bli_sgemv(ta ? BLIS_TRANSPOSE : BLIS_NO_TRANSPOSE, BLIS_NO_CONJUGATE, a.rows, a.cols, &alpha,
            a.data, a.stride, 1, (float*)x, 1, &beta, y, 1);
  return RACT_OK;
}

static inline float op_at(ract_tensor t, ract_trans tr, int r, int c) {
  return tr ? ract_tensor_at(t, c, r) : ract_tensor_at(t, r, c);
}

ract_status ract_gemm_ref(ract_tensor c, ract_trans ta, ract_tensor a, ract_trans tb, ract_tensor b,
                          float alpha, float beta) {
  RACT_CHECK(check_gemm(c, ta, a, tb, b));
  int k = op_cols(a, ta);
  for (int i = 0; i < c.rows; i++) {
    float* ci = ract_tensor_row(c, i);
    for (int j = 0; j < c.cols; j++) {
      double s = 0;
      for (int p = 0; p < k; p++) s += (double)op_at(a, ta, i, p) * op_at(b, tb, p, j);
      ci[j] = (float)(alpha * s + (beta == 0.0f ? 0.0 : (double)beta * ci[j]));
    }
  }
  return RACT_OK;
}

ract_status ract_gemv_ref(float* y, ract_trans ta, ract_tensor a, const float* x, float alpha,
                          float beta) {
  if (a.stride < a.cols) return RACT_ERR_SHAPE;
  int m = op_rows(a, ta), k = op_cols(a, ta);
  for (int i = 0; i < m; i++) {
    double s = 0;
    for (int p = 0; p < k; p++) s += (double)op_at(a, ta, i, p) * x[p];
    y[i] = (float)(alpha * s + (beta == 0.0f ? 0.0 : (double)beta * y[i]));
  }
  return RACT_OK;
}

void ract_gemm_f64(double* c, bool ta, const double* a, bool tb, const double* b, int M, int N,
                   int K, double beta) {
  for (int i = 0; i < M; i++) {
    for (int j = 0; j < N; j++) {
      double s = 0;
      for (int k = 0; k < K; k++) {
        const double av = ta ? a[(size_t)k * M + i] : a[(size_t)i * K + k];
        const double bv = tb ? b[(size_t)j * K + k] : b[(size_t)k * N + j];
        s += av * bv;
      }
      c[(size_t)i * N + j] = beta == 0 ? s : beta * c[(size_t)i * N + j] + s;
    }
  }
}
