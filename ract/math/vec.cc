// Float array kernels on 16-float vectors (see vec.h).
#include "ract/math/vec.h"

#include <math.h>

#include "ract/math/simd.h"

using namespace ract_simd;

// y[0..n) += a * x[0..n): the inner loop of the sparse gather and its backward.
RACT_CLONES
void ract_vec_axpy(float* __restrict y, const float* __restrict x, float a, int n) {
  for (int j = 0; j < n; j++) y[j] += a * x[j];
}
void ract_vec_axpy(double* __restrict y, const double* __restrict x, double a, int n) {
  for (int j = 0; j < n; j++) y[j] += a * x[j];
}

RACT_CLONES
void ract_vec_tanh(float* out, const float* in, size_t n) {
  size_t i = 0;
  for (; i + 16 <= n; i += 16) store16(out + i, tanh16(load16(in + i)));
  if (i < n) store_tail(out + i, tanh16(load_tail(in + i, (int)(n - i), 0.0f)), (int)(n - i));
}

// out[i] = std sqrt(-2 ln u1) cos(2 pi u2[i]), Box-Muller on 16 lanes, with u1 = 1 - v[i]
// given twice: v[i] and u1[i] (both rounded from double). ln u1 comes from v where u1 is
// near 1 (there u1 has lost v's digits) and from u1 elsewhere (v has lost u1's when u1 is
// near 0).
RACT_CLONES
void ract_vec_box_muller(float* out, const float* v, const float* u1, const float* u2, int n,
                         float std) {
  for (int i = 0; i < n; i += 16) {
    const int m = n - i < 16 ? n - i : 16;
    const vf16 vv = m == 16 ? load16(v + i) : load_tail(v + i, m, 0.5f);
    const vf16 uu = m == 16 ? load16(u1 + i) : load_tail(u1 + i, m, 0.5f);
    const vf16 near1 = log1p_core(-vv, splat(0.0f));
    vf16 r = -2.0f * (vv <= 0.29289321881345248f ? near1 : log16(uu));
    for (int j = 0; j < 16; j++) r[j] = sqrtf(r[j]);  // -fno-math-errno: one vsqrtps
    const vf16 c = cos2pi16(m == 16 ? load16(u2 + i) : load_tail(u2 + i, m, 0.0f));
    if (m == 16) {
      store16(out + i, std * r * c);
    } else {
      store_tail(out + i, std * r * c, m);
    }
  }
}

// Max of l[0..n) (n >= 1); NaN entries are ignored unless all are NaN.
RACT_CLONES
float ract_vec_max(const float* __restrict l, int n) {
  float acc[16];
  for (int j = 0; j < 16; j++) acc[j] = l[0];
  int i = 0;
  for (; i + 16 <= n; i += 16) {
    for (int j = 0; j < 16; j++) acc[j] = l[i + j] > acc[j] ? l[i + j] : acc[j];
  }
  float m = l[0];
  for (int j = 0; j < 16; j++) m = acc[j] > m ? acc[j] : m;
  for (; i < n; i++) m = l[i] > m ? l[i] : m;
  return m;
}

// sum_i exp(l[i] - mx) in double (the terms in float); with e != NULL also stores the terms
// (e may be l).
RACT_CLONES
double ract_vec_exp_sum(float* e, const float* l, int n, float mx) {
  vf16 acc0 = splat(0.0f);
  double s = 0;
  int i = 0, blocks = 0;
  for (; i + 16 <= n; i += 16) {
    const vf16 t = exp16(load16(l + i) - mx);
    if (e) store16(e + i, t);
    acc0 += t;
    // Flush the float lanes into the double sum every 64 blocks (1024 terms, each <= 1).
    if (++blocks == 64) {
      for (int j = 0; j < 16; j++) s += (double)acc0[j];
      acc0 = splat(0.0f);
      blocks = 0;
    }
  }
  if (i < n) {
    const int m = n - i;
    vf16 t = exp16(load_tail(l + i, m, 0.0f) - mx);
    for (int j = m; j < 16; j++) t[j] = 0.0f;
    if (e) store_tail(e + i, t, m);
    acc0 += t;
  }
  for (int j = 0; j < 16; j++) s += (double)acc0[j];
  return s;
}

RACT_CLONES
void ract_vec_scale(float* __restrict d, float a, int n) {
  for (int i = 0; i < n; i++) d[i] *= a;
}

// d = a * exp(l - ls) (add: d += ...); d may be l.
RACT_CLONES
void ract_vec_exp_scaled(float* d, const float* l, float a, float ls, int n, int add) {
  int i = 0;
  for (; i + 16 <= n; i += 16) {
    vf16 v = a * exp16(load16(l + i) - ls);
    if (add) v += load16(d + i);
    store16(d + i, v);
  }
  for (; i < n; i++) d[i] = (add ? d[i] : 0.0f) + a * exp_core(l[i] - ls);
}

RACT_CLONES
void ract_vec_tanh_grad(float* __restrict dinp, const float* __restrict dout,
                        const float* __restrict out, size_t n) {
  for (size_t i = 0; i < n; i++) dinp[i] += dout[i] * (1 - out[i] * out[i]);
}

// db (cols c0..c1) += sum over B rows of d (row stride O), rows in order.
RACT_CLONES
void ract_vec_col_sums(float* __restrict db, const float* __restrict d, int B, int O, int c0,
                       int c1) {
  for (int r = 0; r < B; r++) {
    const float* __restrict dr = d + (size_t)r * O;
    for (int o = c0; o < c1; o++) db[o] += dr[o];
  }
}
