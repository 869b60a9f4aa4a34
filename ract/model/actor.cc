// The actor (Mult-VAE): parameter table, init, forward, loss and hand-written backward.
// See actor.h for the layout and the call sequence; ract/model/README.md, "Actor", for the maths.
#include "ract/model/actor.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <type_traits>

#include "ract/math/ops.h"
#include "ract/math/vec.h"

namespace {

// Dims of the decoder layer j (in, out) and of the encoder layer j (in, out).
void dec_dims(const ract_hparams* c, int L, int j, int* in, int* out) {
  const int k = c->n_hidden;
  *in = j == 0 ? L : c->mlp_hidden_size[k - j];
  *out = c->mlp_hidden_size[k - 1 - j];
}

int max_hidden(const ract_hparams* c) {
  int m = 0;
  for (int j = 0; j < c->n_hidden; j++) m = c->mlp_hidden_size[j] > m ? c->mlp_hidden_size[j] : m;
  return m;
}

// Byte offset of a named pointer in ract_actor_tensors_t (the same for every T).
typedef ract_actor_tensors_t<float> tensors;
#define FIELD(m) offsetof(tensors, m)
#define FIELD_AT(m, j) (offsetof(tensors, m) + (size_t)(j) * sizeof(float*))

// The tensor table in weight-file order.
void actor_table(const ract_hparams* c, int I, ract_param_table* t) {
  const int k = c->n_hidden, L = ract_hparams_latent(c);
  const int* h = c->mlp_hidden_size;
  memset(t, 0, sizeof(*t));
  char name[32];
  for (int j = 0; j < k; j++) {
    snprintf(name, sizeof(name), "enc.%d.w", j);
    ract_table_param(t, name, j == 0 ? I : h[j], j == 0 ? h[0] : h[j - 1], FIELD_AT(enc_w, j));
    snprintf(name, sizeof(name), "enc.%d.b", j);
    ract_table_param(t, name, h[j], 1, FIELD_AT(enc_b, j));
  }
  ract_table_param(t, "enc.head.w", 2 * L, h[k - 1], FIELD(head_w));
  ract_table_param(t, "enc.head.b", 2 * L, 1, FIELD(head_b));
  for (int j = 0; j < k; j++) {
    int in, out;
    dec_dims(c, L, j, &in, &out);
    snprintf(name, sizeof(name), "dec.%d.w", j);
    ract_table_param(t, name, out, in, FIELD_AT(dec_w, j));
    snprintf(name, sizeof(name), "dec.%d.b", j);
    ract_table_param(t, name, out, 1, FIELD_AT(dec_b, j));
  }
  ract_table_param(t, "dec.out.w", I, h[0], FIELD(out_w));
  ract_table_param(t, "dec.out.b", I, 1, FIELD(out_b));
}

// Xavier init of n = rows*cols weights with the given fans, and the bias per cfg.init.
template <typename T>
void init_layer(T* w, size_t n, T* b, int nb, double fan_in, double fan_out, ract_init_style style,
                ract_rng* rng) {
  if (style == RACT_INIT_XAVIER_NORMAL) {
    const double sd = sqrt(2.0 / (fan_in + fan_out));
    for (size_t i = 0; i < n; i++) w[i] = (T)(ract_rng_normal(rng) * sd);
    for (int i = 0; i < nb; i++) b[i] = 0;
  } else {
    const double a = sqrt(6.0 / (fan_in + fan_out));
    for (size_t i = 0; i < n; i++) w[i] = (T)((2.0 * ract_rng_uniform_double(rng) - 1.0) * a);
    for (int i = 0; i < nb; i++) b[i] = (T)ract_rng_truncated_normal(rng, 1e-3);
  }
}

}  // namespace

size_t ract_actor_param_count(const ract_hparams* cfg, int n_items) {
  ract_param_table t;
  actor_table(cfg, n_items, &t);
  return t.total;
}

size_t ract_actor_bytes(const ract_hparams* cfg, int n_items, size_t elem) {
  return 4 * ract_arena_round(ract_actor_param_count(cfg, n_items) * elem);
}

template <typename T>
ract_status ract_actor_create(ract_actor_t<T>* a, const ract_hparams* cfg, int n_items,
                              ract_arena* arena, ract_error* err) {
  if (!a || !cfg || !arena) return ract_fail(err, RACT_ERR_ARG, "actor_create: null argument");
  RACT_CHECK(ract_hparams_check(cfg, err));
  if (n_items < 1) return ract_fail(err, RACT_ERR_ARG, "actor_create: n_items = %d", n_items);
  memset(a, 0, sizeof(*a));
  a->cfg = *cfg;
  a->n_items = n_items;
  a->latent = ract_hparams_latent(cfg);
  actor_table(cfg, n_items, &a->w.table);
  return ract_params_alloc(&a->w, &a->p, &a->g, arena, "actor parameters", err);
}

template <typename T>
void ract_actor_init_params(ract_actor_t<T>* a, ract_rng* rng) {
  const ract_hparams* c = &a->cfg;
  const int k = c->n_hidden, L = a->latent, I = a->n_items;
  const int* h = c->mlp_hidden_size;
  for (int j = 0; j < k; j++) {
    const int in = j == 0 ? I : h[j - 1];
    init_layer(a->p.enc_w[j], (size_t)in * h[j], a->p.enc_b[j], h[j], in, h[j], c->init, rng);
  }
  if (c->head == RACT_HEAD_SPLIT) {
    init_layer(a->p.head_w, (size_t)2 * L * h[k - 1], a->p.head_b, 2 * L, h[k - 1], 2 * L, c->init,
               rng);
  } else {  // two independent heads Linear(hk, L): mu rows, then logvar rows
    for (int head = 0; head < 2; head++) {
      init_layer(a->p.head_w + (size_t)head * L * h[k - 1], (size_t)L * h[k - 1],
                 a->p.head_b + head * L, L, h[k - 1], L, c->init, rng);
    }
  }
  for (int j = 0; j < k; j++) {
    int in, out;
    dec_dims(c, L, j, &in, &out);
    init_layer(a->p.dec_w[j], (size_t)in * out, a->p.dec_b[j], out, in, out, c->init, rng);
  }
  init_layer(a->p.out_w, (size_t)I * h[0], a->p.out_b, I, h[0], I, c->init, rng);
}

// ---------------------------------------------------------------- activations
namespace {

// Byte offsets of the slots in ract_actor_acts_t<T>.
#define SLOT(m) offsetof(ract_actor_acts_t<T>, m)
#define SLOT_AT(m, j) (offsetof(ract_actor_acts_t<T>, m) + (size_t)(j) * sizeof(T*))

// The activation slots of a batch of B users and nnz stored entries, T of `elem` bytes.
template <typename T>
void acts_table(const ract_hparams* c, int I, int max_batch, int64_t max_nnz, ract_slot_table* t) {
  const size_t elem = sizeof(T);
  const size_t B = (size_t)max_batch, L = (size_t)ract_hparams_latent(c), nnz = (size_t)max_nnz;
  const size_t H = (size_t)max_hidden(c);
  memset(t, 0, sizeof(*t));
  ract_table_slot(t, SLOT(in_ptr), B + 1, sizeof(int64_t), 0);
  ract_table_slot(t, SLOT(in_idx), nnz, sizeof(int32_t), 0);
  ract_table_slot(t, SLOT(in_val), nnz, sizeof(float), 0);
  ract_table_slot(t, SLOT(row_inv), B, sizeof(float), 0);
  ract_table_slot(t, SLOT(row_rng), B, sizeof(ract_rng), 0);
  ract_table_slot(t, SLOT(keep), nnz, 1, 0);
  ract_table_slot(t, SLOT(seen), B, elem, 1);
  ract_table_slot(t, SLOT(unseen), B, elem, 1);
  for (int j = 0; j < c->n_hidden; j++) {
    ract_table_slot(t, SLOT_AT(enc_h, j), B * c->mlp_hidden_size[j], elem, 1);
  }
  ract_table_slot(t, SLOT(head), B * 2 * L, elem, 1);
  ract_table_slot(t, SLOT(eps), B * L, elem, 1);
  ract_table_slot(t, SLOT(z), B * L, elem, 1);
  for (int j = 0; j < c->n_hidden; j++) {
    int in, out;
    dec_dims(c, (int)L, j, &in, &out);
    ract_table_slot(t, SLOT_AT(dec_h, j), B * out, elem, 1);
  }
  ract_table_slot(t, SLOT(logits), B * (size_t)I, elem, 1);
  ract_table_slot(t, SLOT(lse), B, elem, 1);
  ract_table_slot(t, SLOT(ce), B, elem, 1);
  ract_table_slot(t, SLOT(kl), B, elem, 1);
  ract_table_slot(t, SLOT(loss), B, elem, 1);
  ract_table_slot(t, SLOT(dce), B, elem, 1);
  ract_table_slot(t, SLOT(dkl), B, elem, 1);
  ract_table_slot(t, SLOT(hce), B, elem, 1);
  ract_table_slot(t, SLOT(hlse), B, elem, 1);
  ract_table_slot(t, SLOT(d_head), B * 2 * L, elem, 1);
  ract_table_slot(t, SLOT(d_z), B * L, elem, 1);
  ract_table_slot(t, SLOT(d_a), B * H, elem, 1);
  ract_table_slot(t, SLOT(d_b), B * H, elem, 1);
}

}  // namespace

size_t ract_actor_acts_bytes(const ract_hparams* cfg, int n_items, int max_batch, int64_t max_nnz,
                             size_t elem) {
  ract_slot_table t;
  if (elem == sizeof(double)) {
    acts_table<double>(cfg, n_items, max_batch, max_nnz, &t);
  } else {
    acts_table<float>(cfg, n_items, max_batch, max_nnz, &t);
  }
  return ract_table_slot_bytes(&t);
}

template <typename T>
ract_status ract_actor_acts_create(ract_actor_acts_t<T>* acts, const ract_actor_t<T>* a,
                                   int max_batch, int64_t max_nnz, ract_arena* arena,
                                   ract_error* err) {
  if (!acts || !a || !arena) return ract_fail(err, RACT_ERR_ARG, "actor_acts: null argument");
  if (max_batch < 1 || max_nnz < 0) {
    return ract_fail(err, RACT_ERR_ARG, "actor_acts: max_batch = %d, max_nnz = %lld", max_batch,
                     (long long)max_nnz);
  }
  memset(acts, 0, sizeof(*acts));
  acts->max_batch = max_batch;
  acts->max_nnz = max_nnz;
  acts->mode = -1;
  ract_slot_table t;
  acts_table<T>(&a->cfg, a->n_items, max_batch, max_nnz, &t);
  return ract_table_alloc_slots(&t, acts, arena, "actor activations", err);
}

// ---------------------------------------------------------------- forward
template <typename T>
ract_status ract_actor_forward(const ract_actor_t<T>* a, ract_actor_acts_t<T>* acts, ract_sparse x,
                               ract_mode mode, const ract_draws* draws, ract_error* err) {
  const ract_hparams* c = &a->cfg;
  const int B = x.rows, I = a->n_items, L = a->latent, k = c->n_hidden;
  const int* h = c->mlp_hidden_size;
  if (x.cols != I) {
    return ract_fail(err, RACT_ERR_SHAPE, "actor_forward: input has %d columns, model %d items",
                     x.cols, I);
  }
  if (B < 0 || B > acts->max_batch) {
    return ract_fail(err, RACT_ERR_SHAPE, "actor_forward: batch of %d users (0..%d)", B,
                     acts->max_batch);
  }
  const int64_t base = x.ptr[0], nnz = x.ptr[B] - base;
  if (nnz > acts->max_nnz) {
    return ract_fail(err, RACT_ERR_SHAPE, "actor_forward: %lld stored entries, room for %lld",
                     (long long)nnz, (long long)acts->max_nnz);
  }
  if (x.val) return ract_fail(err, RACT_ERR_ARG, "actor_forward: expects a binary history (val)");
  if (mode == RACT_MODE_TRAIN && !draws) {
    return ract_fail(err, RACT_ERR_ARG, "actor_forward: train mode needs its draws");
  }
  if (mode == RACT_MODE_TRAIN_REPLAY &&
      (acts->mode != RACT_MODE_TRAIN && acts->mode != RACT_MODE_TRAIN_REPLAY)) {
    return ract_fail(err, RACT_ERR_ARG, "actor_forward: replay without a previous train forward");
  }
  // Input: t = x / max(||x||, 1e-12), dropout (train) or the eval scale.
  const float p = c->dropout_prob;
  float* inv = acts->row_inv;  // 1 / ||x_b||, applied in the compaction
  for (int b = 0; b < B; b++) {
    const double norm = sqrt((double)(x.ptr[b + 1] - x.ptr[b]));
    inv[b] = (float)(1.0 / (norm > 1e-12 ? norm : 1e-12));
  }
  if (mode == RACT_MODE_EVAL) {
    memset(acts->keep, 1, (size_t)nnz);
    ract_dropout_sparse_apply(acts->in_ptr, acts->in_idx, acts->in_val, acts->keep, x,
                              ract_hparams_eval_scale(c), inv);
  } else {
    const float scale = ract_dropout_scale(p, c->dropout_style == RACT_DROPOUT_INVERTED);
    if (mode == RACT_MODE_TRAIN) {
      // One stream per user: its dropout mask, then (below) its eps.
      for (int b = 0; b < B; b++) {
        const uint64_t id = draws->users ? (uint64_t)draws->users[b] : (uint64_t)b;
        ract_rng_seed(&acts->row_rng[b], draws->seed, ract_rng_stream(draws->key, id));
      }
      ract_dropout_sparse_forward(acts->in_ptr, acts->in_idx, acts->in_val, acts->keep, x, p, scale,
                                  inv, acts->row_rng);
    } else {
      ract_dropout_sparse_apply(acts->in_ptr, acts->in_idx, acts->in_val, acts->keep, x, scale,
                                inv);
    }
  }
  for (int b = 0; b < B; b++) {
    const int64_t n = x.ptr[b + 1] - x.ptr[b];
    const int64_t kept = acts->in_ptr[b + 1] - acts->in_ptr[b];
    acts->seen[b] = (T)kept;
    acts->unseen[b] = (T)(n - kept);
  }
  ract_sparse in = {B, I, acts->in_ptr, acts->in_idx, acts->in_val};
  // Encoder.
  ract_sparse_linear_forward(acts->enc_h[0], in, a->p.enc_w[0], a->p.enc_b[0], h[0]);
  ract_tanh_forward(acts->enc_h[0], acts->enc_h[0], (size_t)B * h[0]);
  for (int j = 1; j < k; j++) {
    ract_linear_forward(acts->enc_h[j], acts->enc_h[j - 1], a->p.enc_w[j], a->p.enc_b[j], B,
                        h[j - 1], h[j]);
    ract_tanh_forward(acts->enc_h[j], acts->enc_h[j], (size_t)B * h[j]);
  }
  ract_linear_forward(acts->head, acts->enc_h[k - 1], a->p.head_w, a->p.head_b, B, h[k - 1], 2 * L);
  // Latent.
  const T* mu = acts->head;
  const T* logvar = acts->head + L;
  if (mode == RACT_MODE_EVAL) {
    for (int b = 0; b < B; b++) {
      memcpy(acts->z + (size_t)b * L, mu + (size_t)b * 2 * L, sizeof(T) * L);
    }
  } else {
    if (mode == RACT_MODE_TRAIN) {
      for (int b = 0; b < B; b++) {
        ract_normal_fill(acts->eps + (size_t)b * L, (size_t)L, c->eps_std, &acts->row_rng[b]);
      }
    }
    ract_reparam_forward(acts->z, mu, logvar, acts->eps, B, L, 2 * L);
  }
  // Decoder.
  const T* prev = acts->z;
  for (int j = 0; j < k; j++) {
    int din, dout;
    dec_dims(c, L, j, &din, &dout);
    ract_linear_forward(acts->dec_h[j], prev, a->p.dec_w[j], a->p.dec_b[j], B, din, dout);
    ract_tanh_forward(acts->dec_h[j], acts->dec_h[j], (size_t)B * dout);
    prev = acts->dec_h[j];
  }
  acts->batch = B;
  acts->mode = mode;
  return RACT_OK;
}

template <typename T>
void ract_actor_logits(const ract_actor_t<T>* a, const ract_actor_acts_t<T>* acts, T* logits,
                       int with_bias) {
  const int k = a->cfg.n_hidden;
  ract_linear_forward(logits, acts->dec_h[k - 1], a->p.out_w, with_bias ? a->p.out_b : nullptr,
                      acts->batch, a->cfg.mlp_hidden_size[0], a->n_items);
}

// After the CE: the KL per row, loss = ce + beta * kl per row, and their mean.
template <typename T>
T kl_and_mean_loss(const ract_actor_t<T>* a, ract_actor_acts_t<T>* acts, float beta) {
  const int B = acts->batch, L = a->latent;
  ract_kl_forward(acts->kl, acts->head, acts->head + L, B, L, 2 * L);
  double s = 0;
  for (int b = 0; b < B; b++) {
    acts->loss[b] = acts->ce[b] + (T)beta * acts->kl[b];
    s += acts->loss[b];
  }
  return (T)(s / B);
}

template <typename T>
T ract_actor_loss(const ract_actor_t<T>* a, ract_actor_acts_t<T>* acts, ract_sparse x,
                  const T* logits, float beta) {
  ract_softmax_ce_forward(acts->ce, acts->lse, logits, ract_sparse_rows(x, 0, acts->batch));
  return kl_and_mean_loss(a, acts, beta);
}

template <typename T>
T ract_actor_loss_fused(const ract_actor_t<T>* a, ract_actor_acts_t<T>* acts, ract_sparse x,
                        T* logits, float beta, const T* dce) {
  ract_softmax_ce_fused(acts->ce, acts->lse, logits, dce, ract_sparse_rows(x, 0, acts->batch),
                        (const T*)a->p.out_b);
  return kl_and_mean_loss(a, acts, beta);
}

template <typename T>
void ract_actor_dlogits(const ract_actor_t<T>* a, const ract_actor_acts_t<T>* acts, ract_sparse x,
                        T* logits, const T* dce) {
  ract_softmax_ce_backward(logits, dce, logits, acts->lse, ract_sparse_rows(x, 0, acts->batch));
}

template <typename T>
void ract_actor_heldout_loss(const ract_actor_t<T>* a, ract_actor_acts_t<T>* acts, ract_sparse x,
                             T* logits) {
  const int B = acts->batch, I = a->n_items;
  const int64_t base = x.ptr[0];
  for (int b = 0; b < B; b++) {
    T* l = logits + (size_t)b * I;
    for (int64_t j = acts->in_ptr[b]; j < acts->in_ptr[b + 1]; j++) l[acts->in_idx[j]] = -INFINITY;
    double lse;
    if constexpr (std::is_same<T, float>::value) {
      const float mx = ract_vec_max(l, I);
      lse = (double)mx + log(ract_vec_exp_sum(nullptr, l, I, mx));
    } else {
      T mx = -INFINITY;
      for (int i = 0; i < I; i++) mx = l[i] > mx ? l[i] : mx;
      double sum = 0;
      for (int i = 0; i < I; i++) sum += exp((double)(l[i] - mx));
      lse = (double)mx + log(sum);
    }
    double h = 0;
    for (int64_t e = x.ptr[b]; e < x.ptr[b + 1]; e++) {
      if (!acts->keep[e - base]) h += lse - (double)l[x.idx[e]];
    }
    acts->hlse[b] = (T)lse;
    acts->hce[b] = (T)h;
  }
}

template <typename T>
void ract_actor_heldout_dlogits(const ract_actor_t<T>* a, const ract_actor_acts_t<T>* acts,
                                ract_sparse x, T* logits, const T* w) {
  const int B = acts->batch, I = a->n_items;
  const int64_t base = x.ptr[0];
  for (int b = 0; b < B; b++) {
    T* l = logits + (size_t)b * I;
    const int64_t dropped = (x.ptr[b + 1] - x.ptr[b]) - (acts->in_ptr[b + 1] - acts->in_ptr[b]);
    if (dropped == 0) {  // nothing held out: no loss, no gradient
      for (int i = 0; i < I; i++) l[i] = 0;
      continue;
    }
    const T wn = (T)(w[b] * (double)dropped), ls = acts->hlse[b];
    // exp(-inf) = 0 at the kept items: no gradient there.
    if constexpr (std::is_same<T, float>::value) {
      ract_vec_exp_scaled(l, l, wn, ls, I, 0);
    } else {
      for (int i = 0; i < I; i++) l[i] = wn * exp(l[i] - ls);
    }
    for (int64_t e = x.ptr[b]; e < x.ptr[b + 1]; e++) {
      if (!acts->keep[e - base]) l[x.idx[e]] -= w[b];
    }
  }
}

// ---------------------------------------------------------------- backward
template <typename T>
ract_status ract_actor_backward(ract_actor_t<T>* a, ract_actor_acts_t<T>* acts, ract_sparse x,
                                const T* dlogits, const T* dkl, ract_error* err) {
  const ract_hparams* c = &a->cfg;
  const int B = acts->batch, I = a->n_items, L = a->latent, k = c->n_hidden;
  const int* h = c->mlp_hidden_size;
  if (x.rows != B || x.cols != I) {
    return ract_fail(err, RACT_ERR_SHAPE, "actor_backward: input %d x %d, forward was %d x %d",
                     x.rows, x.cols, B, I);
  }
  if (!dlogits) return ract_fail(err, RACT_ERR_ARG, "actor_backward: dlogits is null");
  // Output layer: dlogits (B,I) -> d dec_h[k-1] (B,h1).
  T* da = acts->d_a;
  T* db = acts->d_b;
  ract_ops_zero(da, (size_t)B * h[0]);
  ract_linear_backward(da, a->g.out_w, a->g.out_b, dlogits, acts->dec_h[k - 1], a->p.out_w, B, h[0],
                       I);
  // Decoder layers, last to first: da holds d(dec_h[j]).
  for (int j = k - 1; j >= 0; j--) {
    int din, dout;
    dec_dims(c, L, j, &din, &dout);
    ract_ops_zero(db, (size_t)B * dout);
    ract_tanh_backward(db, da, acts->dec_h[j], (size_t)B * dout);  // d pre-activation
    T* dprev = j == 0 ? acts->d_z : da;
    ract_ops_zero(dprev, (size_t)B * din);
    ract_linear_backward(dprev, a->g.dec_w[j], a->g.dec_b[j], db,
                         j == 0 ? acts->z : acts->dec_h[j - 1], a->p.dec_w[j], B, din, dout);
  }
  // z -> mu, logvar; plus the KL term.
  T* dh = acts->d_head;
  ract_ops_zero(dh, (size_t)B * 2 * L);
  const T* mu = acts->head;
  const T* logvar = acts->head + L;
  if (acts->mode == RACT_MODE_EVAL) {
    for (int b = 0; b < B; b++) {
      for (int j = 0; j < L; j++) dh[(size_t)b * 2 * L + j] += acts->d_z[(size_t)b * L + j];
    }
  } else {
    ract_reparam_backward(dh, dh + L, acts->d_z, logvar, acts->eps, B, L, 2 * L);
  }
  if (dkl) ract_kl_backward(dh, dh + L, dkl, mu, logvar, B, L, 2 * L);
  // Head: d_head (B,2L) -> d enc_h[k-1].
  ract_ops_zero(da, (size_t)B * h[k - 1]);
  ract_linear_backward(da, a->g.head_w, a->g.head_b, dh, acts->enc_h[k - 1], a->p.head_w, B,
                       h[k - 1], 2 * L);
  // Encoder, last to first.
  for (int j = k - 1; j >= 1; j--) {
    ract_ops_zero(db, (size_t)B * h[j]);
    ract_tanh_backward(db, da, acts->enc_h[j], (size_t)B * h[j]);
    ract_ops_zero(da, (size_t)B * h[j - 1]);
    ract_linear_backward(da, a->g.enc_w[j], a->g.enc_b[j], db, acts->enc_h[j - 1], a->p.enc_w[j], B,
                         h[j - 1], h[j]);
  }
  ract_ops_zero(db, (size_t)B * h[0]);
  ract_tanh_backward(db, da, acts->enc_h[0], (size_t)B * h[0]);
  ract_sparse in = {B, I, acts->in_ptr, acts->in_idx, acts->in_val};
  ract_sparse_linear_backward(a->g.enc_w[0], a->g.enc_b[0], db, in, h[0]);
  return RACT_OK;
}

// ---------------------------------------------------------------- evaluation
template <typename T>
ract_status ract_actor_full_sort_predict(const ract_actor_t<T>* a, ract_actor_acts_t<T>* acts,
                                         ract_sparse x, T* scores, ract_error* err) {
  RACT_CHECK(ract_actor_forward(a, acts, x, RACT_MODE_EVAL, nullptr, err));
  ract_actor_logits(a, acts, scores, 1);
  return RACT_OK;
}

ract_status ract_actor_score(void* ctx, ract_sparse input_rows, ract_tensor scores,
                             ract_error* err) {
  ract_actor_scorer* sc = (ract_actor_scorer*)ctx;
  if (!sc || !sc->actor || !sc->acts) return ract_fail(err, RACT_ERR_ARG, "actor_score: null ctx");
  const int I = sc->actor->n_items;
  if (scores.rows != input_rows.rows || scores.cols != I || scores.stride != I) {
    return ract_fail(err, RACT_ERR_SHAPE,
                     "actor_score: scores %d x %d (stride %d) for %d rows of %d items", scores.rows,
                     scores.cols, scores.stride, input_rows.rows, I);
  }
  int r0 = 0;
  while (r0 < input_rows.rows) {
    int n = 0;
    while (r0 + n < input_rows.rows && n < sc->acts->max_batch &&
           input_rows.ptr[r0 + n + 1] - input_rows.ptr[r0] <= sc->acts->max_nnz) {
      n++;
    }
    if (n == 0) {
      return ract_fail(err, RACT_ERR_SHAPE, "actor_score: row %d has %lld items, room for %lld", r0,
                       (long long)(input_rows.ptr[r0 + 1] - input_rows.ptr[r0]),
                       (long long)sc->acts->max_nnz);
    }
    RACT_CHECK(ract_actor_forward(sc->actor, sc->acts, ract_sparse_rows(input_rows, r0, n),
                                  RACT_MODE_EVAL, nullptr, err));
    ract_actor_logits(sc->actor, sc->acts, ract_tensor_row(scores, r0), sc->with_bias);
    r0 += n;
  }
  return RACT_OK;
}

#define RACT_ACTOR_INSTANTIATE(T)                                                                  \
  template ract_status ract_actor_create<T>(ract_actor_t<T>*, const ract_hparams*, int,            \
                                            ract_arena*, ract_error*);                             \
  template void ract_actor_init_params<T>(ract_actor_t<T>*, ract_rng*);                            \
  template ract_status ract_actor_acts_create<T>(ract_actor_acts_t<T>*, const ract_actor_t<T>*,    \
                                                 int, int64_t, ract_arena*, ract_error*);          \
  template ract_status ract_actor_forward<T>(const ract_actor_t<T>*, ract_actor_acts_t<T>*,        \
                                             ract_sparse, ract_mode, const ract_draws*,            \
                                             ract_error*);                                         \
  template void ract_actor_logits<T>(const ract_actor_t<T>*, const ract_actor_acts_t<T>*, T*,      \
                                     int);                                                         \
  template T ract_actor_loss<T>(const ract_actor_t<T>*, ract_actor_acts_t<T>*, ract_sparse,        \
                                const T*, float);                                                  \
  template T ract_actor_loss_fused<T>(const ract_actor_t<T>*, ract_actor_acts_t<T>*, ract_sparse,  \
                                      T*, float, const T*);                                        \
  template void ract_actor_dlogits<T>(const ract_actor_t<T>*, const ract_actor_acts_t<T>*,         \
                                      ract_sparse, T*, const T*);                                  \
  template void ract_actor_heldout_loss<T>(const ract_actor_t<T>*, ract_actor_acts_t<T>*,          \
                                           ract_sparse, T*);                                       \
  template void ract_actor_heldout_dlogits<T>(const ract_actor_t<T>*, const ract_actor_acts_t<T>*, \
                                              ract_sparse, T*, const T*);                          \
  template ract_status ract_actor_backward<T>(ract_actor_t<T>*, ract_actor_acts_t<T>*,             \
                                              ract_sparse, const T*, const T*, ract_error*);       \
  template ract_status ract_actor_full_sort_predict<T>(                                            \
      const ract_actor_t<T>*, ract_actor_acts_t<T>*, ract_sparse, T*, ract_error*);

RACT_ACTOR_INSTANTIATE(float)
RACT_ACTOR_INSTANTIATE(double)
