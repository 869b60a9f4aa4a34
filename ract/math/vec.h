// Float array kernels on 16-float vectors: the inner loops of the ops (ract/math/ops.cc).
// Each is compiled for AVX-512, AVX2 and baseline x86-64 and picked at load time (see
// simd.h); results may differ in the last bit between those targets (FMA contraction), never
// between runs or thread counts on one machine. Single-threaded: the ops split the work.
//
// exp is Cephes' expf, branch-free: relative error below 2e-7 on [-87.3, 88.7], 0 below
// (the true value is subnormal), +inf above, NaN stays NaN. tanh: x + x^3 P(x^2) for |x| <
// 0.625, else sign(x) (1 - 2/(e^{2|x|} + 1)); relative error below 3e-7.
#ifndef RACT_MATH_VEC_H_
#define RACT_MATH_VEC_H_

#include <stddef.h>

// y[0..n) += a * x[0..n) (the double one is plain loops, for the double models).
void ract_vec_axpy(float* __restrict y, const float* __restrict x, float a, int n);
void ract_vec_axpy(double* __restrict y, const double* __restrict x, double a, int n);
// out = tanh(in) over n floats.
void ract_vec_tanh(float* out, const float* in, size_t n);
// dinp += dout * (1 - out^2) over n floats.
void ract_vec_tanh_grad(float* __restrict dinp, const float* __restrict dout,
                        const float* __restrict out, size_t n);
// out[i] = std sqrt(-2 ln u1[i]) cos(2 pi u2[i]) over n floats: Box-Muller, with u1 = 1 - v
// given twice, v[i] and u1[i] (both rounded from the same double), so that ln u1 keeps its
// digits near 1 (from v) and near 0 (from u1).
void ract_vec_box_muller(float* out, const float* v, const float* u1, const float* u2, int n,
                         float std);
// Max of l[0..n) (n >= 1); NaN entries are ignored unless all are NaN.
float ract_vec_max(const float* __restrict l, int n);
// sum_i exp(l[i] - mx) in double (the terms in float); with e != NULL also stores the terms
// (e may be l).
double ract_vec_exp_sum(float* e, const float* l, int n, float mx);
// d[0..n) *= a.
void ract_vec_scale(float* __restrict d, float a, int n);
// d = a * exp(l - ls), or d += ... with add; d may be l.
void ract_vec_exp_scaled(float* d, const float* l, float a, float ls, int n, int add);
// db[c0..c1) += the sum over B rows of d (row stride O), rows in order.
void ract_vec_col_sums(float* __restrict db, const float* __restrict d, int B, int O, int c0,
                       int c1);

#endif  // RACT_MATH_VEC_H_
