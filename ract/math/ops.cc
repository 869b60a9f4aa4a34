// Ops with hand-written gradients (see ops.h). Inner loops are templates over the scalar
// type; the float dense linear goes through ract_gemm, everything else is plain loops.
#include "ract/math/ops.h"

#include <math.h>
#include <string.h>

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
      c[(size_t)i * N + j] = (T)(beta * c[(size_t)i * N + j] + s);
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

// y[0..n) += a * x[0..n): the inner loop of the sparse gather and its backward. The float
// version is compiled for AVX-512, AVX2 and baseline x86-64 and picked at load time (the
// library's default flags target baseline x86-64, where this loop would run 4 wide).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#endif
void axpy(float* __restrict y, const float* __restrict x, float a, int n) {
  for (int j = 0; j < n; j++) y[j] += a * x[j];
}
void axpy(double* __restrict y, const double* __restrict x, double a, int n) {
  for (int j = 0; j < n; j++) y[j] += a * x[j];
}

}  // namespace

// ---------------------------------------------------------------- dense linear
template <typename T>
void ract_linear_forward(T* out, const T* inp, const T* w, const T* b, int B, int C, int O) {
  for (int r = 0; r < B; r++) {
    T* o = out + (size_t)r * O;
    if (b) {
      memcpy(o, b, sizeof(T) * O);
    } else {
      memset(o, 0, sizeof(T) * O);
    }
  }
  mm(out, false, inp, true, w, B, O, C, (T)1);
}

template <typename T>
void ract_linear_backward(T* dinp, T* dw, T* db, const T* dout, const T* inp, const T* w, int B,
                          int C, int O) {
  if (dinp) mm(dinp, false, dout, false, w, B, C, O, (T)1);  // (B,O) @ (O,C)
  if (dw) mm(dw, true, dout, false, inp, O, C, B, (T)1);     // (O,B) @ (B,C)
  if (db) {
    for (int r = 0; r < B; r++) {
      const T* d = dout + (size_t)r * O;
      for (int o = 0; o < O; o++) db[o] += d[o];
    }
  }
}

// ---------------------------------------------------------------- sparse linear
template <typename T>
void ract_sparse_linear_forward(T* out, ract_sparse x, const T* w, const T* b, int O) {
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
  for (size_t i = 0; i < n; i++) out[i] = tanh(inp[i]);
}
template <typename T>
void ract_tanh_backward(T* dinp, const T* dout, const T* out, size_t n) {
  for (size_t i = 0; i < n; i++) dinp[i] += dout[i] * (1 - out[i] * out[i]);
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
                               const uint8_t* keep, ract_sparse x, float scale) {
  const int64_t base = x.ptr[0];
  int64_t j = 0;
  out_ptr[0] = 0;
  for (int r = 0; r < x.rows; r++) {
    for (int64_t e = x.ptr[r]; e < x.ptr[r + 1]; e++) {
      if (!keep[e - base]) continue;
      out_idx[j] = x.idx[e];
      out_val[j] = sparse_val(x, e) * scale;
      j++;
    }
    out_ptr[r + 1] = j;
  }
}

void ract_dropout_sparse_forward(int64_t* out_ptr, int32_t* out_idx, float* out_val, uint8_t* keep,
                                 ract_sparse x, float p, float scale, ract_rng* rng) {
  const int64_t base = x.ptr[0];
  for (int64_t e = base; e < x.ptr[x.rows]; e++) {
    keep[e - base] = (uint8_t)ract_rng_bernoulli(rng, 1.0f - p);
  }
  ract_dropout_sparse_apply(out_ptr, out_idx, out_val, keep, x, scale);
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
template <typename T>
void ract_softmax_ce_forward(T* loss, T* lse, const T* logits, ract_sparse x) {
  const int I = x.cols;
  for (int b = 0; b < x.rows; b++) {
    const T* l = logits + (size_t)b * I;
    T mx = l[0];
    for (int i = 1; i < I; i++) mx = l[i] > mx ? l[i] : mx;
    double s = 0;
    for (int i = 0; i < I; i++) s += (double)exp(l[i] - mx);  // expf for float, sum in double
    const double ls = (double)mx + log(s);
    lse[b] = (T)ls;
    double ce = 0;
    for (int64_t e = x.ptr[b]; e < x.ptr[b + 1]; e++) {
      ce -= (double)sparse_val(x, e) * ((double)l[x.idx[e]] - ls);
    }
    loss[b] = (T)ce;
  }
}

template <typename T>
void ract_softmax_ce_backward(T* dlogits, const T* dloss, const T* logits, const T* lse,
                              ract_sparse x) {
  const int I = x.cols;
  const bool in_place = (const T*)dlogits == logits;
  for (int b = 0; b < x.rows; b++) {
    const T* l = logits + (size_t)b * I;
    T* d = dlogits + (size_t)b * I;
    double n = 0;
    for (int64_t e = x.ptr[b]; e < x.ptr[b + 1]; e++) n += sparse_val(x, e);
    const T w = dloss[b];
    const T wn = (T)(w * n);
    const T ls = lse[b];
    if (in_place) {
      for (int i = 0; i < I; i++) d[i] = wn * exp(l[i] - ls);
    } else {
      for (int i = 0; i < I; i++) d[i] += wn * exp(l[i] - ls);
    }
    for (int64_t e = x.ptr[b]; e < x.ptr[b + 1]; e++) d[x.idx[e]] -= w * (T)sparse_val(x, e);
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

void ract_normal_fill(float* eps, size_t n, float std, ract_rng* rng) {
  for (size_t i = 0; i < n; i++) eps[i] = (float)(ract_rng_normal(rng) * std);
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
  template void ract_kl_forward<T>(T*, const T*, const T*, int, int, int);                        \
  template void ract_kl_backward<T>(T*, T*, const T*, const T*, const T*, int, int, int);         \
  template void ract_reparam_forward<T>(T*, const T*, const T*, const T*, int, int, int);         \
  template void ract_reparam_backward<T>(T*, T*, const T*, const T*, const T*, int, int, int);    \
  template T ract_mse_forward<T>(const T*, const T*, int);                                        \
  template void ract_mse_backward<T>(T*, T, const T*, const T*, int);

RACT_OPS_INSTANTIATE(float)
RACT_OPS_INSTANTIATE(double)
