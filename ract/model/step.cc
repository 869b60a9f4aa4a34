// Train steps per stage: the order of operations of the seed's calculate_loss (step.h).
#include "ract/model/step.h"

#include <math.h>
#include <string.h>

#include <cmath>

namespace {

template <typename T>
double sum(const T* v, int n) {
  double s = 0;
  for (int i = 0; i < n; i++) s += v[i];
  return s;
}

// v[0..n) summed over the replicas (nothing to do for one process).
ract_status replica_sum(ract_comm* comm, double* v, int n, ract_error* err) {
  if (comm == nullptr || comm->size <= 1) return RACT_OK;
  return ract_comm_allreduce_sum_f64(comm, v, (size_t)n, err);
}

// The step's numbers as sums over this replica's rows, summed over the replicas, then the
// whole batch's means.
enum { kLoss, kActorLoss, kCe, kKl, kQ, kTarget, kCriticLoss, kSums };

ract_status finish_stats(ract_comm* comm, double* s, int total, ract_step_stats* st,
                         ract_error* err) {
  RACT_CHECK(replica_sum(comm, s, kSums, err));
  st->loss = s[kLoss] / total;
  st->actor_loss = s[kActorLoss] / total;
  st->ce = s[kCe] / total;
  st->kl = s[kKl] / total;
  st->q = s[kQ] / total;
  st->target = s[kTarget] / total;
  st->critic_loss = s[kCriticLoss];  // already a share of the whole batch's mean
  return RACT_OK;
}

// The critic's view of the batch: the train-mode forward, the complete logits and the actor's
// loss at beta, the NDCG target, the held-out CE where it is the loss feature, and the
// critic's features. The logits are left as the held-out CE leaves them (kept items at -inf)
// or complete.
template <typename T>
ract_status critic_view(ract_step_ctx_t<T>* m, const ract_batch* batch, float beta,
                        ract_error* err) {
  ract_actor_t<T>* a = m->actor;
  ract_actor_acts_t<T>* aa = m->aacts;
  ract_critic_acts_t<T>* ca = m->cacts;
  const ract_sparse x = batch->x;
  RACT_CHECK(ract_actor_forward(a, aa, x, RACT_MODE_TRAIN, &batch->draws, err));
  ract_actor_logits(a, aa, aa->logits, 1);
  ract_actor_loss(a, aa, x, aa->logits, beta);
  // The target ranks the logits: before anything rewrites them.
  RACT_CHECK(ract_critic_target(ca, m->critic, aa, aa->logits, x, a->n_items, m->scratch, err));
  if (a->cfg.critic_loss_feature == RACT_FEATURE_HELDOUT) {
    ract_actor_heldout_loss(a, aa, x, aa->logits);
  }
  ract_critic_input(ca, m->critic, aa, beta);
  ca->total = batch->total;
  ca->comm = m->comm;
  return RACT_OK;
}

}  // namespace

template <typename T>
ract_status ract_model_critic_view(ract_step_ctx_t<T>* m, const ract_batch* batch, float beta,
                                   int with_q, ract_error* err) {
  if (!m || !m->actor || !m->critic || !m->aacts || !m->cacts || !m->scratch || !batch) {
    return ract_fail(err, RACT_ERR_ARG, "model_critic_view: null argument");
  }
  RACT_CHECK(critic_view(m, batch, beta, err));
  if (!with_q) return RACT_OK;
  return ract_critic_forward(m->critic, m->cacts, m->actor->cfg.bn_mode == RACT_BN_BATCH, 0, err);
}

template <typename T>
ract_status ract_model_step(ract_step_ctx_t<T>* m, ract_stage stage, const ract_batch* batch,
                            ract_step_stats* stats, ract_error* err) {
  if (!m || !m->actor || !m->critic || !m->aacts || !m->cacts || !m->anneal || !batch) {
    return ract_fail(err, RACT_ERR_ARG, "model_step: null argument");
  }
  if (stage != RACT_STAGE_ACTOR_PRETRAIN && !m->scratch) {
    return ract_fail(err, RACT_ERR_ARG, "model_step: the critic stages need a scratch arena");
  }
  const ract_sparse x = batch->x;
  const int B = x.rows, n = batch->total;
  if (n < 1 || B > n) {
    return ract_fail(err, RACT_ERR_ARG, "model_step: %d rows of a batch of %d", B, n);
  }
  ract_actor_t<T>* a = m->actor;
  ract_critic_t<T>* c = m->critic;
  ract_actor_acts_t<T>* aa = m->aacts;
  ract_critic_acts_t<T>* ca = m->cacts;
  const ract_hparams* cfg = &a->cfg;
  const bool heldout = cfg->critic_loss_feature == RACT_FEATURE_HELDOUT;
  const int bn_batch = cfg->bn_mode == RACT_BN_BATCH;
  ract_step_stats st;
  memset(&st, 0, sizeof(st));
  st.batch = n;
  double s[kSums] = {0};
  const bool actor_batch = stage == RACT_STAGE_ACTOR_PRETRAIN;
  const float beta = ract_anneal_next(cfg, m->anneal, actor_batch);
  st.beta = beta;
  T* logits = aa->logits;  // the activations' B x I block: the logits, then dL/dlogits
  ca->comm = m->comm;

  if (stage == RACT_STAGE_ACTOR_PRETRAIN) {
    // paper: the critic's BatchNorm collects running statistics of its features (unless the
    // critic stage starts from fresh ones: critic_bn_refresh).
    const bool collect = !bn_batch && !cfg->critic_bn_refresh;
    for (int b = 0; b < B; b++) {
      aa->dce[b] = (T)1 / n;
      aa->dkl[b] = (T)beta / n;
    }
    RACT_CHECK(ract_actor_forward(a, aa, x, RACT_MODE_TRAIN, &batch->draws, err));
    if (!(collect && heldout)) {
      // The upstream weights are known before the loss: loss and dL/dlogits in one sweep,
      // which also adds the output bias.
      ract_actor_logits(a, aa, logits, 0);
      ract_actor_loss_fused(a, aa, x, logits, beta, aa->dce);
    } else {  // the held-out CE needs the complete logits first
      ract_actor_logits(a, aa, logits, 1);
      ract_actor_loss(a, aa, x, logits, beta);
      ract_actor_dlogits(a, aa, x, logits, aa->dce);
    }
    s[kLoss] = s[kActorLoss] = sum(aa->loss, B);
    s[kCe] = sum(aa->ce, B);
    s[kKl] = sum(aa->kl, B);
    if (collect) {
      ract_critic_input(ca, c, aa, beta);  // hce is 0 here: heldout needs the unfused path
      ca->total = n;
      RACT_CHECK(ract_critic_bn_collect(c, ca, err));
    }
    ract_params_zero_grad(&a->w);
    RACT_CHECK(ract_actor_backward(a, aa, x, logits, aa->dkl, err));
    RACT_CHECK(finish_stats(m->comm, s, n, &st, err));
    if (stats) *stats = st;
    if (!std::isfinite(st.loss)) {
      return ract_fail(err, RACT_ERR_NUMERIC,
                       "model_step: actor loss %g (ce %g, kl %g) on a batch of %d", st.loss, st.ce,
                       st.kl, n);
    }
    return RACT_OK;
  }

  // critic_pretrain and finetune: the critic's view of the batch (its features need the
  // actor's loss), unless a finetune control runs without the critic.
  const ract_finetune_objective obj =
      stage == RACT_STAGE_FINETUNE ? cfg->finetune_objective : RACT_FINETUNE_CRITIC;
  if (obj == RACT_FINETUNE_CRITIC) {
    RACT_CHECK(critic_view(m, batch, beta, err));
    RACT_CHECK(ract_critic_forward(c, ca, bn_batch, bn_batch, err));
    s[kQ] = sum(ca->q, B);
    s[kTarget] = sum(ca->target, B);
    if (stage == RACT_STAGE_CRITIC_PRETRAIN || cfg->finetune_critic) {
      ract_params_zero_grad(&c->w);
      s[kCriticLoss] = ract_critic_loss(c, ca);
      RACT_CHECK(ract_critic_backward(c, ca, 1, err));
    }
  } else {
    RACT_CHECK(ract_actor_forward(a, aa, x, RACT_MODE_TRAIN, &batch->draws, err));
    ract_actor_logits(a, aa, logits, 1);
    ract_actor_loss(a, aa, x, logits, beta);
    if (obj == RACT_FINETUNE_FEATURE && heldout) ract_actor_heldout_loss(a, aa, x, logits);
  }
  s[kActorLoss] = sum(aa->loss, B);
  s[kCe] = sum(aa->ce, B);
  s[kKl] = sum(aa->kl, B);

  if (stage == RACT_STAGE_CRITIC_PRETRAIN) {
    s[kLoss] = s[kCriticLoss] * n;  // finish_stats divides by n
  } else {
    // The actor's per-user weights on its loss (dce) and KL (dkl), and that loss.
    bool with_kl = true;
    bool on_heldout = false;
    if (obj == RACT_FINETUNE_CRITIC) {
      // -mean(Q) through the critic and BatchNorm: dQ/dL per user.
      s[kLoss] = -s[kQ];
      ract_critic_ac_loss(ca);
      RACT_CHECK(ract_critic_backward(c, ca, 0, err));
      for (int b = 0; b < B; b++) aa->dce[b] = ca->dfeat[b * 3 + 2];
      if (cfg->critic_weight_norm) {
        // Scaled to sum 1 over the whole batch (the step size of a uniform loss), then mixed
        // with the uniform 1/B.
        double sw = 0;
        for (int b = 0; b < B; b++) sw += fabs((double)aa->dce[b]);
        RACT_CHECK(replica_sum(m->comm, &sw, 1, err));
        const double mix = cfg->critic_weight_mix;
        for (int b = 0; b < B; b++) {
          const double w = sw > 0 ? aa->dce[b] / sw : 0.0;
          aa->dce[b] = (T)((1 - mix) * w + mix / n);
        }
      }
      with_kl = cfg->critic_loss_with_kl != 0;
      on_heldout = heldout;
    } else if (obj == RACT_FINETUNE_LIKELIHOOD) {
      for (int b = 0; b < B; b++) aa->dce[b] = (T)1 / n;
      s[kLoss] = s[kActorLoss];
    } else {  // the critic's loss feature, every user 1/B
      for (int b = 0; b < B; b++) aa->dce[b] = (T)1 / n;
      with_kl = cfg->critic_loss_with_kl != 0;
      on_heldout = heldout;
      s[kLoss] = (on_heldout ? sum(aa->hce, B) : s[kCe]) + (with_kl ? beta * s[kKl] : 0.0);
    }
    for (int b = 0; b < B; b++) aa->dkl[b] = (T)beta * aa->dce[b];
    if (on_heldout) {
      ract_actor_heldout_dlogits(a, aa, x, logits, aa->dce);
    } else {
      ract_actor_dlogits(a, aa, x, logits, aa->dce);
    }
    ract_params_zero_grad(&a->w);
    RACT_CHECK(ract_actor_backward(a, aa, x, logits, with_kl ? aa->dkl : nullptr, err));
  }
  RACT_CHECK(finish_stats(m->comm, s, n, &st, err));
  if (stats) *stats = st;
  if (!std::isfinite(st.loss) || !std::isfinite(st.actor_loss)) {
    return ract_fail(err, RACT_ERR_NUMERIC,
                     "model_step: stage %d loss %g, actor loss %g (ce %g, kl %g) on a batch of %d",
                     (int)stage, st.loss, st.actor_loss, st.ce, st.kl, n);
  }
  return RACT_OK;
}

#define RACT_STEP_INSTANTIATE(T)                                                                \
  template ract_status ract_model_step<T>(ract_step_ctx_t<T>*, ract_stage, const ract_batch*,   \
                                          ract_step_stats*, ract_error*);                       \
  template ract_status ract_model_critic_view<T>(ract_step_ctx_t<T>*, const ract_batch*, float, \
                                                 int, ract_error*);
RACT_STEP_INSTANTIATE(float)
RACT_STEP_INSTANTIATE(double)
