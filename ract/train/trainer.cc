// The three-stage trainer (trainer.h).
#include "ract/train/trainer.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <algorithm>

#include "ract/core/clock.h"
#include "ract/eval/evaluator.h"
#include "ract/math/gemm.h"
#include "ract/model/table.h"

namespace {

// The most stored entries any batch of `batch` rows can hold: the sum of the longest rows.
int64_t max_batch_nnz_any(const ract_csr* m, int batch) {
  int64_t* len = (int64_t*)malloc(sizeof(int64_t) * (m->rows > 0 ? m->rows : 1));
  if (len == nullptr) return -1;
  for (int r = 0; r < m->rows; r++) len[r] = m->ptr[r + 1] - m->ptr[r];
  int b = std::min(batch, m->rows);
  std::partial_sort(len, len + b, len + m->rows, [](int64_t a, int64_t c) { return a > c; });
  int64_t s = 0;
  for (int i = 0; i < b; i++) s += len[i];
  free(len);
  return s;
}

void snapshot(ract_trainer* t, int save) {
  size_t na = t->actor.w.n, nc = t->critic.w.n;
  if (save) {
    memcpy(t->best_actor, t->actor.w.params, sizeof(float) * na);
    memcpy(t->best_critic, t->critic.w.params, sizeof(float) * nc);
    memcpy(t->best_critic + nc, t->critic.bn_mean, sizeof(float) * 3);
    memcpy(t->best_critic + nc + 3, t->critic.bn_var, sizeof(float) * 3);
  } else {
    memcpy(t->actor.w.params, t->best_actor, sizeof(float) * na);
    memcpy(t->critic.w.params, t->best_critic, sizeof(float) * nc);
    memcpy(t->critic.bn_mean, t->best_critic + nc, sizeof(float) * 3);
    memcpy(t->critic.bn_var, t->best_critic + nc + 3, sizeof(float) * 3);
  }
}

int all_finite(const float* v, size_t n) {
  float s = 0;
  for (size_t i = 0; i < n; i++) s += v[i] * 0.0f;  // NaN or inf makes the sum NaN
  return s == 0.0f;
}

}  // namespace

namespace {

// Everything the trainer's memory depends on, from the config and the data: computed once
// for ract_trainer_bytes and again for ract_trainer_create, so the two agree.
struct plan {
  int I, B, EB, max_batch, max_k, cap_log;
  int64_t nnz;
  size_t scratch_bytes;
  size_t n_actor, n_critic;
  ract_slot_table own;  // the trainer's own buffers (order, batch, snapshots, log, scratch)
  size_t bytes;
};

ract_status make_plan(const ract_train_config* c, const ract_dataset* data, plan* p,
                      ract_error* err) {
  RACT_CHECK(ract_train_config_check(c, err));
  for (int s = 0; s < RACT_STAGES; s++) {
    if (c->run_stage[s] && c->validate[s] && data->valid.rows == 0) {
      return ract_fail(err, RACT_ERR_DATA,
                       "stage %s validates every epoch but the dataset "
                       "has no validation users",
                       ract_stage_name((ract_stage)s));
    }
  }
  if (data->train.rows == 0 || data->n_items == 0) {
    return ract_fail(err, RACT_ERR_DATA, "the training data is empty");
  }
  memset(p, 0, sizeof(*p));
  p->I = data->n_items;
  p->B = std::min(c->train_batch_size, data->train.rows);
  // No more rows per evaluation batch than the largest evaluation set has.
  p->EB = std::max(1, std::min(c->eval_batch, std::max(data->valid.rows, data->test.rows)));
  const int64_t nnz_train = max_batch_nnz_any(&data->train, p->B);
  if (nnz_train < 0) return ract_fail(err, RACT_ERR_NOMEM, "trainer: out of memory");
  // Evaluation batches start wherever a replica's block of rows starts (evaluate_part): the
  // bound of any EB rows, not only of the batches a single process would cut.
  const int64_t nnz_valid = max_batch_nnz_any(&data->valid.input, p->EB);
  const int64_t nnz_test = max_batch_nnz_any(&data->test.input, p->EB);
  if (nnz_valid < 0 || nnz_test < 0)
    return ract_fail(err, RACT_ERR_NOMEM, "trainer: out of memory");
  p->nnz = std::max({nnz_train, nnz_valid, nnz_test, (int64_t)1});
  p->max_batch = std::max(p->B, p->EB);
  p->max_k = 1;
  for (int i = 0; i < c->n_topk; i++) p->max_k = std::max(p->max_k, c->topk[i]);
  p->scratch_bytes = std::max(ract_critic_target_bytes(p->I, c->model.metrics_k),
                              ract_eval_bytes(p->I, p->EB, p->max_k, 0)) +
                     (1 << 16);
  p->n_actor = ract_actor_param_count(&c->model, p->I);
  p->n_critic = ract_critic_param_count(&c->model);
  int64_t total_epochs = 0;
  for (int s = 0; s < RACT_STAGES; s++) total_epochs += c->stage_epochs[s];
  p->cap_log = (int)total_epochs + 1;
  ract_slot_table* o = &p->own;
  ract_table_slot(o, offsetof(ract_trainer, order), (size_t)data->train.rows, sizeof(int), 0);
  ract_table_slot(o, offsetof(ract_trainer, batch_ptr), (size_t)p->max_batch + 1, sizeof(int64_t),
                  0);
  ract_table_slot(o, offsetof(ract_trainer, batch_idx), (size_t)p->nnz, sizeof(int32_t), 0);
  ract_table_slot(o, offsetof(ract_trainer, batch_users), (size_t)p->max_batch, sizeof(int32_t), 0);
  ract_table_slot(o, offsetof(ract_trainer, best_actor), p->n_actor, sizeof(float), 1);
  ract_table_slot(o, offsetof(ract_trainer, best_critic), p->n_critic + 6, sizeof(float), 1);
  ract_table_slot(o, offsetof(ract_trainer, log), (size_t)p->cap_log, sizeof(ract_epoch_log), 1);
  ract_table_slot(o, offsetof(ract_trainer, scratch.base), p->scratch_bytes, 1, 0);
  p->bytes = ract_actor_bytes(&c->model, p->I) + ract_critic_bytes(&c->model) +
             ract_actor_acts_bytes(&c->model, p->I, p->max_batch, p->nnz) +
             ract_critic_acts_bytes(&c->model, p->max_batch) + ract_table_slot_bytes(o) +
             RACT_ARENA_ALIGN;
  return RACT_OK;
}

}  // namespace

ract_status ract_trainer_bytes(const ract_train_config* cfg, const ract_dataset* data,
                               size_t* bytes, ract_error* err) {
  plan p;
  RACT_CHECK(make_plan(cfg, data, &p, err));
  *bytes = p.bytes;
  return RACT_OK;
}

ract_status ract_trainer_create(ract_trainer* t, const ract_train_config* cfg,
                                const ract_dataset* data, void* buffer, size_t bytes,
                                ract_error* err) {
  memset(t, 0, sizeof(*t));
  t->cfg = *cfg;
  t->data = data;
  const ract_train_config* c = &t->cfg;
  plan p;
  RACT_CHECK(make_plan(c, data, &p, err));
  if (c->total_anneal_epochs > 0) {  // beta's ramp in epochs of this data's batches
    const int rows = data->train.rows, B = p.B;
    const int64_t per_epoch = c->drop_last ? rows / B : (rows + B - 1) / B;
    t->cfg.model.total_anneal_steps = (int64_t)c->total_anneal_epochs * per_epoch;
  }
  if (buffer != nullptr) {
    if (bytes < p.bytes) {
      return ract_fail(err, RACT_ERR_NOMEM, "trainer: a buffer of %zu bytes, it needs %zu", bytes,
                       p.bytes);
    }
    if (ract_arena_init(&t->arena, buffer, bytes) != RACT_OK) {
      return ract_fail(err, RACT_ERR_ARG, "trainer: a buffer of %zu bytes is no arena", bytes);
    }
  } else {
    RACT_CHECK(ract_arena_create(&t->arena, p.bytes, err));
  }
  ract_arena* a = &t->arena;
  t->max_batch_nnz = p.nnz;
  t->eval_rows = p.EB;
  t->cap_log = p.cap_log;
  RACT_CHECK(ract_actor_create(&t->actor, &c->model, p.I, a, err));
  RACT_CHECK(ract_critic_create(&t->critic, &c->model, a, err));
  RACT_CHECK(ract_actor_acts_create(&t->aacts, &t->actor, p.max_batch, p.nnz, a, err));
  RACT_CHECK(ract_critic_acts_create(&t->cacts, &t->critic, p.max_batch, a, err));
  RACT_CHECK(ract_table_alloc_slots(&p.own, t, a, "trainer", err));
  void* sbuf = t->scratch.base;
  ract_arena_init(&t->scratch, sbuf, p.scratch_bytes);
  for (int r = 0; r < data->train.rows; r++) t->order[r] = r;

  ract_gemm_set_threads(c->threads);
  ract_rng_seed(&t->rng, c->seed, 0);
  ract_actor_init_params(&t->actor, &t->rng);
  ract_critic_init_params(&t->critic, &t->rng);
  t->adam_actor = ract_adam_make(c->stage_lr[0]);
  t->adam_critic = ract_adam_make(c->stage_lr[1]);
  for (int s = 0; s < RACT_STAGES; s++) t->stage[s].best_epoch = -1;
  t->cur.stage = 0;
  while (t->cur.stage < RACT_STAGES && !c->run_stage[t->cur.stage]) t->cur.stage++;
  return RACT_OK;
}

void* ract_trainer_scratch(ract_trainer* t, size_t* bytes) {
  *bytes = (size_t)t->aacts.max_batch * (size_t)t->actor.n_items * sizeof(float);
  return t->aacts.logits;
}

void ract_trainer_free(ract_trainer* t) {
  ract_arena_free(&t->arena);
  memset(t, 0, sizeof(*t));
}

// The metric sums of every replica, added on every replica (one allreduce of users and the
// six metrics' sums per cut-off).
static ract_status reduce_metric_sums(ract_comm* comm, ract_metrics* m, ract_error* err) {
  double* cols[6] = {m->recall, m->recall_paper, m->mrr, m->ndcg, m->hit, m->precision};
  double buf[1 + 6 * RACT_METRICS_MAX_K];
  buf[0] = m->users;
  for (int c = 0; c < 6; c++) memcpy(buf + 1 + c * m->n_k, cols[c], sizeof(double) * m->n_k);
  const size_t n = 1 + 6 * (size_t)m->n_k;
  RACT_CHECK(ract_comm_allreduce_sum_f64(comm, buf, n, err));
  m->users = (int)buf[0];
  for (int c = 0; c < 6; c++) memcpy(cols[c], buf + 1 + c * m->n_k, sizeof(double) * m->n_k);
  return RACT_OK;
}

ract_status ract_trainer_evaluate(ract_trainer* t, const ract_eval_set* set, ract_metrics* out,
                                  ract_error* err) {
  RACT_CHECK(ract_metrics_init(out, t->cfg.topk, t->cfg.n_topk, err));
  // The scores go straight into the activations' logits block (max_batch >= eval_rows
  // rows), where they are ranked: no second B x I block. The output bias is left to the
  // evaluator's ranking pass (one pass over the scores fewer).
  ract_actor_scorer sc = {&t->actor, &t->aacts, 0};
  ract_eval_job job =
      ract_eval_job_make(set, t->data->n_items, ract_actor_score, &sc, t->eval_rows);
  job.block = t->aacts.logits;
  job.offset = t->actor.p.out_b;
  ract_comm* comm = t->comm;
  if (comm == nullptr || comm->size <= 1) return ract_eval_run(out, &job, &t->scratch, err);
  // Replica r scores its block of rows [lo, hi) (ract_trainer_eval_block); the sums of all
  // blocks, then the means, are the same on every replica.
  int lo = 0, hi = 0;
  ract_trainer_eval_block(t->comm, set->rows, &lo, &hi);
  job.input = ract_sparse_rows(job.input, lo, hi - lo);
  job.mask = ract_sparse_rows(job.mask, lo, hi - lo);
  job.truth = ract_sparse_rows(job.truth, lo, hi - lo);
  job.keep_sums = 1;
  RACT_CHECK(ract_eval_run(out, &job, &t->scratch, err));
  RACT_CHECK(reduce_metric_sums(comm, out, err));
  ract_metrics_finish(out);
  return RACT_OK;
}

void ract_trainer_eval_block(const ract_comm* comm, int rows, int* lo, int* hi) {
  const int64_t rank = comm != nullptr ? comm->rank : 0;
  const int64_t size = comm != nullptr && comm->size > 0 ? comm->size : 1;
  *lo = (int)(rows * rank / size);
  *hi = (int)(rows * (rank + 1) / size);
}

int ract_trainer_owns_user(const ract_comm* comm, int user) {
  return comm == nullptr || user % comm->size == comm->rank;
}

ract_status ract_trainer_keep_own_rows(ract_dataset* data, const ract_comm* comm, ract_error* err) {
  if (comm == nullptr || comm->size <= 1) return RACT_OK;
  const int most = std::max({data->train.rows, data->valid.rows, data->test.rows, 1});
  uint8_t* keep = (uint8_t*)malloc((size_t)most);
  if (keep == nullptr) return ract_fail(err, RACT_ERR_NOMEM, "trainer: out of memory");
  if (!data->counts.partial) {  // what checkpoints and reports record of the whole data
    data->counts.whole_train_nnz = data->train.nnz;
    data->counts.whole_train_hash = ract_csr_hash(&data->train);
    data->counts.partial = 1;
  }
  for (int r = 0; r < data->train.rows; r++) keep[r] = (uint8_t)ract_trainer_owns_user(comm, r);
  ract_csr_keep_rows(&data->train, keep);
  for (ract_eval_set* set : {&data->valid, &data->test}) {
    int lo = 0, hi = 0;
    ract_trainer_eval_block(comm, set->rows, &lo, &hi);
    for (int r = 0; r < set->rows; r++) keep[r] = r >= lo && r < hi;
    ract_csr_keep_rows(&set->input, keep);
    ract_csr_keep_rows(&set->mask, keep);
    ract_csr_keep_rows(&set->truth, keep);
  }
  free(keep);
  return RACT_OK;
}

// The key of the random draws of a purpose (training, the critic's checks) at a stage and
// epoch: every user's stream is (seed, key, user), whichever batch or replica holds it.
enum { kDrawTrain = 0, kDrawCriticCheck = 1, kDrawBnRefresh = 2, kDrawShuffle = 3 };
static uint64_t draw_key(int purpose, int stage, int epoch) {
  return ((uint64_t)purpose << 48) | ((uint64_t)stage << 32) | (uint64_t)(uint32_t)epoch;
}

// This replica trains the user.
static int owns(const ract_trainer* t, int user) { return ract_trainer_owns_user(t->comm, user); }

// The batch of rows[0 .. n) of the matrix m: the rows this replica holds (all of them with
// all_mine) gathered into the batch buffers, with their ids as the users of the draws.
static ract_batch gather_rows(ract_trainer* t, const ract_csr* m, const int* ids, int n,
                              int all_mine, uint64_t key) {
  int64_t k = 0;
  int rows = 0;
  t->batch_ptr[0] = 0;
  for (int b = 0; b < n; b++) {
    const int r = ids[b];
    if (!all_mine && !owns(t, r)) continue;
    const int64_t len = m->ptr[r + 1] - m->ptr[r];
    memcpy(t->batch_idx + k, m->idx + m->ptr[r], sizeof(int32_t) * len);
    k += len;
    t->batch_users[rows++] = r;
    t->batch_ptr[rows] = k;
  }
  ract_batch batch;
  batch.x = {rows, m->cols, t->batch_ptr, t->batch_idx, nullptr};
  batch.draws = {t->cfg.seed, key, t->batch_users};
  batch.total = n;
  return batch;
}

// The batch of rows order[r0 .. r0+n) of the training matrix.
static ract_batch gather_batch(ract_trainer* t, int r0, int n, uint64_t key) {
  return gather_rows(t, &t->data->train, t->order + r0, n, 0, key);
}

// Puts this replica's training rows, in order, at the start of t->order (free between
// epochs); returns how many.
static int owned_rows(ract_trainer* t) {
  int n = 0;
  for (int r = 0; r < t->data->train.rows; r++) {
    if (owns(t, r)) t->order[n++] = r;
  }
  return n;
}

// The critic's features of every training user this replica holds (one dropout draw each,
// the current beta) summed over the replicas: their mean and unbiased variance become the
// critic's BatchNorm statistics (critic_bn_refresh). The order buffer is free here: the stage
// has not begun an epoch.
static ract_status bn_refresh(ract_trainer* t, ract_error* err) {
  const ract_csr* m = &t->data->train;
  const float beta = ract_anneal_beta_at(&t->cfg.model, t->anneal.steps);
  ract_step_ctx ctx = {&t->actor,   &t->critic, &t->aacts, &t->cacts,
                       &t->scratch, &t->anneal, t->comm};
  double s[7] = {0};  // sums of the 3 features, of their squares, and the count
  // Batches of the training batch's size: the batch buffers hold that many training rows.
  const int EB = std::min(t->cfg.train_batch_size, m->rows);
  const int n = owned_rows(t);
  for (int r0 = 0; r0 < n; r0 += EB) {
    const int nb = std::min(EB, n - r0);
    const ract_batch b = gather_rows(t, m, t->order + r0, nb, 1,
                                     draw_key(kDrawBnRefresh, RACT_STAGE_CRITIC_PRETRAIN, 0));
    RACT_CHECK(ract_model_critic_view(&ctx, &b, beta, 0, err));
    for (int i = 0; i < nb; i++) {
      for (int f = 0; f < 3; f++) {
        const double v = t->cacts.feat[i * 3 + f];
        s[f] += v;
        s[3 + f] += v * v;
      }
    }
  }
  s[6] = n;
  if (t->comm != nullptr && t->comm->size > 1) {
    RACT_CHECK(ract_comm_allreduce_sum_f64(t->comm, s, 7, err));
  }
  const double cnt = s[6];
  if (cnt < 2) return RACT_OK;
  for (int f = 0; f < 3; f++) {
    const double mu = s[f] / cnt;
    t->critic.bn_mean[f] = (float)mu;
    t->critic.bn_var[f] = (float)((s[3 + f] - cnt * mu * mu) / (cnt - 1));
  }
  return RACT_OK;
}

// Whether to stop before the next batch: the caller's flag (a signal), agreed over the
// replicas (any replica's request stops them all at the same batch).
static ract_status stop_requested(ract_trainer* t, int* stop, ract_error* err) {
  *stop = t->stop != nullptr ? *t->stop : 0;
  if (t->comm != nullptr && t->comm->size > 1) {
    RACT_CHECK(ract_comm_agree(t->comm, stop, RACT_COMM_MAX, err));
  }
  t->stopped = *stop;
  return RACT_OK;
}

// Sums a gradient buffer over the replicas (nothing to do for one process).
static ract_status sum_grads(ract_trainer* t, float* g, size_t n, ract_error* err) {
  if (t->comm == nullptr || t->comm->size <= 1) return RACT_OK;
  return ract_comm_allreduce_sum_f32(t->comm, g, n, err);
}

// The stage's start: a fresh Adam for what it trains (RecBole builds one per run; the
// paper's critic keeps its Adam from critic_pretrain into finetune), the annealing counter.
static ract_status stage_begin(ract_trainer* t, ract_stage s, ract_error* err) {
  const ract_train_config* c = &t->cfg;
  ract_stage_summary* sum = &t->stage[s];
  memset(sum, 0, sizeof(*sum));
  sum->ran = 1;
  sum->best_epoch = -1;
  if (s != RACT_STAGE_CRITIC_PRETRAIN) {
    t->adam_actor = ract_adam_make(c->stage_lr[s]);
    ract_params_zero_moments(&t->actor.w);
  }
  if (s == RACT_STAGE_CRITIC_PRETRAIN) {
    t->adam_critic = ract_adam_make(c->stage_lr[s]);
    ract_params_zero_moments(&t->critic.w);
    if (c->model.critic_bn_refresh && c->model.bn_mode == RACT_BN_RUNNING) {
      RACT_CHECK(bn_refresh(t, err));
    }
  }
  ract_anneal_stage_begin(&c->model, &t->anneal);
  // The stage's row orders come from its own stream: a stage shuffles the same batches
  // whichever stages ran before it (the arms of tools/ablate compare on identical batches).
  ract_rng_seed(&t->rng, c->seed, ract_rng_stream(draw_key(kDrawShuffle, s, 0), 0));
  t->cur.stage = s;
  t->cur.started = 1;
  t->cur.epoch = 0;
  t->cur.batch = 0;
  t->cur.begun = 0;
  t->cur.best = -INFINITY;
  t->cur.since_best = 0;
  return RACT_OK;
}

// Runs the rest of the current stage from the cursor (stage_begin done).
static ract_status stage_continue(ract_trainer* t, const ract_train_callbacks* cb,
                                  ract_error* err) {
  const ract_train_config* c = &t->cfg;
  const ract_stage s = (ract_stage)t->cur.stage;
  ract_stage_summary* sum = &t->stage[s];
  const int rows = t->data->train.rows;
  const int B = std::min(c->train_batch_size, rows);
  const int n_batches = c->drop_last ? rows / B : (rows + B - 1) / B;
  const int train_actor = s != RACT_STAGE_CRITIC_PRETRAIN;
  const int train_critic =
      s == RACT_STAGE_CRITIC_PRETRAIN || (s == RACT_STAGE_FINETUNE && c->model.finetune_critic &&
                                          c->model.finetune_objective == RACT_FINETUNE_CRITIC);
  ract_step_ctx model = {&t->actor,   &t->critic, &t->aacts, &t->cacts,
                         &t->scratch, &t->anneal, t->comm};
  ract_epoch_log* lg = &t->cur.log;

  while (t->cur.epoch < c->stage_epochs[s]) {
    const int epoch = t->cur.epoch;
    double t0 = ract_clock_seconds();
    int stop_now = 0;
    if (!t->cur.begun) {  // a new epoch: its order depends only on the RNG state
      RACT_CHECK(stop_requested(t, &stop_now, err));
      if (stop_now) {
        return ract_fail(err, RACT_ERR_INTERRUPTED, "interrupted in stage %s before epoch %d",
                         ract_stage_name(s), epoch + 1);
      }
      t->cur.begun = 1;
      for (int r = 0; r < rows; r++) t->order[r] = r;
      ract_rng_shuffle(&t->rng, t->order, rows);
      memset(lg, 0, sizeof(*lg));
      lg->stage = s;
      lg->epoch = epoch;
    }
    for (; t->cur.batch < n_batches; t->cur.batch++) {
      RACT_CHECK(stop_requested(t, &stop_now, err));
      if (stop_now) {
        return ract_fail(err, RACT_ERR_INTERRUPTED,
                         "interrupted in stage %s, epoch %d, before batch %d of %d",
                         ract_stage_name(s), epoch + 1, t->cur.batch + 1, n_batches);
      }
      const int bi = t->cur.batch;
      const int r0 = bi * B;
      const int n = std::min(B, rows - r0);
      const ract_batch batch = gather_batch(t, r0, n, draw_key(kDrawTrain, s, epoch));
      ract_step_stats st;
      ract_status ss = ract_model_step(&model, s, &batch, &st, err);
      if (ss == RACT_ERR_NUMERIC && err != nullptr) {
        char inner[sizeof(err->msg)];
        snprintf(inner, sizeof(inner), "%s", err->msg);
        return ract_fail(err, ss, "stage %s, epoch %d, batch %d: %s: lower the learning rate",
                         ract_stage_name(s), epoch + 1, bi + 1, inner);
      }
      if (ss != RACT_OK) return ss;
      if (train_actor) RACT_CHECK(sum_grads(t, t->actor.w.grads, t->actor.w.n, err));
      if (train_critic) RACT_CHECK(sum_grads(t, t->critic.w.grads, t->critic.w.n, err));
      if (train_actor) {
        ract_adam_step(&t->adam_actor, t->actor.w.params, t->actor.w.grads, t->actor.w.m,
                       t->actor.w.v, t->actor.w.n);
      }
      if (train_critic) {
        ract_adam_step(&t->adam_critic, t->critic.w.params, t->critic.w.grads, t->critic.w.m,
                       t->critic.w.v, t->critic.w.n);
      }
      lg->batches++;
      lg->loss += st.loss;
      lg->actor_loss += st.actor_loss;
      lg->ce += st.ce;
      lg->kl += st.kl;
      lg->beta = st.beta;
      lg->q += st.q;
      lg->target += st.target;
      lg->critic_loss += st.critic_loss;
      if (cb && cb->on_batch) cb->on_batch(cb->ctx, s, epoch, bi, n_batches, &st);
    }
    if ((train_actor && !all_finite(t->actor.w.params, t->actor.w.n)) ||
        (train_critic && !all_finite(t->critic.w.params, t->critic.w.n))) {
      return ract_fail(err, RACT_ERR_NUMERIC,
                       "non-finite parameter after stage %s, epoch %d: lower the learning rate",
                       ract_stage_name(s), epoch + 1);
    }
    ract_epoch_log done = *lg;  // the epoch's means
    if (done.batches > 0) {
      double inv = 1.0 / done.batches;
      done.loss *= inv;
      done.actor_loss *= inv;
      done.ce *= inv;
      done.kl *= inv;
      done.q *= inv;
      done.target *= inv;
      done.critic_loss *= inv;
    }
    done.seconds_train += ract_clock_seconds() - t0;
    done.valid = NAN;
    ract_metrics valid;
    memset(&valid, 0, sizeof(valid));
    int stop = 0;
    if (c->validate[s]) {
      const double tv = ract_clock_seconds();
      RACT_CHECK(ract_trainer_evaluate(t, &t->data->valid, &valid, err));
      done.seconds_valid = ract_clock_seconds() - tv;
      done.valid = ract_metrics_get(&valid, c->valid_metric);
      if (done.valid >= t->cur.best) {  // RecBole's rule: ties move the best forward
        t->cur.best = done.valid;
        sum->best_epoch = epoch;
        sum->best_valid = valid;
        t->cur.since_best = 0;
        snapshot(t, 1);
      } else if (c->stopping_step > 0 && ++t->cur.since_best > c->stopping_step) {
        stop = 1;
      }
    }
    sum->epochs = epoch + 1;
    sum->seconds += done.seconds_train + done.seconds_valid;
    if (t->n_log < t->cap_log) t->log[t->n_log++] = done;
    // The cursor moves before the callback, so a checkpoint written there resumes at the
    // next epoch.
    t->cur.epoch = stop ? c->stage_epochs[s] : epoch + 1;
    t->cur.batch = 0;
    t->cur.begun = 0;
    if (cb && cb->on_epoch) cb->on_epoch(cb->ctx, &done, c->validate[s] ? &valid : nullptr);
  }
  if (sum->best_epoch >= 0) {
    snapshot(t, 0);
  } else {
    RACT_CHECK(ract_trainer_evaluate(t, &t->data->valid, &sum->best_valid, err));
  }
  if (t->data->test.rows > 0) {  // reported, never used to choose anything
    RACT_CHECK(ract_trainer_evaluate(t, &t->data->test, &sum->test, err));
  }
  // The stage is over: the cursor points at the next stage that runs.
  int next = s + 1;
  while (next < RACT_STAGES && !c->run_stage[next]) next++;
  t->cur.stage = next;
  t->cur.started = 0;
  t->cur.epoch = 0;
  t->cur.batch = 0;
  t->cur.begun = 0;
  if (cb && cb->on_stage_end) cb->on_stage_end(cb->ctx, s);
  return RACT_OK;
}

ract_status ract_trainer_run(ract_trainer* t, const ract_train_callbacks* cb, ract_error* err) {
  while (t->cur.stage < RACT_STAGES) {
    const ract_stage s = (ract_stage)t->cur.stage;
    if (!t->cfg.run_stage[s]) {
      t->cur.stage++;
      continue;
    }
    if (!t->cur.started) RACT_CHECK(stage_begin(t, s, err));
    RACT_CHECK(stage_continue(t, cb, err));
  }
  return RACT_OK;
}

ract_status ract_trainer_run_stage(ract_trainer* t, ract_stage s, const ract_train_callbacks* cb,
                                   ract_error* err) {
  RACT_CHECK(stage_begin(t, s, err));
  return stage_continue(t, cb, err);
}

ract_status ract_trainer_critic_check(ract_trainer* t, int train_draws, float* q, float* target,
                                      int n_out, ract_critic_fit* fit, ract_error* err) {
  const ract_hparams* mc = &t->cfg.model;
  const float beta = ract_anneal_beta_at(mc, t->anneal.steps);
  // No communicator in the views: replicas see different numbers of batches (bn_mode batch
  // then normalises with each batch's own statistics); only the sums below are shared.
  ract_step_ctx ctx = {&t->actor,   &t->critic, &t->aacts, &t->cacts,
                       &t->scratch, &t->anneal, nullptr};
  // Sums of q, t, q^2, t^2, q*t and the count over this replica's pairs, then every replica's.
  double s[6] = {0};
  int got = 0;
  auto add = [&](int nb) {
    for (int b = 0; b < nb; b++) {
      const double qv = t->cacts.q[b], tv = t->cacts.target[b];
      s[0] += qv, s[1] += tv, s[2] += qv * qv, s[3] += tv * tv, s[4] += qv * tv, s[5] += 1;
      if (got < n_out) q[got] = (float)qv, target[got] = (float)tv, got++;
    }
  };
  // Every training user this replica holds, train_draws times (each draw its own masks)...
  const ract_csr* m = &t->data->train;
  const int B = std::min(t->cfg.train_batch_size, m->rows);
  const int n = owned_rows(t);
  for (int d = 0; d < train_draws; d++) {
    for (int r0 = 0; r0 < n; r0 += B) {
      const int nb = std::min(B, n - r0);
      const ract_batch b =
          gather_rows(t, m, t->order + r0, nb, 1, draw_key(kDrawCriticCheck, 0, d));
      RACT_CHECK(ract_model_critic_view(&ctx, &b, beta, 1, err));
      add(nb);
    }
  }
  for (int r = 0; r < m->rows; r++) t->order[r] = r;
  // ... and every validation user of this replica's block (ract_trainer_eval_block), once (its
  // training items as the history).
  const ract_csr* v = &t->data->valid.input;
  const int EB = t->eval_rows;
  int lo = 0, hi = 0;
  ract_trainer_eval_block(t->comm, v->rows, &lo, &hi);
  for (int r0 = lo; r0 < hi; r0 += EB) {
    const int nb = std::min(EB, hi - r0);
    ract_sparse x = ract_sparse_rows(ract_csr_view(v), r0, nb);
    for (int b = 0; b < nb; b++) t->batch_users[b] = r0 + b;
    const ract_batch b = {x, {t->cfg.seed, draw_key(kDrawCriticCheck, 1, 0), t->batch_users}, nb};
    RACT_CHECK(ract_model_critic_view(&ctx, &b, beta, 1, err));
    add(nb);
  }
  if (t->comm != nullptr && t->comm->size > 1) {
    RACT_CHECK(ract_comm_allreduce_sum_f64(t->comm, s, 6, err));
  }
  memset(fit, 0, sizeof(*fit));
  fit->pairs = (int64_t)s[5];
  fit->returned = got;
  if (s[5] > 1) {
    const double N = s[5], mq = s[0] / N, mt = s[1] / N;
    const double vq = s[2] / N - mq * mq, vt = s[3] / N - mt * mt, cqt = s[4] / N - mq * mt;
    fit->mean_q = mq;
    fit->mean_target = mt;
    fit->corr = vq > 0 && vt > 0 ? cqt / sqrt(vq * vt) : 0.0;
  }
  return RACT_OK;
}
