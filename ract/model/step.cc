// Train steps per stage: the order of operations of the seed's calculate_loss (step.h).
#include "ract/model/step.h"

#include <string.h>

#include <cmath>

namespace {

template <typename T>
double sum(const T* v, int n) {
  double s = 0;
  for (int i = 0; i < n; i++) s += v[i];
  return s;
}

// The step's numbers as sums over this replica's rows, summed over the replicas, then the
// whole batch's means.
enum { kLoss, kActorLoss, kCe, kKl, kQ, kTarget, kCriticLoss, kSums };

ract_status finish_stats(ract_comm* comm, double* s, int total, ract_step_stats* st,
                         ract_error* err) {
  if (comm != nullptr && comm->size > 1) {
    RACT_CHECK(ract_comm_allreduce_sum_f64(comm, s, kSums, err));
  }
  st->loss = s[kLoss] / total;
  st->actor_loss = s[kActorLoss] / total;
  st->ce = s[kCe] / total;
  st->kl = s[kKl] / total;
  st->q = s[kQ] / total;
  st->target = s[kTarget] / total;
  st->critic_loss = s[kCriticLoss];  // already a share of the whole batch's mean
  return RACT_OK;
}

}  // namespace

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
  ract_step_stats st;
  memset(&st, 0, sizeof(st));
  st.batch = n;
  double s[kSums] = {0};

  const bool actor_batch = stage == RACT_STAGE_ACTOR_PRETRAIN;
  const float beta = ract_anneal_next(cfg, m->anneal, actor_batch);
  st.beta = beta;
  RACT_CHECK(ract_actor_forward(a, aa, x, RACT_MODE_TRAIN, &batch->draws, err));
  // The activations' B x I block: the logits, then dL/dlogits.
  T* logits = aa->logits;
  if (stage == RACT_STAGE_ACTOR_PRETRAIN) {
    // The upstream weights are known before the loss: loss and dL/dlogits in one sweep,
    // which also adds the output bias.
    for (int b = 0; b < B; b++) {
      aa->dce[b] = (T)1 / n;
      aa->dkl[b] = (T)beta / n;
    }
    ract_actor_logits(a, aa, logits, 0);
    ract_actor_loss_fused(a, aa, x, logits, beta, aa->dce);
  } else {
    ract_actor_logits(a, aa, logits, 1);
    ract_actor_loss(a, aa, x, logits, beta);
  }
  s[kActorLoss] = sum(aa->loss, B);
  s[kCe] = sum(aa->ce, B);
  s[kKl] = sum(aa->kl, B);
  const int bn_batch = cfg->bn_mode == RACT_BN_BATCH;
  ca->comm = m->comm;

  if (stage == RACT_STAGE_ACTOR_PRETRAIN) {
    ract_params_zero_grad(&a->w);
    if (!bn_batch) {  // paper: running statistics of the critic's features
      ract_critic_input(ca, c, aa);
      ca->total = n;
      RACT_CHECK(ract_critic_bn_collect(c, ca, err));
    }
    RACT_CHECK(ract_actor_backward(a, aa, x, logits, aa->dkl, err));
    s[kLoss] = s[kActorLoss];
  } else {
    // The target ranks the logits: before they become dL/dlogits.
    RACT_CHECK(ract_critic_target(ca, c, aa, logits, x, a->n_items, m->scratch, err));
    ract_critic_input(ca, c, aa);
    ca->total = n;
    RACT_CHECK(ract_critic_forward(c, ca, bn_batch, bn_batch, err));
    s[kQ] = sum(ca->q, B);
    s[kTarget] = sum(ca->target, B);
    const bool train_critic = stage == RACT_STAGE_CRITIC_PRETRAIN || (cfg->finetune_critic != 0);
    if (train_critic) {
      ract_params_zero_grad(&c->w);
      s[kCriticLoss] = ract_critic_loss(c, ca);
      RACT_CHECK(ract_critic_backward(c, ca, 1, err));
    }
    if (stage == RACT_STAGE_CRITIC_PRETRAIN) {
      s[kLoss] = s[kCriticLoss] * n;  // finish_stats divides by n
    } else {
      s[kLoss] = -s[kQ];
      ract_critic_ac_loss(ca);
      RACT_CHECK(ract_critic_backward(c, ca, 0, err));
      for (int b = 0; b < B; b++) {
        aa->dce[b] = ca->dfeat[b * 3 + 2];
        aa->dkl[b] = (T)beta * aa->dce[b];
      }
      ract_actor_dlogits(a, aa, x, logits, aa->dce);
      ract_params_zero_grad(&a->w);
      RACT_CHECK(
          ract_actor_backward(a, aa, x, logits, cfg->critic_loss_with_kl ? aa->dkl : nullptr, err));
    }
  }
  RACT_CHECK(finish_stats(m->comm, s, n, &st, err));
  if (stats) *stats = st;
  if (!std::isfinite(st.loss) || !std::isfinite(st.actor_loss)) {
    return ract_fail(err, RACT_ERR_NUMERIC,
                     "model_step: stage %d loss %g, actor loss %g (ce %g, kl %g) on a batch of %d",
                     (int)stage, (double)st.loss, (double)st.actor_loss, (double)st.ce,
                     (double)st.kl, n);
  }
  return RACT_OK;
}

template ract_status ract_model_step<float>(ract_step_ctx_t<float>*, ract_stage, const ract_batch*,
                                            ract_step_stats*, ract_error*);
template ract_status ract_model_step<double>(ract_step_ctx_t<double>*, ract_stage,
                                             const ract_batch*, ract_step_stats*, ract_error*);
