// The critic: parameter table, init, features, forward, losses, backward and the NDCG target.
// See critic.h; ract/model/README.md, "Critic".
#include "ract/model/critic.h"

#include <math.h>
#include <omp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <type_traits>

#include "ract/core/parallel.h"
#include "ract/math/ops.h"
#include "ract/math/topk_row.h"

namespace {

void critic_dims(const ract_hparams* c, int* dims, int* n_layers) {
  dims[0] = RACT_CRITIC_FEATURES;
  for (int j = 0; j < c->n_critic_layers; j++) dims[j + 1] = c->critic_layers[j];
  dims[c->n_critic_layers + 1] = 1;
  *n_layers = c->n_critic_layers + 1;
}

// Byte offset of a named pointer in ract_critic_tensors_t (all pointers: the same for every T).
typedef ract_critic_tensors_t<float> tensors;
#define FIELD(m) offsetof(tensors, m)
#define FIELD_AT(m, j) (offsetof(tensors, m) + (size_t)(j) * sizeof(float*))

// The tensor table in weight-file order.
void critic_table(const ract_hparams* c, ract_param_table* t) {
  int dims[RACT_MAX_LAYERS + 2], nl;
  critic_dims(c, dims, &nl);
  memset(t, 0, sizeof(*t));
  if (c->bn_mode == RACT_BN_BATCH) {
    ract_table_param(t, "critic.bn.gamma", RACT_CRITIC_FEATURES, 1, FIELD(bn_gamma));
    ract_table_param(t, "critic.bn.beta", RACT_CRITIC_FEATURES, 1, FIELD(bn_beta));
  }
  char name[32];
  for (int j = 0; j < nl; j++) {
    snprintf(name, sizeof(name), "critic.%d.w", j);
    ract_table_param(t, name, dims[j + 1], dims[j], FIELD_AT(w, j));
    snprintf(name, sizeof(name), "critic.%d.b", j);
    ract_table_param(t, name, dims[j + 1], 1, FIELD_AT(b, j));
  }
}

int max_width(const ract_hparams* c) {
  int m = RACT_CRITIC_FEATURES;
  for (int j = 0; j < c->n_critic_layers; j++)
    m = c->critic_layers[j] > m ? c->critic_layers[j] : m;
  return m;
}

}  // namespace

size_t ract_critic_param_count(const ract_hparams* cfg) {
  ract_param_table t;
  critic_table(cfg, &t);
  return t.total;
}

size_t ract_critic_bytes(const ract_hparams* cfg, size_t elem) {
  return 4 * ract_arena_round(ract_critic_param_count(cfg) * elem);
}

template <typename T>
ract_status ract_critic_create(ract_critic_t<T>* c, const ract_hparams* cfg, ract_arena* arena,
                               ract_error* err) {
  if (!c || !cfg || !arena) return ract_fail(err, RACT_ERR_ARG, "critic_create: null argument");
  RACT_CHECK(ract_hparams_check(cfg, err));
  memset(c, 0, sizeof(*c));
  c->cfg = *cfg;
  critic_dims(cfg, c->dims, &c->n_layers);
  critic_table(cfg, &c->w.table);
  for (int f = 0; f < RACT_CRITIC_FEATURES; f++) {
    c->bn_mean[f] = 0;
    c->bn_var[f] = 1;
  }
  return ract_params_alloc(&c->w, &c->p, &c->g, arena, "critic parameters", err);
}

template <typename T>
void ract_critic_init_params(ract_critic_t<T>* c, ract_rng* rng) {
  for (int j = 0; j < c->n_layers; j++) {
    const int in = c->dims[j], out = c->dims[j + 1];
    const double fan = (double)in + (double)out;
    for (size_t i = 0; i < (size_t)in * out; i++) {
      if (c->cfg.init == RACT_INIT_XAVIER_NORMAL) {
        c->p.w[j][i] = (T)(ract_rng_normal(rng) * sqrt(2.0 / fan));
      } else {
        c->p.w[j][i] = (T)((2.0 * ract_rng_uniform_double(rng) - 1.0) * sqrt(6.0 / fan));
      }
    }
    ract_ops_zero(c->p.b[j], (size_t)out);
  }
  if (c->p.bn_gamma) {
    for (int f = 0; f < RACT_CRITIC_FEATURES; f++) {
      c->p.bn_gamma[f] = 1;
      c->p.bn_beta[f] = 0;
    }
  }
  for (int f = 0; f < RACT_CRITIC_FEATURES; f++) {
    c->bn_mean[f] = 0;
    c->bn_var[f] = 1;
  }
}

namespace {

// Byte offsets of the slots in ract_critic_acts_t<T> (its BatchNorm statistics are T
// values: the offsets depend on T).
#define SLOT(m) offsetof(ract_critic_acts_t<T>, m)
#define SLOT_AT(m, j) (offsetof(ract_critic_acts_t<T>, m) + (size_t)(j) * sizeof(T*))

// The activation slots for B users, T of `elem` bytes; q is the last layer's slot.
template <typename T>
void acts_table(const ract_hparams* c, int max_batch, ract_slot_table* t) {
  const size_t elem = sizeof(T);
  int dims[RACT_MAX_LAYERS + 2], nl;
  critic_dims(c, dims, &nl);
  const size_t B = (size_t)max_batch, W = (size_t)max_width(c);
  memset(t, 0, sizeof(*t));
  ract_table_slot(t, SLOT(feat), B * RACT_CRITIC_FEATURES, elem, 1);
  ract_table_slot(t, SLOT(bn_out), B * RACT_CRITIC_FEATURES, elem, 1);
  for (int j = 0; j < nl; j++) ract_table_slot(t, SLOT_AT(h, j), B * dims[j + 1], elem, 1);
  ract_table_slot(t, SLOT(target), B, elem, 1);
  ract_table_slot(t, SLOT(dq), B, elem, 1);
  ract_table_slot(t, SLOT(dfeat), B * RACT_CRITIC_FEATURES, elem, 1);
  ract_table_slot(t, SLOT(d_a), B * W, elem, 1);
  ract_table_slot(t, SLOT(d_b), B * W, elem, 1);
}

}  // namespace

size_t ract_critic_acts_bytes(const ract_hparams* cfg, int max_batch, size_t elem) {
  ract_slot_table t;
  if (elem == sizeof(double)) {
    acts_table<double>(cfg, max_batch, &t);
  } else {
    acts_table<float>(cfg, max_batch, &t);
  }
  return ract_table_slot_bytes(&t);
}

template <typename T>
ract_status ract_critic_acts_create(ract_critic_acts_t<T>* ca, const ract_critic_t<T>* c,
                                    int max_batch, ract_arena* arena, ract_error* err) {
  if (!ca || !c || !arena) return ract_fail(err, RACT_ERR_ARG, "critic_acts: null argument");
  if (max_batch < 1) return ract_fail(err, RACT_ERR_ARG, "critic_acts: max_batch = %d", max_batch);
  memset(ca, 0, sizeof(*ca));
  ca->max_batch = max_batch;
  ract_slot_table t;
  acts_table<T>(&c->cfg, max_batch, &t);
  RACT_CHECK(ract_table_alloc_slots(&t, ca, arena, "critic activations", err));
  ca->q = ca->h[c->n_layers - 1];
  return RACT_OK;
}

template <typename T>
void ract_critic_input(ract_critic_acts_t<T>* ca, const ract_critic_t<T>* c,
                       const ract_actor_acts_t<T>* acts, float beta) {
  const int B = acts->batch;
  ca->batch = B;
  ca->total = B;
  for (int b = 0; b < B; b++) {
    ca->feat[b * 3 + 0] = acts->seen[b];
    ca->feat[b * 3 + 1] = acts->unseen[b];
    if (c->cfg.critic_loss_feature == RACT_FEATURE_HELDOUT) {
      ca->feat[b * 3 + 2] = acts->hce[b] + (c->cfg.critic_loss_with_kl ? (T)beta * acts->kl[b] : 0);
    } else {
      ca->feat[b * 3 + 2] = c->cfg.critic_loss_with_kl ? acts->loss[b] : acts->ce[b];
    }
  }
}

template <typename T>
ract_status ract_critic_forward(ract_critic_t<T>* c, ract_critic_acts_t<T>* ca, int bn_batch,
                                int update_running, ract_error* err) {
  const int B = ca->batch;
  if (B < 0 || B > ca->max_batch) {
    return ract_fail(err, RACT_ERR_SHAPE, "critic_forward: batch of %d (0..%d)", B, ca->max_batch);
  }
  const T eps = (T)c->cfg.bn_eps;
  if (bn_batch) {
    RACT_CHECK(ract_batchnorm_train_forward<T>(
        ca->bn_out, ca->bn_mu, ca->bn_rstd, update_running ? c->bn_mean : nullptr,
        update_running ? c->bn_var : nullptr, ca->feat, c->p.bn_gamma, c->p.bn_beta, B, 3, eps,
        (T)c->cfg.bn_momentum, ca->comm, err));
  } else {
    ract_batchnorm_eval_forward<T>(ca->bn_out, ca->feat, c->bn_mean, c->bn_var, c->p.bn_gamma,
                                   c->p.bn_beta, B, 3, eps);
    for (int f = 0; f < 3; f++) {
      ca->bn_mu[f] = c->bn_mean[f];
      ca->bn_rstd[f] = (T)(1.0 / sqrt((double)c->bn_var[f] + (double)eps));
    }
  }
  ca->bn_batch = bn_batch ? 1 : 0;
  const T* prev = ca->bn_out;
  for (int j = 0; j < c->n_layers; j++) {
    const int in = c->dims[j], out = c->dims[j + 1];
    ract_linear_forward(ca->h[j], prev, c->p.w[j], c->p.b[j], B, in, out);
    if (j < c->n_layers - 1) {
      ract_relu_forward(ca->h[j], ca->h[j], (size_t)B * out);
    } else {
      ract_sigmoid_forward(ca->h[j], ca->h[j], (size_t)B * out);
    }
    prev = ca->h[j];
  }
  return RACT_OK;
}

template <typename T>
ract_status ract_critic_bn_collect(ract_critic_t<T>* c, ract_critic_acts_t<T>* ca,
                                   ract_error* err) {
  return ract_batchnorm_train_forward<T>(ca->bn_out, ca->bn_mu, ca->bn_rstd, c->bn_mean, c->bn_var,
                                         ca->feat, c->p.bn_gamma, c->p.bn_beta, ca->batch, 3,
                                         (T)c->cfg.bn_eps, (T)c->cfg.bn_momentum, ca->comm, err);
}

template <typename T>
T ract_critic_loss(ract_critic_t<T>* c, ract_critic_acts_t<T>* ca) {
  const int B = ca->batch, n = ca->total;
  // The mean over this replica's B rows, scaled to its share of the whole batch's mean.
  double loss = B > 0 ? (double)ract_mse_forward(ca->q, ca->target, B) * B / n : 0.0;
  ract_ops_zero(ca->dq, (size_t)B);
  ract_mse_backward(ca->dq, (T)((double)B / n), ca->q, ca->target, B);
  const double coef = ca->comm == nullptr || ca->comm->rank == 0 ? c->cfg.critic_l2 : 0.0;
  if (coef > 0) {
    double ss = 0;
    for (int j = 0; j < c->n_layers; j++) {
      const size_t cnt = (size_t)c->dims[j] * c->dims[j + 1];
      for (size_t i = 0; i < cnt; i++) {
        ss += (double)c->p.w[j][i] * c->p.w[j][i];
        c->g.w[j][i] += (T)(2.0 * coef * c->p.w[j][i] / n);
      }
    }
    loss += coef * ss / n;
  }
  return (T)loss;
}

template <typename T>
T ract_critic_ac_loss(ract_critic_acts_t<T>* ca) {
  const int B = ca->batch, n = ca->total;
  double s = 0;
  for (int b = 0; b < B; b++) {
    s += ca->q[b];
    ca->dq[b] = (T)(-1.0 / n);
  }
  return (T)(-s / n);
}

template <typename T>
ract_status ract_critic_backward(ract_critic_t<T>* c, ract_critic_acts_t<T>* ca, int param_grads,
                                 ract_error* err) {
  const int B = ca->batch;
  if (B < 0) return ract_fail(err, RACT_ERR_ARG, "critic_backward: no forward");
  T* da = ca->d_a;
  T* db = ca->d_b;
  // sigmoid: d pre = dq * q (1 - q)
  ract_ops_zero(db, (size_t)B);
  ract_sigmoid_backward(db, ca->dq, ca->q, (size_t)B);
  for (int j = c->n_layers - 1; j >= 0; j--) {
    const int in = c->dims[j], out = c->dims[j + 1];
    ract_ops_zero(da, (size_t)B * in);
    ract_linear_backward(da, param_grads ? c->g.w[j] : nullptr, param_grads ? c->g.b[j] : nullptr,
                         db, j == 0 ? ca->bn_out : ca->h[j - 1], c->p.w[j], B, in, out);
    if (j > 0) {
      ract_ops_zero(db, (size_t)B * in);
      ract_relu_backward(db, da, ca->h[j - 1], (size_t)B * in);
    }
  }
  // da = d bn_out (B,3)
  ract_ops_zero(ca->dfeat, (size_t)B * 3);
  T* dg = param_grads ? c->g.bn_gamma : nullptr;
  T* dbeta = param_grads ? c->g.bn_beta : nullptr;
  if (ca->bn_batch) {
    RACT_CHECK(ract_batchnorm_train_backward(ca->dfeat, dg, dbeta, da, ca->feat, ca->bn_mu,
                                             ca->bn_rstd, (const T*)c->p.bn_gamma, B, 3, ca->comm,
                                             err));
  } else {
    ract_batchnorm_eval_backward(ca->dfeat, dg, dbeta, da, ca->feat, c->bn_mean, c->bn_var,
                                 (const T*)c->p.bn_gamma, B, 3, (T)c->cfg.bn_eps);
  }
  return RACT_OK;
}

// Per thread slot: a float row (the masked copy for T = double; the saved scores of the
// masked items for T = float), the relevance flags, and the top-k buffers.
static size_t target_slot_bytes(int n_items, int k) {
  return ract_arena_round((size_t)n_items * sizeof(float)) + ract_arena_round((size_t)n_items) +
         ract_arena_round((size_t)k * sizeof(int)) + ract_arena_round((size_t)k * sizeof(float));
}

size_t ract_critic_target_bytes(int n_items, int k) {
  return RACT_MAX_THREADS * target_slot_bytes(n_items, k);
}

template <typename T>
ract_status ract_critic_target(ract_critic_acts_t<T>* ca, const ract_critic_t<T>* c,
                               const ract_actor_acts_t<T>* acts, T* logits, ract_sparse x,
                               int n_items, ract_arena* scratch, ract_error* err) {
  const int B = acts->batch, I = n_items, k = c->cfg.metrics_k;
  if (x.rows != B || x.cols != I) {
    return ract_fail(err, RACT_ERR_SHAPE, "critic_target: input %d x %d, forward was %d x %d",
                     x.rows, x.cols, B, I);
  }
  int nt = ract_parallel_threads_for((size_t)B * I);
  if (nt > RACT_MAX_THREADS) nt = RACT_MAX_THREADS;
  const size_t mark = ract_arena_mark(scratch);
  struct slot {
    float* s;
    uint8_t* rel;
    int* tidx;
    float* tval;
  } slots[RACT_MAX_THREADS];
  for (int t = 0; t < nt; t++) {
    slots[t].s = (float*)ract_arena_alloc(scratch, (size_t)I * sizeof(float));
    slots[t].rel = (uint8_t*)ract_arena_alloc(scratch, (size_t)I);
    slots[t].tidx = (int*)ract_arena_alloc(scratch, (size_t)k * sizeof(int));
    slots[t].tval = (float*)ract_arena_alloc(scratch, (size_t)k * sizeof(float));
    if (!slots[t].s || !slots[t].rel || !slots[t].tidx || !slots[t].tval) {
      ract_status st = ract_arena_check(scratch, "critic target scratch", err);
      ract_arena_reset(scratch, mark);
      return st;
    }
    memset(slots[t].rel, 0, (size_t)I);
  }
  const int64_t base = x.ptr[0];
  ca->batch = B;
  // Rows are independent: a static split over the threads gives the same targets for any
  // thread count. The float logits are masked in place (kept input items at -inf) and
  // restored after the selection, instead of copying each row.
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
  for (int b = 0; b < B; b++) {
    slot* sl = &slots[nt > 1 ? omp_get_thread_num() : 0];
    const int64_t in0 = acts->in_ptr[b], in1 = acts->in_ptr[b + 1];
    float* row;
    if constexpr (std::is_same<T, float>::value) {
      row = (float*)logits + (size_t)b * I;  // restored below
      for (int64_t j = in0; j < in1; j++) {
        sl->s[j - in0] = row[acts->in_idx[j]];
        row[acts->in_idx[j]] = -INFINITY;
      }
    } else {
      row = sl->s;
      const T* l = logits + (size_t)b * I;
      for (int i = 0; i < I; i++) row[i] = (float)l[i];
      for (int64_t j = in0; j < in1; j++) row[acts->in_idx[j]] = -INFINITY;
    }
    int unseen = 0;
    for (int64_t e = x.ptr[b]; e < x.ptr[b + 1]; e++) {
      if (!acts->keep[e - base]) {
        sl->rel[x.idx[e]] = 1;
        unseen++;
      }
    }
    const int got = ract_topk_row(row, I, k, sl->tidx, sl->tval);
    if constexpr (std::is_same<T, float>::value) {
      for (int64_t j = in0; j < in1; j++) row[acts->in_idx[j]] = sl->s[j - in0];
    }
    double dcg = 0;
    for (int r = 0; r < got; r++) {
      if (sl->rel[sl->tidx[r]]) dcg += 1.0 / log2((double)r + 2.0);
    }
    const int n = x.ptr[b + 1] - x.ptr[b];
    if (c->cfg.ndcg_gain_sqrt && n > 0) dcg /= sqrt((double)n);
    double idcg = 0;
    for (int r = 0; r < (unseen < k ? unseen : k); r++) idcg += 1.0 / log2((double)r + 2.0);
    if (idcg < 0.1) idcg = 0.1;
    ca->target[b] = (T)(dcg / idcg);
    for (int64_t e = x.ptr[b]; e < x.ptr[b + 1]; e++) sl->rel[x.idx[e]] = 0;
  }
  ract_arena_reset(scratch, mark);
  return RACT_OK;
}

#define RACT_CRITIC_INSTANTIATE(T)                                                                 \
  template ract_status ract_critic_create<T>(ract_critic_t<T>*, const ract_hparams*, ract_arena*,  \
                                             ract_error*);                                         \
  template void ract_critic_init_params<T>(ract_critic_t<T>*, ract_rng*);                          \
  template ract_status ract_critic_acts_create<T>(ract_critic_acts_t<T>*, const ract_critic_t<T>*, \
                                                  int, ract_arena*, ract_error*);                  \
  template void ract_critic_input<T>(ract_critic_acts_t<T>*, const ract_critic_t<T>*,              \
                                     const ract_actor_acts_t<T>*, float);                          \
  template ract_status ract_critic_forward<T>(ract_critic_t<T>*, ract_critic_acts_t<T>*, int, int, \
                                              ract_error*);                                        \
  template ract_status ract_critic_bn_collect<T>(ract_critic_t<T>*, ract_critic_acts_t<T>*,        \
                                                 ract_error*);                                     \
  template T ract_critic_loss<T>(ract_critic_t<T>*, ract_critic_acts_t<T>*);                       \
  template T ract_critic_ac_loss<T>(ract_critic_acts_t<T>*);                                       \
  template ract_status ract_critic_backward<T>(ract_critic_t<T>*, ract_critic_acts_t<T>*, int,     \
                                               ract_error*);                                       \
  template ract_status ract_critic_target<T>(ract_critic_acts_t<T>*, const ract_critic_t<T>*,      \
                                             const ract_actor_acts_t<T>*, T*, ract_sparse, int,    \
                                             ract_arena*, ract_error*);

RACT_CRITIC_INSTANTIATE(float)
RACT_CRITIC_INSTANTIATE(double)
