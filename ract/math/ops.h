// Neural-net ops with hand-written gradients, llm.c style: every op is a pair of free
// functions X_forward / X_backward, arguments outputs, inputs, dimensions, shapes in the
// comment. Backward ADDS into every gradient it writes (one memset per step clears them),
// except where a comment says it writes (the in-place cross-entropy backward).
//
// Each op exists for T = float (the library) and T = double (the finite-difference tests);
// the float dense linear runs on ract_gemm (BLIS), the double one on plain loops.
// All buffers are dense row-major with the row length as stride unless a `ld` is given.
// Pointers named d* may be NULL when that gradient is not wanted.
#ifndef RACT_MATH_OPS_H_
#define RACT_MATH_OPS_H_

#include <stddef.h>
#include <stdint.h>

#include "ract/core/rng.h"
#include "ract/core/status.h"
#include "ract/core/tensor.h"
#include "ract/dist/comm.h"

// ---- p[0..n) = 0, on the library's threads (the gradient buffers before a backward)
template <typename T>
void ract_ops_zero(T* p, size_t n);

// ---- dense linear: out = inp @ w^T + b
// out (B,O), inp (B,C), w (O,C), b (O) or NULL
template <typename T>
void ract_linear_forward(T* out, const T* inp, const T* w, const T* b, int B, int C, int O);
// With b NULL out is written by the product alone; ract_linear_add_bias adds b later (a
// reader that sweeps the rows anyway adds it itself): out (B,O) += b per row.
template <typename T>
void ract_linear_add_bias(T* out, const T* b, int B, int O);
// dinp (B,C) += dout @ w;  dw (O,C) += dout^T @ inp;  db (O) += sum_b dout
template <typename T>
void ract_linear_backward(T* dinp, T* dw, T* db, const T* dout, const T* inp, const T* w, int B,
                          int C, int O);

// ---- sparse linear (first encoder layer): out = x @ w + b with x a CSR batch
// out (B,O), x (B,I) sparse (values x.val or 1), w (I,O) ITEM-MAJOR, b (O) or NULL; B = x.rows
// out[r] = b + sum_{e in row r} val_e * w[idx_e]
template <typename T>
void ract_sparse_linear_forward(T* out, ract_sparse x, const T* w, const T* b, int O);
// dw[idx_e] += val_e * dout[r] for the stored entries only; db += sum_r dout[r]
template <typename T>
void ract_sparse_linear_backward(T* dw, T* db, const T* dout, ract_sparse x, int O);

// ---- elementwise activations over n values; backward uses the forward's output
template <typename T>
void ract_tanh_forward(T* out, const T* inp, size_t n);
template <typename T>
void ract_tanh_backward(T* dinp, const T* dout, const T* out, size_t n);  // += dout*(1-out^2)
template <typename T>
void ract_relu_forward(T* out, const T* inp, size_t n);
template <typename T>
void ract_relu_backward(T* dinp, const T* dout, const T* out, size_t n);  // += dout*[out>0]
template <typename T>
void ract_sigmoid_forward(T* out, const T* inp, size_t n);
template <typename T>
void ract_sigmoid_backward(T* dinp, const T* dout, const T* out, size_t n);  // += dout*o*(1-o)

// ---- BatchNorm over the batch dimension (PyTorch BatchNorm1d)
// Train: mean_c, var_c (biased) over the rows of the batch; out = gamma*(inp-mean)*rstd +
// beta with rstd = 1/sqrt(var+eps); saves mean (C) and rstd (C) for backward. When
// running_mean/var are not NULL and the batch has more than one row: running =
// (1-momentum)*running + momentum*batch, with the UNBIASED var.
// out (B,C), inp (B,C), gamma/beta (C) or NULL (no affine); C <= 256.
// With comm (NULL: one process) the batch is the union of every replica's B rows: the sums
// of the statistics (two passes: the mean, then the squared deviations) and of the backward
// go through comm, so every replica normalises with the whole batch's statistics; a replica
// may hold 0 rows. Returns comm's status.
template <typename T>
ract_status ract_batchnorm_train_forward(T* out, T* mean, T* rstd, T* running_mean, T* running_var,
                                         const T* inp, const T* gamma, const T* beta, int B, int C,
                                         T eps, T momentum, ract_comm* comm, ract_error* err);
// Through the batch statistics: with xh = (inp-mean)*rstd, g = dout*gamma and means over the
// whole batch (every replica's rows),
// dinp += rstd * (g - mean_b(g) - xh*mean_b(g*xh));  dgamma += sum_b dout*xh;  dbeta += sum dout
// (dgamma/dbeta: this replica's rows; the caller sums them with the other gradients).
template <typename T>
ract_status ract_batchnorm_train_backward(T* dinp, T* dgamma, T* dbeta, const T* dout, const T* inp,
                                          const T* mean, const T* rstd, const T* gamma, int B,
                                          int C, ract_comm* comm, ract_error* err);
// Eval: the running statistics, a fixed affine map per channel.
template <typename T>
void ract_batchnorm_eval_forward(T* out, const T* inp, const T* running_mean, const T* running_var,
                                 const T* gamma, const T* beta, int B, int C, T eps);
// dinp += dout*gamma*rstd;  dgamma += sum_b dout*xh;  dbeta += sum_b dout
template <typename T>
void ract_batchnorm_eval_backward(T* dinp, T* dgamma, T* dbeta, const T* dout, const T* inp,
                                  const T* running_mean, const T* running_var, const T* gamma,
                                  int B, int C, T eps);

// ---- dropout. Each entry is kept with probability 1-p (mask 1) or dropped (mask 0, out 0).
// Kept entries are scaled by `scale`: 1 (recbole's style: F.dropout then *(1-p)) or 1/(1-p)
// (paper, inverted). ract_dropout_scale gives the scale of a style flag (inverted != 0).
float ract_dropout_scale(float p, int inverted);
// On the values of a sparse batch: keep[e] drawn per stored entry e of x (x.ptr[0] based:
// keep[e - x.ptr[0]]), those of row r from row r's own stream rng[r], in entry order (each
// stream is advanced: the caller may go on drawing from it). The kept entries are compacted
// into (out_ptr (B+1, from 0), out_idx, out_val) with value val_e*scale (val_e = x.val[e] or
// 1), times row_mul[r] when row_mul (B) is not NULL (rounded after each product: the
// input's row normalisation, fused). Rows run on the library's threads. No backward: the
// input is data.
void ract_dropout_sparse_forward(int64_t* out_ptr, int32_t* out_idx, float* out_val, uint8_t* keep,
                                 ract_sparse x, float p, float scale, const float* row_mul,
                                 ract_rng* rng);
// Same compaction with a given keep mask (replay, or all ones: evaluation).
void ract_dropout_sparse_apply(int64_t* out_ptr, int32_t* out_idx, float* out_val,
                               const uint8_t* keep, ract_sparse x, float scale,
                               const float* row_mul);

// ---- log-softmax + multinomial cross-entropy against a sparse target x (values or 1)
// loss (B), lse (B) saved log-sum-exp, logits (B,I), x (B,I) sparse; B = x.rows, I = x.cols
// loss_b = -sum_{e in row b} x_e * (logits[b, idx_e] - lse_b)
template <typename T>
void ract_softmax_ce_forward(T* loss, T* lse, const T* logits, ract_sparse x);
// dlogits[b] += dloss_b * (softmax(logits_b) * n_b - x_b), n_b = sum_e x_e; no dense target.
// IN PLACE when dlogits == logits: the row is then WRITTEN (not added to) with that gradient.
template <typename T>
void ract_softmax_ce_backward(T* dlogits, const T* dloss, const T* logits, const T* lse,
                              ract_sparse x);
// Forward and backward in one sweep per row, IN PLACE: logits (B,I) in, dL/dlogits out
// (written, with upstream weights dloss (B)); loss and lse as the forward. One exp per
// element: max, e = exp(l - max) stored over the row with its sum, then the scale.
// bias (I) or NULL: added to each row first (the output layer's bias, when its forward
// left it out: the sweep reads the row anyway).
template <typename T>
void ract_softmax_ce_fused(T* loss, T* lse, T* logits, const T* dloss, ract_sparse x,
                           const T* bias);

// ---- KL of a diagonal Gaussian against N(0,1), per row
// kl (B), mu/logvar (B,L) with row stride ld (they may be two halves of one (B,2L) buffer)
// kl_b = -1/2 sum_j (1 + lv - mu^2 - exp(lv))
template <typename T>
void ract_kl_forward(T* kl, const T* mu, const T* logvar, int B, int L, int ld);
// dmu += dkl_b * mu;  dlogvar += dkl_b * (exp(lv) - 1)/2   (dmu/dlogvar rows stride ld)
template <typename T>
void ract_kl_backward(T* dmu, T* dlogvar, const T* dkl, const T* mu, const T* logvar, int B, int L,
                      int ld);

// ---- reparameterisation with a stored epsilon: z = mu + eps * exp(lv/2)
// z (B,L), eps (B,L) dense; mu/logvar (B,L) with row stride ld
template <typename T>
void ract_reparam_forward(T* z, const T* mu, const T* logvar, const T* eps, int B, int L, int ld);
// dmu += dz;  dlogvar += dz * eps * exp(lv/2) / 2
template <typename T>
void ract_reparam_backward(T* dmu, T* dlogvar, const T* dz, const T* logvar, const T* eps, int B,
                           int L, int ld);
// eps (n) ~ N(0, std^2) from rng: Box-Muller on the uniforms n calls of ract_rng_normal
// would draw, in the same order (the rng ends in the same state). T = double gives exactly
// ract_rng_normal(rng) * std; float computes the transform in float on 16 lanes (within
// 1e-6 of it).
template <typename T>
void ract_normal_fill(T* eps, size_t n, float std, ract_rng* rng);

// ---- mean-squared error: returns mean_b (pred_b - target_b)^2 over n values
template <typename T>
T ract_mse_forward(const T* pred, const T* target, int n);
// dpred += dloss * 2 (pred - target) / n
template <typename T>
void ract_mse_backward(T* dpred, T dloss, const T* pred, const T* target, int n);

#endif  // RACT_MATH_OPS_H_
