// Ops with hand-written gradients (see ops.h). Inner loops are templates over the scalar
// type; the float dense linear goes through ract_gemm, everything else is plain loops.
#include "ract/math/ops.h"

#include <math.h>
#include <string.h>

#include <type_traits>

#include "ract/core/parallel.h"
#include "ract/math/gemm.h"

namespace {

// Row-major C (M,N) = beta*C + op(A) op(B) by plain loops (double path of the linear).
template <typename T>
void gemm_loops(T* c, bool ta, const T* a, bool tb, const T* b, int M, int N, int K, T beta) {
  for (int i = 0; i < M; i++) {
    for (int j = 0; j < N; j++) {
      double s = 0;
      for (int k = 0; k < K; k++) {
        T av = ta ? a[(size_t)k * M + i] : a[(size_t)i * K + k];
        T bv = tb ? b[(size_t)j * K + k] : b[(size_t)k * N + j];
        s += (double)av * (double)bv;
      }
      c[(size_t)i * N + j] = beta == 0 ? (T)s : (T)(beta * c[(size_t)i * N + j] + s);
    }
  }
}

// C (M,N) = beta*C + op(A) op(B); float through BLIS.
void mm(float* c, bool ta, const float* a, bool tb, const float* b, int M, int N, int K,
        float beta) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {
    for (size_t i = 0; i < (size_t)M * N; i++) c[i] *= beta;
    return;
  }
  ract_tensor tc = ract_tensor_make(c, M, N);
  ract_tensor tA = ta ? ract_tensor_make((float*)a, K, M) : ract_tensor_make((float*)a, M, K);
  ract_tensor tB = tb ? ract_tensor_make((float*)b, N, K) : ract_tensor_make((float*)b, K, N);
  ract_gemm(tc, ta ? RACT_TRANS : RACT_NOTRANS, tA, tb ? RACT_TRANS : RACT_NOTRANS, tB, 1.0f, beta);
}
void mm(double* c, bool ta, const double* a, bool tb, const double* b, int M, int N, int K,
        double beta) {
  gemm_loops(c, ta, a, tb, b, M, N, K, beta);
}

inline float sparse_val(ract_sparse x, int64_t e) { return x.val ? x.val[e] : 1.0f; }

// The float kernels below are compiled for AVX-512, AVX2 and baseline x86-64 and picked at
// load time (the library's default flags target baseline x86-64, where they would run 4
// wide). Results may differ in the last bit between those targets (FMA contraction), never
// between runs or thread counts on one machine.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define RACT_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define RACT_CLONES
#endif

// Parallel passes: the library's thread count (ract/core/parallel.h), only for work big
// enough to pay for waking the threads.
inline int par_threads(size_t work) { return ract_threads_for(work); }

// Chunks of n for the threads, multiples of 16 elements.
template <typename F>
void par_chunks(size_t n, F f) {
  const int nt = par_threads(n);
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
  for (int t = 0; t < nt; t++) {
    size_t a = n * t / nt / 16 * 16, e = t == nt - 1 ? n : n * (t + 1) / nt / 16 * 16;
    if (e > a) f(a, e - a);
  }
}

// Every row of out (B,O) set to b, or to 0 when b is NULL; rows split over the threads.
template <typename T>
void broadcast_rows(T* out, const T* b, int B, int O) {
  const int nt = par_threads((size_t)B * O);
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
  for (int r = 0; r < B; r++) {
    if (b) {
      memcpy(out + (size_t)r * O, b, sizeof(T) * O);
    } else {
      memset(out + (size_t)r * O, 0, sizeof(T) * O);
    }
  }
}

// y[0..n) += a * x[0..n): the inner loop of the sparse gather and its backward.
RACT_CLONES
void axpy(float* __restrict y, const float* __restrict x, float a, int n) {
  for (int j = 0; j < n; j++) y[j] += a * x[j];
}
void axpy(double* __restrict y, const double* __restrict x, double a, int n) {
  for (int j = 0; j < n; j++) y[j] += a * x[j];
}

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

RACT_CLONES
void vexp(float* out, const float* in, float shift, size_t n) {
  size_t i = 0;
  for (; i + 16 <= n; i += 16) store16(out + i, exp16(load16(in + i) - shift));
  if (i < n)
    store_tail(out + i, exp16(load_tail(in + i, (int)(n - i), 0.0f) - shift), (int)(n - i));
}

RACT_CLONES
void vtanh(float* out, const float* in, size_t n) {
  size_t i = 0;
  for (; i + 16 <= n; i += 16) store16(out + i, tanh16(load16(in + i)));
  if (i < n) store_tail(out + i, tanh16(load_tail(in + i, (int)(n - i), 0.0f)), (int)(n - i));
}

// out[i] = std sqrt(-2 ln u1) cos(2 pi u2[i]), Box-Muller on 16 lanes, with u1 = 1 - v[i]
// given twice: v[i] and u1[i] (both rounded from double). ln u1 comes from v where u1 is
// near 1 (there u1 has lost v's digits) and from u1 elsewhere (v has lost u1's when u1 is
// near 0).
RACT_CLONES
void box_muller(float* out, const float* v, const float* u1, const float* u2, int n, float std) {
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
float row_max(const float* __restrict l, int n) {
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
double exp_sum(float* e, const float* l, int n, float mx) {
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
void scale_row(float* __restrict d, float a, int n) {
  for (int i = 0; i < n; i++) d[i] *= a;
}

// d = a * exp(l - ls) (add: d += ...); d may be l.
RACT_CLONES
void exp_scaled(float* d, const float* l, float a, float ls, int n, int add) {
  int i = 0;
  for (; i + 16 <= n; i += 16) {
    vf16 v = a * exp16(load16(l + i) - ls);
    if (add) v += load16(d + i);
    store16(d + i, v);
  }
  for (; i < n; i++) d[i] = (add ? d[i] : 0.0f) + a * exp_core(l[i] - ls);
}

RACT_CLONES
void tanh_grad(float* __restrict dinp, const float* __restrict dout, const float* __restrict out,
               size_t n) {
  for (size_t i = 0; i < n; i++) dinp[i] += dout[i] * (1 - out[i] * out[i]);
}

// db (cols c0..c1) += sum over B rows of d (row stride O), rows in order.
RACT_CLONES
void col_sums(float* __restrict db, const float* __restrict d, int B, int O, int c0, int c1) {
  for (int r = 0; r < B; r++) {
    const float* __restrict dr = d + (size_t)r * O;
    for (int o = c0; o < c1; o++) db[o] += dr[o];
  }
}

// f(c0, width) over the column blocks of the sparse linear, split over the threads: widths a
// multiple of 16 floats, about 64 wide (a block of the item-major weight then stays in L2),
// as many blocks as a multiple of the thread count.
template <typename F>
void for_col_blocks(ract_sparse x, int O, F f) {
  const int nt = par_threads((size_t)(x.ptr[x.rows] - x.ptr[0]) * O);
  int n = (O + 63) / 64;
  if (nt > 1) n = (n + nt - 1) / nt * nt;
  const int w = ((O + n - 1) / n + 15) / 16 * 16;
  const int nb = (O + w - 1) / w;
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
  for (int k = 0; k < nb; k++) f(k * w, k * w + w <= O ? w : O - k * w);
}

// The weight rows of the sparse layer are random rows of an items x O matrix: the next
// rows are fetched kAhead entries early (the hardware cannot guess them), 20% faster here.
constexpr int kAhead = 32;
RACT_INLINE void prefetch_row(const float* p, int nv, int write) {
  for (int v = 0; v < nv; v++) {
    if (write) {
      __builtin_prefetch(p + 16 * v, 1);
    } else {
      __builtin_prefetch(p + 16 * v, 0);
    }
  }
}

// out[r, c0..c0+w) += sum_{e in row r} val_e * w[idx_e, c0..c0+w), every row of x, each
// element adding its terms in entry order. NV 16-float vectors of a row stay in registers
// across the row's entries (w = 16 NV), one load and one FMA per vector and entry.
template <int NV>
RACT_INLINE void gather_rows(float* out, ract_sparse x, const float* w, int O, int c0) {
  const int64_t last = x.ptr[x.rows] - kAhead;
  for (int r = 0; r < x.rows; r++) {
    float* o = out + (size_t)r * O + c0;
    vf16 acc[NV];
    for (int v = 0; v < NV; v++) acc[v] = load16(o + 16 * v);
    for (int64_t e = x.ptr[r]; e < x.ptr[r + 1]; e++) {
      if (e < last) prefetch_row(w + (size_t)x.idx[e + kAhead] * O + c0, NV, 0);
      const float* wr = w + (size_t)x.idx[e] * O + c0;
      const float a = sparse_val(x, e);
      for (int v = 0; v < NV; v++) acc[v] += a * load16(wr + 16 * v);
    }
    for (int v = 0; v < NV; v++) store16(o + 16 * v, acc[v]);
  }
}

RACT_CLONES
void gather_block(float* out, ract_sparse x, const float* w, int O, int c0, int width) {
  int done = 0;
  for (; width - done >= 64; done += 64) gather_rows<4>(out, x, w, O, c0 + done);
  for (; width - done >= 16; done += 16) gather_rows<1>(out, x, w, O, c0 + done);
  if (done == width) return;
  for (int r = 0; r < x.rows; r++) {
    float* o = out + (size_t)r * O + c0 + done;
    for (int64_t e = x.ptr[r]; e < x.ptr[r + 1]; e++) {
      axpy(o, w + (size_t)x.idx[e] * O + c0 + done, sparse_val(x, e), width - done);
    }
  }
}

// dw[idx_e, c0..c0+w) += val_e * dout[r, c0..c0+w) for every entry, in entry order; the
// row's NV vectors of dout stay in registers.
template <int NV>
RACT_INLINE void scatter_rows(float* dw, const float* dout, ract_sparse x, int O, int c0) {
  const int64_t last = x.ptr[x.rows] - kAhead;
  for (int r = 0; r < x.rows; r++) {
    const float* d = dout + (size_t)r * O + c0;
    vf16 dv[NV];
    for (int v = 0; v < NV; v++) dv[v] = load16(d + 16 * v);
    for (int64_t e = x.ptr[r]; e < x.ptr[r + 1]; e++) {
      if (e < last) prefetch_row(dw + (size_t)x.idx[e + kAhead] * O + c0, NV, 1);
      float* g = dw + (size_t)x.idx[e] * O + c0;
      const float a = sparse_val(x, e);
      for (int v = 0; v < NV; v++) store16(g + 16 * v, load16(g + 16 * v) + a * dv[v]);
    }
  }
}

RACT_CLONES
void scatter_block(float* dw, const float* dout, ract_sparse x, int O, int c0, int width) {
  int done = 0;
  for (; width - done >= 64; done += 64) scatter_rows<4>(dw, dout, x, O, c0 + done);
  for (; width - done >= 16; done += 16) scatter_rows<1>(dw, dout, x, O, c0 + done);
  if (done == width) return;
  for (int r = 0; r < x.rows; r++) {
    const float* d = dout + (size_t)r * O + c0 + done;
    for (int64_t e = x.ptr[r]; e < x.ptr[r + 1]; e++) {
      axpy(dw + (size_t)x.idx[e] * O + c0 + done, d, sparse_val(x, e), width - done);
    }
  }
}

}  // namespace

template <typename T>
void ract_zero(T* p, size_t n) {
  par_chunks(n, [&](size_t a, size_t m) { memset(p + a, 0, sizeof(T) * m); });
}

// ---------------------------------------------------------------- dense linear
template <typename T>
void ract_linear_forward(T* out, const T* inp, const T* w, const T* b, int B, int C, int O) {
  if (b == nullptr) {
    mm(out, false, inp, true, w, B, O, C, (T)0);  // BLIS neither reads out nor needs it zeroed
    return;
  }
  broadcast_rows(out, b, B, O);
  mm(out, false, inp, true, w, B, O, C, (T)1);
}

template <typename T>
void ract_linear_add_bias(T* out, const T* b, int B, int O) {
  const int nt = par_threads((size_t)B * O);
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
  for (int r = 0; r < B; r++) axpy(out + (size_t)r * O, b, (T)1, O);
}

template <typename T>
void ract_linear_backward(T* dinp, T* dw, T* db, const T* dout, const T* inp, const T* w, int B,
                          int C, int O) {
  if (dinp) mm(dinp, false, dout, false, w, B, C, O, (T)1);  // (B,O) @ (O,C)
  if (dw) mm(dw, true, dout, false, inp, O, C, B, (T)1);     // (O,B) @ (B,C)
  if (db) {
    if constexpr (std::is_same<T, float>::value) {
      // Column ranges per thread: every db[o] sums its rows in row order whatever the count.
      const int nt = par_threads((size_t)B * O);
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
      for (int t = 0; t < nt; t++) {
        int c0 = (int)((int64_t)O * t / nt) / 16 * 16,
            c1 = (int)((int64_t)O * (t + 1) / nt) / 16 * 16;
        if (t == nt - 1) c1 = O;
        col_sums(db, dout, B, O, c0, c1);
      }
    } else {
      for (int r = 0; r < B; r++) {
        const T* d = dout + (size_t)r * O;
        for (int o = 0; o < O; o++) db[o] += d[o];
      }
    }
  }
}

// ---------------------------------------------------------------- sparse linear
template <typename T>
void ract_sparse_linear_forward(T* out, ract_sparse x, const T* w, const T* b, int O) {
  if constexpr (std::is_same<T, float>::value) {
    // Column blocks over all rows (a block of w stays in cache); each output element adds
    // its terms in entry order, the same sums as a row at a time.
    broadcast_rows(out, b, x.rows, O);
    for_col_blocks(x, O, [&](int c0, int width) { gather_block(out, x, w, O, c0, width); });
    return;
  }
  for (int r = 0; r < x.rows; r++) {
    T* __restrict o = out + (size_t)r * O;
    if (b) {
      memcpy(o, b, sizeof(T) * O);
    } else {
      memset(o, 0, sizeof(T) * O);
    }
    for (int64_t e = x.ptr[r]; e < x.ptr[r + 1]; e++) {
      axpy(o, w + (size_t)x.idx[e] * O, (T)sparse_val(x, e), O);
    }
  }
}

template <typename T>
void ract_sparse_linear_backward(T* dw, T* db, const T* dout, ract_sparse x, int O) {
  if constexpr (std::is_same<T, float>::value) {
    if (db) ract_linear_backward<T>(nullptr, nullptr, db, dout, nullptr, nullptr, x.rows, 0, O);
    if (!dw) return;
    // Column blocks: every dw element adds its terms in entry order, any thread count.
    for_col_blocks(x, O, [&](int c0, int width) { scatter_block(dw, dout, x, O, c0, width); });
    return;
  }
  for (int r = 0; r < x.rows; r++) {
    const T* __restrict d = dout + (size_t)r * O;
    if (db) {
      for (int j = 0; j < O; j++) db[j] += d[j];
    }
    if (!dw) continue;
    for (int64_t e = x.ptr[r]; e < x.ptr[r + 1]; e++) {
      axpy(dw + (size_t)x.idx[e] * O, d, (T)sparse_val(x, e), O);
    }
  }
}

// ---------------------------------------------------------------- activations

template <typename T>
void ract_tanh_forward(T* out, const T* inp, size_t n) {
  if constexpr (std::is_same<T, float>::value) {
    par_chunks(n, [&](size_t a, size_t m) { vtanh(out + a, inp + a, m); });
  } else {
    for (size_t i = 0; i < n; i++) out[i] = tanh(inp[i]);
  }
}
template <typename T>
void ract_tanh_backward(T* dinp, const T* dout, const T* out, size_t n) {
  if constexpr (std::is_same<T, float>::value) {
    par_chunks(n, [&](size_t a, size_t m) { tanh_grad(dinp + a, dout + a, out + a, m); });
  } else {
    for (size_t i = 0; i < n; i++) dinp[i] += dout[i] * (1 - out[i] * out[i]);
  }
}

void ract_exp_forward(float* out, const float* inp, size_t n) {
  par_chunks(n, [&](size_t a, size_t m) { vexp(out + a, inp + a, 0.0f, m); });
}
template <typename T>
void ract_relu_forward(T* out, const T* inp, size_t n) {
  for (size_t i = 0; i < n; i++) out[i] = inp[i] > 0 ? inp[i] : (T)0;
}
template <typename T>
void ract_relu_backward(T* dinp, const T* dout, const T* out, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (out[i] > 0) dinp[i] += dout[i];
  }
}
template <typename T>
void ract_sigmoid_forward(T* out, const T* inp, size_t n) {
  for (size_t i = 0; i < n; i++) {
    T v = inp[i];
    if (v >= 0) {
      out[i] = 1 / (1 + exp(-v));
    } else {
      T e = exp(v);
      out[i] = e / (1 + e);
    }
  }
}
template <typename T>
void ract_sigmoid_backward(T* dinp, const T* dout, const T* out, size_t n) {
  for (size_t i = 0; i < n; i++) dinp[i] += dout[i] * out[i] * (1 - out[i]);
}

// ---------------------------------------------------------------- BatchNorm
template <typename T>
void ract_batchnorm_train_forward(T* out, T* mean, T* rstd, T* running_mean, T* running_var,
                                  const T* inp, const T* gamma, const T* beta, int B, int C, T eps,
                                  T momentum) {
  for (int c = 0; c < C; c++) {
    double m = 0;
    for (int r = 0; r < B; r++) m += inp[(size_t)r * C + c];
    m /= B;
    double v = 0;
    for (int r = 0; r < B; r++) {
      double d = inp[(size_t)r * C + c] - m;
      v += d * d;
    }
    double var_unbiased = B > 1 ? v / (B - 1) : 0.0;
    v /= B;
    const double rs = 1.0 / sqrt(v + (double)eps);
    mean[c] = (T)m;
    rstd[c] = (T)rs;
    const double g = gamma ? (double)gamma[c] : 1.0;
    const double bb = beta ? (double)beta[c] : 0.0;
    for (int r = 0; r < B; r++) {
      size_t i = (size_t)r * C + c;
      out[i] = (T)(g * (inp[i] - m) * rs + bb);
    }
    if (running_mean && running_var && B > 1) {
      running_mean[c] = (T)((1 - (double)momentum) * running_mean[c] + momentum * m);
      running_var[c] = (T)((1 - (double)momentum) * running_var[c] + momentum * var_unbiased);
    }
  }
}

template <typename T>
void ract_batchnorm_train_backward(T* dinp, T* dgamma, T* dbeta, const T* dout, const T* inp,
                                   const T* mean, const T* rstd, const T* gamma, int B, int C) {
  for (int c = 0; c < C; c++) {
    const double g = gamma ? (double)gamma[c] : 1.0;
    double sum_g = 0, sum_gx = 0, sum_d = 0, sum_dx = 0;
    for (int r = 0; r < B; r++) {
      size_t i = (size_t)r * C + c;
      double xh = (inp[i] - (double)mean[c]) * rstd[c];
      sum_d += dout[i];
      sum_dx += dout[i] * xh;
      sum_g += dout[i] * g;
      sum_gx += dout[i] * g * xh;
    }
    if (dgamma) dgamma[c] += (T)sum_dx;
    if (dbeta) dbeta[c] += (T)sum_d;
    if (!dinp) continue;
    const double mg = sum_g / B, mgx = sum_gx / B;
    for (int r = 0; r < B; r++) {
      size_t i = (size_t)r * C + c;
      double xh = (inp[i] - (double)mean[c]) * rstd[c];
      dinp[i] += (T)(rstd[c] * (dout[i] * g - mg - xh * mgx));
    }
  }
}

template <typename T>
void ract_batchnorm_eval_forward(T* out, const T* inp, const T* running_mean, const T* running_var,
                                 const T* gamma, const T* beta, int B, int C, T eps) {
  for (int c = 0; c < C; c++) {
    const double rs = 1.0 / sqrt((double)running_var[c] + (double)eps);
    const double g = gamma ? (double)gamma[c] : 1.0;
    const double bb = beta ? (double)beta[c] : 0.0;
    for (int r = 0; r < B; r++) {
      size_t i = (size_t)r * C + c;
      out[i] = (T)(g * (inp[i] - (double)running_mean[c]) * rs + bb);
    }
  }
}

template <typename T>
void ract_batchnorm_eval_backward(T* dinp, T* dgamma, T* dbeta, const T* dout, const T* inp,
                                  const T* running_mean, const T* running_var, const T* gamma,
                                  int B, int C, T eps) {
  for (int c = 0; c < C; c++) {
    const double rs = 1.0 / sqrt((double)running_var[c] + (double)eps);
    const double g = gamma ? (double)gamma[c] : 1.0;
    for (int r = 0; r < B; r++) {
      size_t i = (size_t)r * C + c;
      if (dinp) dinp[i] += (T)(dout[i] * g * rs);
      if (dgamma) dgamma[c] += (T)(dout[i] * (inp[i] - (double)running_mean[c]) * rs);
      if (dbeta) dbeta[c] += dout[i];
    }
  }
}

// ---------------------------------------------------------------- row L2 normalisation
template <typename T>
void ract_l2norm_forward(T* out, T* norm, const T* inp, int B, int C, T eps) {
  for (int r = 0; r < B; r++) {
    const T* x = inp + (size_t)r * C;
    double s = 0;
    for (int c = 0; c < C; c++) s += (double)x[c] * x[c];
    double nr = sqrt(s);
    norm[r] = (T)nr;
    double inv = 1.0 / (nr > eps ? nr : (double)eps);
    for (int c = 0; c < C; c++) out[(size_t)r * C + c] = (T)(x[c] * inv);
  }
}

template <typename T>
void ract_l2norm_backward(T* dinp, const T* dout, const T* out, const T* norm, int B, int C,
                          T eps) {
  for (int r = 0; r < B; r++) {
    const T* d = dout + (size_t)r * C;
    const T* y = out + (size_t)r * C;
    T* dx = dinp + (size_t)r * C;
    if (norm[r] > eps) {
      double dot = 0;
      for (int c = 0; c < C; c++) dot += (double)y[c] * d[c];
      for (int c = 0; c < C; c++) dx[c] += (T)((d[c] - y[c] * dot) / norm[r]);
    } else {
      for (int c = 0; c < C; c++) dx[c] += d[c] / eps;
    }
  }
}

// ---------------------------------------------------------------- dropout
float ract_dropout_scale(float p, int inverted) { return inverted ? 1.0f / (1.0f - p) : 1.0f; }

template <typename T>
void ract_dropout_forward(T* out, uint8_t* mask, const T* inp, size_t n, float p, T scale,
                          ract_rng* rng) {
  for (size_t i = 0; i < n; i++) {
    mask[i] = (uint8_t)ract_rng_bernoulli(rng, 1.0f - p);
    out[i] = mask[i] ? inp[i] * scale : (T)0;
  }
}

template <typename T>
void ract_dropout_backward(T* dinp, const T* dout, const uint8_t* mask, size_t n, T scale) {
  for (size_t i = 0; i < n; i++) {
    if (mask[i]) dinp[i] += dout[i] * scale;
  }
}

void ract_dropout_sparse_apply(int64_t* out_ptr, int32_t* out_idx, float* out_val,
                               const uint8_t* keep, ract_sparse x, float scale,
                               const float* row_mul) {
  const int64_t base = x.ptr[0];
  const int nt = par_threads((size_t)(x.ptr[x.rows] - base));
  // The kept entries per row, their offsets (a prefix over the rows), then the copy.
  out_ptr[0] = 0;
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
  for (int r = 0; r < x.rows; r++) {
    int64_t n = 0;
    for (int64_t e = x.ptr[r]; e < x.ptr[r + 1]; e++) n += keep[e - base] != 0;
    out_ptr[r + 1] = n;
  }
  for (int r = 0; r < x.rows; r++) out_ptr[r + 1] += out_ptr[r];
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
  for (int r = 0; r < x.rows; r++) {
    int64_t j = out_ptr[r];
    const float mul = row_mul ? row_mul[r] : 1.0f;
    for (int64_t e = x.ptr[r]; e < x.ptr[r + 1]; e++) {
      if (!keep[e - base]) continue;
      out_idx[j] = x.idx[e];
      out_val[j] = sparse_val(x, e) * scale * mul;  // (val * scale) * mul; * 1 is exact
      j++;
    }
  }
}

void ract_dropout_sparse_forward(int64_t* out_ptr, int32_t* out_idx, float* out_val, uint8_t* keep,
                                 ract_sparse x, float p, float scale, const float* row_mul,
                                 ract_rng* rng) {
  const int64_t base = x.ptr[0];
  for (int64_t e = base; e < x.ptr[x.rows]; e++) {
    keep[e - base] = (uint8_t)ract_rng_bernoulli(rng, 1.0f - p);
  }
  ract_dropout_sparse_apply(out_ptr, out_idx, out_val, keep, x, scale, row_mul);
}

template <typename T>
void ract_dropout_sparse_backward(T* dval, const T* dout_val, const uint8_t* keep, ract_sparse x,
                                  T scale) {
  const int64_t base = x.ptr[0];
  int64_t j = 0;
  for (int64_t e = base; e < x.ptr[x.rows]; e++) {
    if (!keep[e - base]) continue;
    dval[e - base] += dout_val[j++] * scale;
  }
}

// ---------------------------------------------------------------- softmax cross-entropy
namespace {

// Sum of x's values in row b and sum_e val_e * l[idx_e].
template <typename T>
void row_target(ract_sparse x, int b, const T* l, double* n, double* dot) {
  double sn = 0, sd = 0;
  for (int64_t e = x.ptr[b]; e < x.ptr[b + 1]; e++) {
    const double v = sparse_val(x, e);
    sn += v;
    sd += v * (double)l[x.idx[e]];
  }
  *n = sn;
  *dot = sd;
}

}  // namespace

template <typename T>
void ract_softmax_ce_forward(T* loss, T* lse, const T* logits, ract_sparse x) {
  const int I = x.cols;
  if constexpr (std::is_same<T, float>::value) {
    const int nt = par_threads((size_t)x.rows * I);
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
    for (int b = 0; b < x.rows; b++) {
      const float* l = logits + (size_t)b * I;
      const float mx = row_max(l, I);
      const double ls = (double)mx + log(exp_sum(nullptr, l, I, mx));
      lse[b] = (float)ls;
      double n, dot;
      row_target(x, b, l, &n, &dot);
      loss[b] = (float)(n * ls - dot);
    }
    return;
  }
  for (int b = 0; b < x.rows; b++) {
    const T* l = logits + (size_t)b * I;
    T mx = l[0];
    for (int i = 1; i < I; i++) mx = l[i] > mx ? l[i] : mx;
    double s = 0;
    for (int i = 0; i < I; i++) s += (double)exp(l[i] - mx);
    const double ls = (double)mx + log(s);
    lse[b] = (T)ls;
    double n, dot;
    row_target(x, b, l, &n, &dot);
    loss[b] = (T)(n * ls - dot);
  }
}

template <typename T>
void ract_softmax_ce_backward(T* dlogits, const T* dloss, const T* logits, const T* lse,
                              ract_sparse x) {
  const int I = x.cols;
  const bool in_place = (const T*)dlogits == logits;
  const int nt = std::is_same<T, float>::value ? par_threads((size_t)x.rows * I) : 1;
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
  for (int b = 0; b < x.rows; b++) {
    const T* l = logits + (size_t)b * I;
    T* d = dlogits + (size_t)b * I;
    double n = 0;
    for (int64_t e = x.ptr[b]; e < x.ptr[b + 1]; e++) n += sparse_val(x, e);
    const T w = dloss[b];
    const T wn = (T)(w * n);
    const T ls = lse[b];
    if constexpr (std::is_same<T, float>::value) {
      exp_scaled(d, l, wn, ls, I, !in_place);
    } else {
      if (in_place) {
        for (int i = 0; i < I; i++) d[i] = wn * exp(l[i] - ls);
      } else {
        for (int i = 0; i < I; i++) d[i] += wn * exp(l[i] - ls);
      }
    }
    for (int64_t e = x.ptr[b]; e < x.ptr[b + 1]; e++) d[x.idx[e]] -= w * (T)sparse_val(x, e);
  }
}

template <typename T>
void ract_softmax_ce_fused(T* loss, T* lse, T* logits, const T* dloss, ract_sparse x,
                           const T* bias) {
  if constexpr (!std::is_same<T, float>::value) {
    for (int b = 0; bias && b < x.rows; b++) {
      for (int i = 0; i < x.cols; i++) logits[(size_t)b * x.cols + i] += bias[i];
    }
    ract_softmax_ce_forward<T>(loss, lse, logits, x);
    ract_softmax_ce_backward<T>(logits, dloss, logits, lse, x);
  } else {
    const int I = x.cols;
    const int nt = par_threads((size_t)x.rows * I);
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
    for (int b = 0; b < x.rows; b++) {
      float* l = logits + (size_t)b * I;
      if (bias) axpy(l, bias, 1.0f, I);  // l + 1 * bias: exactly l + bias
      double n, dot;
      row_target(x, b, l, &n, &dot);
      const float mx = row_max(l, I);
      const double s = exp_sum(l, l, I, mx);  // l now holds exp(l - mx)
      const double ls = (double)mx + log(s);
      lse[b] = (float)ls;
      loss[b] = (float)(n * ls - dot);
      const float w = dloss[b];
      scale_row(l, (float)(w * n / s), I);
      for (int64_t e = x.ptr[b]; e < x.ptr[b + 1]; e++) l[x.idx[e]] -= w * sparse_val(x, e);
    }
  }
}

// ---------------------------------------------------------------- KL, reparameterisation
template <typename T>
void ract_kl_forward(T* kl, const T* mu, const T* logvar, int B, int L, int ld) {
  for (int b = 0; b < B; b++) {
    const T* m = mu + (size_t)b * ld;
    const T* lv = logvar + (size_t)b * ld;
    double s = 0;
    for (int j = 0; j < L; j++) s += 1.0 + lv[j] - (double)m[j] * m[j] - exp((double)lv[j]);
    kl[b] = (T)(-0.5 * s);
  }
}

template <typename T>
void ract_kl_backward(T* dmu, T* dlogvar, const T* dkl, const T* mu, const T* logvar, int B, int L,
                      int ld) {
  for (int b = 0; b < B; b++) {
    const T* m = mu + (size_t)b * ld;
    const T* lv = logvar + (size_t)b * ld;
    for (int j = 0; j < L; j++) {
      if (dmu) dmu[(size_t)b * ld + j] += dkl[b] * m[j];
      if (dlogvar) dlogvar[(size_t)b * ld + j] += dkl[b] * (T)0.5 * (exp(lv[j]) - 1);
    }
  }
}

template <typename T>
void ract_reparam_forward(T* z, const T* mu, const T* logvar, const T* eps, int B, int L, int ld) {
  for (int b = 0; b < B; b++) {
    for (int j = 0; j < L; j++) {
      size_t i = (size_t)b * ld + j;
      z[(size_t)b * L + j] = mu[i] + eps[(size_t)b * L + j] * exp((T)0.5 * logvar[i]);
    }
  }
}

template <typename T>
void ract_reparam_backward(T* dmu, T* dlogvar, const T* dz, const T* logvar, const T* eps, int B,
                           int L, int ld) {
  for (int b = 0; b < B; b++) {
    for (int j = 0; j < L; j++) {
      size_t i = (size_t)b * ld + j, k = (size_t)b * L + j;
      if (dmu) dmu[i] += dz[k];
      if (dlogvar) dlogvar[i] += dz[k] * eps[k] * (T)0.5 * exp((T)0.5 * logvar[i]);
    }
  }
}

template <typename T>
void ract_normal_fill(T* eps, size_t n, float std, ract_rng* rng) {
  if constexpr (!std::is_same<T, float>::value) {
    for (size_t i = 0; i < n; i++) eps[i] = (T)(ract_rng_normal(rng) * std);
  } else {
    // The uniforms of ract_rng_normal in stream order, the transform in float on 16 lanes.
    enum { kChunk = 1024 };
    float v[kChunk], u1[kChunk], u2[kChunk];
    for (size_t c0 = 0; c0 < n; c0 += kChunk) {
      const int m = (int)std::min<size_t>(kChunk, n - c0);
      for (int i = 0; i < m; i++) {
        const double d = ract_rng_uniform_double(rng);
        v[i] = (float)d;
        u1[i] = (float)(1.0 - d);  // (0, 1]: >= 2^-53, a normal float
        u2[i] = (float)ract_rng_uniform_double(rng);
      }
      box_muller(eps + c0, v, u1, u2, m, std);
    }
  }
}

// ---------------------------------------------------------------- MSE
template <typename T>
T ract_mse_forward(const T* pred, const T* target, int n) {
  double s = 0;
  for (int i = 0; i < n; i++) {
    double d = (double)pred[i] - target[i];
    s += d * d;
  }
  return n > 0 ? (T)(s / n) : (T)0;
}

template <typename T>
void ract_mse_backward(T* dpred, T dloss, const T* pred, const T* target, int n) {
  for (int i = 0; i < n; i++) dpred[i] += dloss * 2 * (pred[i] - target[i]) / n;
}

// ---------------------------------------------------------------- instantiations
#define RACT_OPS_INSTANTIATE(T)                                                                   \
  template void ract_linear_forward<T>(T*, const T*, const T*, const T*, int, int, int);          \
  template void ract_linear_backward<T>(T*, T*, T*, const T*, const T*, const T*, int, int, int); \
  template void ract_sparse_linear_forward<T>(T*, ract_sparse, const T*, const T*, int);          \
  template void ract_sparse_linear_backward<T>(T*, T*, const T*, ract_sparse, int);               \
  template void ract_tanh_forward<T>(T*, const T*, size_t);                                       \
  template void ract_tanh_backward<T>(T*, const T*, const T*, size_t);                            \
  template void ract_relu_forward<T>(T*, const T*, size_t);                                       \
  template void ract_relu_backward<T>(T*, const T*, const T*, size_t);                            \
  template void ract_sigmoid_forward<T>(T*, const T*, size_t);                                    \
  template void ract_sigmoid_backward<T>(T*, const T*, const T*, size_t);                         \
  template void ract_batchnorm_train_forward<T>(T*, T*, T*, T*, T*, const T*, const T*, const T*, \
                                                int, int, T, T);                                  \
  template void ract_batchnorm_train_backward<T>(T*, T*, T*, const T*, const T*, const T*,        \
                                                 const T*, const T*, int, int);                   \
  template void ract_batchnorm_eval_forward<T>(T*, const T*, const T*, const T*, const T*,        \
                                               const T*, int, int, T);                            \
  template void ract_batchnorm_eval_backward<T>(T*, T*, T*, const T*, const T*, const T*,         \
                                                const T*, const T*, int, int, T);                 \
  template void ract_l2norm_forward<T>(T*, T*, const T*, int, int, T);                            \
  template void ract_l2norm_backward<T>(T*, const T*, const T*, const T*, int, int, T);           \
  template void ract_dropout_forward<T>(T*, uint8_t*, const T*, size_t, float, T, ract_rng*);     \
  template void ract_dropout_backward<T>(T*, const T*, const uint8_t*, size_t, T);                \
  template void ract_dropout_sparse_backward<T>(T*, const T*, const uint8_t*, ract_sparse, T);    \
  template void ract_softmax_ce_forward<T>(T*, T*, const T*, ract_sparse);                        \
  template void ract_softmax_ce_backward<T>(T*, const T*, const T*, const T*, ract_sparse);       \
  template void ract_linear_add_bias<T>(T*, const T*, int, int);                                  \
  template void ract_softmax_ce_fused<T>(T*, T*, T*, const T*, ract_sparse, const T*);            \
  template void ract_kl_forward<T>(T*, const T*, const T*, int, int, int);                        \
  template void ract_kl_backward<T>(T*, T*, const T*, const T*, const T*, int, int, int);         \
  template void ract_reparam_forward<T>(T*, const T*, const T*, const T*, int, int, int);         \
  template void ract_reparam_backward<T>(T*, T*, const T*, const T*, const T*, int, int, int);    \
  template void ract_zero<T>(T*, size_t);                                                         \
  template void ract_normal_fill<T>(T*, size_t, float, ract_rng*);                                \
  template T ract_mse_forward<T>(const T*, const T*, int);                                        \
  template void ract_mse_backward<T>(T*, T, const T*, const T*, int);

RACT_OPS_INSTANTIATE(float)
RACT_OPS_INSTANTIATE(double)
