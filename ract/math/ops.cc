// Ops with hand-written gradients (see ops.h). Inner loops are templates over the scalar
// type; the float dense linear goes through ract_gemm, everything else is plain loops.
#include "ract/math/ops.h"

#include <math.h>
#include <string.h>

#include <type_traits>

#include "ract/core/parallel.h"
#include "ract/math/gemm.h"
#include "ract/math/sparse.h"
#include "ract/math/vec.h"

namespace {

// C (M,N) = beta*C + op(A) op(B): float through BLIS, double by plain loops.
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
  ract_gemm_f64(c, ta, a, tb, b, M, N, K, beta);
}

inline float sparse_val(ract_sparse x, int64_t e) { return x.val ? x.val[e] : 1.0f; }

// Parallel passes: the library's thread count (ract/core/parallel.h), only for work big
// enough to pay for waking the threads.
inline int par_threads(size_t work) { return ract_parallel_threads_for(work); }

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

}  // namespace

template <typename T>
void ract_ops_zero(T* p, size_t n) {
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
  for (int r = 0; r < B; r++) ract_vec_axpy(out + (size_t)r * O, b, (T)1, O);
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
        ract_vec_col_sums(db, dout, B, O, c0, c1);
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
    ract_sparse_gather(out, x, w, O);
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
      ract_vec_axpy(o, w + (size_t)x.idx[e] * O, (T)sparse_val(x, e), O);
    }
  }
}

template <typename T>
void ract_sparse_linear_backward(T* dw, T* db, const T* dout, ract_sparse x, int O) {
  if constexpr (std::is_same<T, float>::value) {
    if (db) ract_linear_backward<T>(nullptr, nullptr, db, dout, nullptr, nullptr, x.rows, 0, O);
    if (!dw) return;
    // Column blocks: every dw element adds its terms in entry order, any thread count.
    ract_sparse_scatter(dw, dout, x, O);
    return;
  }
  for (int r = 0; r < x.rows; r++) {
    const T* __restrict d = dout + (size_t)r * O;
    if (db) {
      for (int j = 0; j < O; j++) db[j] += d[j];
    }
    if (!dw) continue;
    for (int64_t e = x.ptr[r]; e < x.ptr[r + 1]; e++) {
      ract_vec_axpy(dw + (size_t)x.idx[e] * O, d, (T)sparse_val(x, e), O);
    }
  }
}

// ---------------------------------------------------------------- activations

template <typename T>
void ract_tanh_forward(T* out, const T* inp, size_t n) {
  if constexpr (std::is_same<T, float>::value) {
    par_chunks(n, [&](size_t a, size_t m) { ract_vec_tanh(out + a, inp + a, m); });
  } else {
    for (size_t i = 0; i < n; i++) out[i] = tanh(inp[i]);
  }
}
template <typename T>
void ract_tanh_backward(T* dinp, const T* dout, const T* out, size_t n) {
  if constexpr (std::is_same<T, float>::value) {
    par_chunks(n, [&](size_t a, size_t m) { ract_vec_tanh_grad(dinp + a, dout + a, out + a, m); });
  } else {
    for (size_t i = 0; i < n; i++) dinp[i] += dout[i] * (1 - out[i] * out[i]);
  }
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
namespace {

// v[0..n) summed over the replicas (nothing to do for one process).
ract_status replica_sum(ract_comm* comm, double* v, int n, ract_error* err) {
  if (comm == nullptr || comm->size <= 1) return RACT_OK;
  return ract_comm_allreduce_sum_f64(comm, v, (size_t)n, err);
}

}  // namespace

template <typename T>
ract_status ract_batchnorm_train_forward(T* out, T* mean, T* rstd, T* running_mean, T* running_var,
                                         const T* inp, const T* gamma, const T* beta, int B, int C,
                                         T eps, T momentum, ract_comm* comm, ract_error* err) {
  enum { kMaxC = 256 };
  if (C > kMaxC) return ract_fail(err, RACT_ERR_ARG, "batchnorm: %d channels (at most 256)", C);
  // Pass 1: the sums and the row count; pass 2: the squared deviations from the mean.
  double s[kMaxC + 1], m[kMaxC], v[kMaxC];
  for (int c = 0; c < C; c++) {
    s[c] = 0;
    for (int r = 0; r < B; r++) s[c] += inp[(size_t)r * C + c];
  }
  s[C] = B;
  RACT_CHECK(replica_sum(comm, s, C + 1, err));
  const double n = s[C];
  for (int c = 0; c < C; c++) {
    m[c] = n > 0 ? s[c] / n : 0.0;
    v[c] = 0;
    for (int r = 0; r < B; r++) {
      const double d = inp[(size_t)r * C + c] - m[c];
      v[c] += d * d;
    }
  }
  RACT_CHECK(replica_sum(comm, v, C, err));
  for (int c = 0; c < C; c++) {
    const double var = n > 0 ? v[c] / n : 0.0;
    const double var_unbiased = n > 1 ? v[c] / (n - 1) : 0.0;
    const double rs = 1.0 / sqrt(var + (double)eps);
    mean[c] = (T)m[c];
    rstd[c] = (T)rs;
    const double g = gamma ? (double)gamma[c] : 1.0;
    const double bb = beta ? (double)beta[c] : 0.0;
    for (int r = 0; r < B; r++) {
      size_t i = (size_t)r * C + c;
      out[i] = (T)(g * (inp[i] - m[c]) * rs + bb);
    }
    if (running_mean && running_var && n > 1) {
      running_mean[c] = (T)((1 - (double)momentum) * running_mean[c] + momentum * m[c]);
      running_var[c] = (T)((1 - (double)momentum) * running_var[c] + momentum * var_unbiased);
    }
  }
  return RACT_OK;
}

template <typename T>
ract_status ract_batchnorm_train_backward(T* dinp, T* dgamma, T* dbeta, const T* dout, const T* inp,
                                          const T* mean, const T* rstd, const T* gamma, int B,
                                          int C, ract_comm* comm, ract_error* err) {
  enum { kMaxC = 256 };
  if (C > kMaxC) return ract_fail(err, RACT_ERR_ARG, "batchnorm: %d channels (at most 256)", C);
  // This replica's sums of dout, dout*xh (the affine gradients), then of g and g*xh and the
  // row count over every replica (the gradient through the batch statistics).
  double red[2 * kMaxC + 1];
  for (int c = 0; c < C; c++) {
    const double g = gamma ? (double)gamma[c] : 1.0;
    double sum_d = 0, sum_dx = 0, sum_g = 0, sum_gx = 0;
    for (int r = 0; r < B; r++) {
      size_t i = (size_t)r * C + c;
      double xh = (inp[i] - (double)mean[c]) * rstd[c];
      sum_d += dout[i];
      sum_dx += dout[i] * xh;
      sum_g += dout[i] * g;
      sum_gx += dout[i] * g * xh;
    }
    red[c] = sum_g;
    red[C + c] = sum_gx;
    if (dgamma) dgamma[c] += (T)sum_dx;
    if (dbeta) dbeta[c] += (T)sum_d;
  }
  red[2 * C] = B;
  if (!dinp) return RACT_OK;
  RACT_CHECK(replica_sum(comm, red, 2 * C + 1, err));
  const double n = red[2 * C];
  for (int c = 0; c < C; c++) {
    const double g = gamma ? (double)gamma[c] : 1.0;
    const double mg = red[c] / n, mgx = red[C + c] / n;
    for (int r = 0; r < B; r++) {
      size_t i = (size_t)r * C + c;
      double xh = (inp[i] - (double)mean[c]) * rstd[c];
      dinp[i] += (T)(rstd[c] * (dout[i] * g - mg - xh * mgx));
    }
  }
  return RACT_OK;
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

// ---------------------------------------------------------------- dropout
float ract_dropout_scale(float p, int inverted) { return inverted ? 1.0f / (1.0f - p) : 1.0f; }

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
  const int nt = par_threads((size_t)(x.ptr[x.rows] - base));
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
  for (int r = 0; r < x.rows; r++) {
    for (int64_t e = x.ptr[r]; e < x.ptr[r + 1]; e++) {
      keep[e - base] = (uint8_t)ract_rng_bernoulli(&rng[r], 1.0f - p);
    }
  }
  ract_dropout_sparse_apply(out_ptr, out_idx, out_val, keep, x, scale, row_mul);
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
      const float mx = ract_vec_max(l, I);
      const double ls = (double)mx + log(ract_vec_exp_sum(nullptr, l, I, mx));
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
      ract_vec_exp_scaled(d, l, wn, ls, I, !in_place);
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
      if (bias) ract_vec_axpy(l, bias, 1.0f, I);  // l + 1 * bias: exactly l + bias
      double n, dot;
      row_target(x, b, l, &n, &dot);
      const float mx = ract_vec_max(l, I);
      const double s = ract_vec_exp_sum(l, l, I, mx);  // l now holds exp(l - mx)
      const double ls = (double)mx + log(s);
      lse[b] = (float)ls;
      loss[b] = (float)(n * ls - dot);
      const float w = dloss[b];
      ract_vec_scale(l, (float)(w * n / s), I);
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
      ract_vec_box_muller(eps + c0, v, u1, u2, m, std);
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
  template ract_status ract_batchnorm_train_forward<T>(                                           \
      T*, T*, T*, T*, T*, const T*, const T*, const T*, int, int, T, T, ract_comm*, ract_error*); \
  template ract_status ract_batchnorm_train_backward<T>(T*, T*, T*, const T*, const T*, const T*, \
                                                        const T*, const T*, int, int, ract_comm*, \
                                                        ract_error*);                             \
  template void ract_batchnorm_eval_forward<T>(T*, const T*, const T*, const T*, const T*,        \
                                               const T*, int, int, T);                            \
  template void ract_batchnorm_eval_backward<T>(T*, T*, T*, const T*, const T*, const T*,         \
                                                const T*, const T*, int, int, T);                 \
  template void ract_softmax_ce_forward<T>(T*, T*, const T*, ract_sparse);                        \
  template void ract_softmax_ce_backward<T>(T*, const T*, const T*, const T*, ract_sparse);       \
  template void ract_linear_add_bias<T>(T*, const T*, int, int);                                  \
  template void ract_softmax_ce_fused<T>(T*, T*, T*, const T*, ract_sparse, const T*);            \
  template void ract_kl_forward<T>(T*, const T*, const T*, int, int, int);                        \
  template void ract_kl_backward<T>(T*, T*, const T*, const T*, const T*, int, int, int);         \
  template void ract_reparam_forward<T>(T*, const T*, const T*, const T*, int, int, int);         \
  template void ract_reparam_backward<T>(T*, T*, const T*, const T*, const T*, int, int, int);    \
  template void ract_ops_zero<T>(T*, size_t);                                                     \
  template void ract_normal_fill<T>(T*, size_t, float, ract_rng*);                                \
  template T ract_mse_forward<T>(const T*, const T*, int);                                        \
  template void ract_mse_backward<T>(T*, T, const T*, const T*, int);

RACT_OPS_INSTANTIATE(float)
RACT_OPS_INSTANTIATE(double)
