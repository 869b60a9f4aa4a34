// Dense matrix products over BLIS, row-major. The only part of the library that includes
// <blis.h> (and the only one the on-device scorer does not link).
//
//   ract_gemm: C = beta*C + alpha*op(A)*op(B)   op(A) is (M,K), op(B) is (K,N), C is (M,N)
//   ract_gemv: y = beta*y + alpha*op(A)*x       op(A) is (M,K), x is (K), y is (M)
//
// Shapes are checked here (BLIS checks nothing). The first call selects BLIS's kernel
// family for this CPU: BLIS 0.9 does not recognise recent CPUs and silently falls back to
// its generic kernels, 5x slower, so on x86-64 with AVX-512 the library asks for `skx`,
// with AVX2+FMA for `haswell`. A BLIS_ARCH_TYPE set by the user is respected.
#ifndef RACT_MATH_GEMM_H_
#define RACT_MATH_GEMM_H_

#include "ract/core/status.h"
#include "ract/core/tensor.h"

typedef enum ract_trans { RACT_NOTRANS = 0, RACT_TRANS = 1 } ract_trans;

ract_status ract_gemm(ract_tensor c, ract_trans ta, ract_tensor a, ract_trans tb, ract_tensor b,
                      float alpha, float beta);
ract_status ract_gemv(float* y, ract_trans ta, ract_tensor a, const float* x, float alpha,
                      float beta);

// The same products by plain loops with double accumulators: the reference for tests.
ract_status ract_gemm_ref(ract_tensor c, ract_trans ta, ract_tensor a, ract_trans tb, ract_tensor b,
                          float alpha, float beta);
ract_status ract_gemv_ref(float* y, ract_trans ta, ract_tensor a, const float* x, float alpha,
                          float beta);

// Row-major C (M,N) = beta*C + op(A) op(B) in double by plain loops (ta/tb: A/B stored
// transposed): the product of the double models the tests check by finite differences.
void ract_gemm_f64(double* c, bool ta, const double* a, bool tb, const double* b, int M, int N,
                   int K, double beta);

// Initialises BLIS (selecting the kernel family) if it is not yet; later calls are free.
void ract_gemm_init(void);
// The kernel family in use, e.g. "skx", "haswell", "generic".
const char* ract_gemm_kernel(void);
// Threads for the following products (>= 1): BLIS's and the library's own parallel passes
// (ract/core/parallel.h).
void ract_gemm_set_threads(int threads);
int ract_gemm_threads(void);

// Shape recording for benchmarks (tools/bench measures the GEMM floor of a training epoch
// by replaying the shapes it made): while a trace is set, every ract_gemm call adds its
// (ta, tb, M, N, K, whether beta is 0) to it, merging repeats into a count. Not thread-safe; calls
// beyond `cap` distinct shapes are counted in `dropped`.
typedef struct ract_gemm_shape {
  int ta, tb, m, n, k;
  int beta_zero;  // 1: C was written, not read (beta = 0)
  long count;
} ract_gemm_shape;
typedef struct ract_gemm_trace {
  ract_gemm_shape* shapes;  // cap slots, caller's
  int cap;
  int n;
  long dropped;
} ract_gemm_trace;
void ract_gemm_trace_set(ract_gemm_trace* t);  // NULL stops recording

#endif  // RACT_MATH_GEMM_H_
