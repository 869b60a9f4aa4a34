// Train steps per stage: the order of operations of the seed's calculate_loss (step.h).
#include "ract/model/step.h"

#include <string.h>

#include <cmath>

namespace {

template <typename T>
double mean(const T* v, int n) {
  double s = 0;
  for (int i = 0; i < n; i++) s += v[i];
  return n > 0 ? s / n : 0.0;
}

}  // namespace

template <typename T>
ract_status ract_model_step(ract_step_ctx_t<T>* m, ract_stage stage, ract_sparse x, ract_rng* rng,
                            ract_step_stats* stats, ract_error* err) {
  if (!m || !m->actor || !m->critic || !m->aacts || !m->cacts || !m->anneal || !rng) {
    return ract_fail(err, RACT_ERR_ARG, "model_step: null argument");
  }
  if (stage != RACT_STAGE_ACTOR_PRETRAIN && !m->scratch) {
    return ract_fail(err, RACT_ERR_ARG, "model_step: the critic stages need a scratch arena");
  }
  ract_actor_t<T>* a = m->actor;
  ract_critic_t<T>* c = m->critic;
  ract_actor_acts_t<T>* aa = m->aacts;
  ract_critic_acts_t<T>* ca = m->cacts;
  const ract_hparams* cfg = &a->cfg;
  const int B = x.rows;
  ract_step_stats st;
  memset(&st, 0, sizeof(st));
  st.batch = B;

  const bool actor_batch = stage == RACT_STAGE_ACTOR_PRETRAIN;
  const float beta = ract_anneal_next(cfg, m->anneal, actor_batch);
  st.beta = beta;
  RACT_CHECK(ract_actor_forward(a, aa, x, RACT_MODE_TRAIN, rng, err));
  // The activations' B x I block: the logits, then dL/dlogits.
  T* logits = aa->logits;
  if (stage == RACT_STAGE_ACTOR_PRETRAIN) {
    // The upstream weights are known before the loss: loss and dL/dlogits in one sweep,
    // which also adds the output bias.
    for (int b = 0; b < B; b++) {
      aa->dce[b] = (T)1 / B;
      aa->dkl[b] = (T)beta / B;
    }
    ract_actor_logits(a, aa, logits, 0);
    st.actor_loss = ract_actor_loss_fused(a, aa, x, logits, beta, aa->dce);
  } else {
    ract_actor_logits(a, aa, logits, 1);
    st.actor_loss = ract_actor_loss(a, aa, x, logits, beta);
  }
  st.ce = mean(aa->ce, B);
  st.kl = mean(aa->kl, B);
  const int bn_batch = cfg->bn_mode == RACT_BN_BATCH;

  if (stage == RACT_STAGE_ACTOR_PRETRAIN) {
    ract_params_zero_grad(&a->w);
    if (!bn_batch) {  // paper: running statistics of the critic's features
      ract_critic_input(ca, c, aa);
      ract_critic_bn_collect(c, ca);
    }
    RACT_CHECK(ract_actor_backward(a, aa, x, logits, aa->dkl, err));
    st.loss = st.actor_loss;
  } else {
    // The target ranks the logits: before they become dL/dlogits.
    RACT_CHECK(ract_critic_target(ca, c, aa, logits, x, a->n_items, m->scratch, err));
    ract_critic_input(ca, c, aa);
    RACT_CHECK(ract_critic_forward(c, ca, bn_batch, bn_batch, err));
    st.q = mean(ca->q, B);
    st.target = mean(ca->target, B);
    const bool train_critic = stage == RACT_STAGE_CRITIC_PRETRAIN || (cfg->finetune_critic != 0);
    if (train_critic) {
      ract_params_zero_grad(&c->w);
      st.critic_loss = ract_critic_loss(c, ca);
      RACT_CHECK(ract_critic_backward(c, ca, 1, err));
    }
    if (stage == RACT_STAGE_CRITIC_PRETRAIN) {
      st.loss = st.critic_loss;
    } else {
      st.loss = ract_critic_ac_loss(ca);
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
  if (stats) *stats = st;
  if (!std::isfinite(st.loss) || !std::isfinite(st.actor_loss)) {
    return ract_fail(err, RACT_ERR_NUMERIC,
                     "model_step: stage %d loss %g, actor loss %g (ce %g, kl %g) on a batch of %d",
                     (int)stage, (double)st.loss, (double)st.actor_loss, (double)st.ce,
                     (double)st.kl, B);
  }
  return RACT_OK;
}

template ract_status ract_model_step<float>(ract_step_ctx_t<float>*, ract_stage, ract_sparse,
                                            ract_rng*, ract_step_stats*, ract_error*);
template ract_status ract_model_step<double>(ract_step_ctx_t<double>*, ract_stage, ract_sparse,
                                             ract_rng*, ract_step_stats*, ract_error*);
