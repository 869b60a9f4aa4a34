// Presets and checks of the model configuration (RACT_SPEC.md sections 1-3).
#include "ract/model/config.h"

#include <string.h>

ract_status ract_model_config_preset(ract_model_config* cfg, const char* preset, ract_error* err) {
  if (!cfg || !preset) return ract_fail(err, RACT_ERR_ARG, "config preset: null argument");
  const bool recbole = strcmp(preset, "recbole") == 0;
  if (!recbole && strcmp(preset, "paper") != 0) {
    return ract_fail(err, RACT_ERR_ARG, "preset: unknown name '%s' (recbole or paper)", preset);
  }
  memset(cfg, 0, sizeof(*cfg));
  cfg->n_hidden = 1;
  cfg->mlp_hidden_size[0] = 600;
  cfg->latent_dimension = recbole ? 256 : 200;
  cfg->dropout_prob = 0.5f;
  cfg->anneal_cap = 0.2f;
  cfg->total_anneal_steps = 200000;
  cfg->n_critic_layers = 3;
  cfg->critic_layers[0] = 100;
  cfg->critic_layers[1] = 100;
  cfg->critic_layers[2] = 10;
  cfg->metrics_k = 100;
  cfg->head = recbole ? RACT_HEAD_SPLIT : RACT_HEAD_TWO;
  cfg->dropout_style = recbole ? RACT_DROPOUT_KEEP : RACT_DROPOUT_INVERTED;
  cfg->eps_std = recbole ? 0.01f : 1.0f;
  cfg->critic_loss_with_kl = recbole ? 1 : 0;
  cfg->bn_mode = recbole ? RACT_BN_BATCH : RACT_BN_RUNNING;
  cfg->ndcg_gain_sqrt = recbole ? 1 : 0;
  cfg->init = recbole ? RACT_INIT_XAVIER_NORMAL : RACT_INIT_XAVIER_UNIFORM;
  cfg->anneal_rule = recbole ? RACT_ANNEAL_PER_LOSS : RACT_ANNEAL_PER_BATCH;
  cfg->critic_l2 = recbole ? 0.0f : 1e-4f;
  cfg->bn_eps = 1e-5f;
  cfg->bn_momentum = 0.1f;
  cfg->finetune_critic = recbole ? 0 : 1;
  return RACT_OK;
}

ract_status ract_model_config_check(const ract_model_config* cfg, ract_error* err) {
  if (!cfg) return ract_fail(err, RACT_ERR_ARG, "config: null");
  if (cfg->n_hidden < 1 || cfg->n_hidden > RACT_MAX_LAYERS) {
    return ract_fail(err, RACT_ERR_ARG, "mlp_hidden_size: %d entries (1..%d)", cfg->n_hidden,
                     RACT_MAX_LAYERS);
  }
  for (int j = 0; j < cfg->n_hidden; j++) {
    if (cfg->mlp_hidden_size[j] < 1) {
      return ract_fail(err, RACT_ERR_ARG, "mlp_hidden_size[%d] = %d (must be >= 1)", j,
                       cfg->mlp_hidden_size[j]);
    }
  }
  if (cfg->n_critic_layers < 1 || cfg->n_critic_layers > RACT_MAX_LAYERS) {
    return ract_fail(err, RACT_ERR_ARG, "critic_layers: %d entries (1..%d)", cfg->n_critic_layers,
                     RACT_MAX_LAYERS);
  }
  for (int j = 0; j < cfg->n_critic_layers; j++) {
    if (cfg->critic_layers[j] < 1) {
      return ract_fail(err, RACT_ERR_ARG, "critic_layers[%d] = %d (must be >= 1)", j,
                       cfg->critic_layers[j]);
    }
  }
  if (cfg->head != RACT_HEAD_SPLIT && cfg->head != RACT_HEAD_TWO) {
    return ract_fail(err, RACT_ERR_ARG, "head style: %d", (int)cfg->head);
  }
  if (ract_model_latent(cfg) < 1 ||
      (cfg->head == RACT_HEAD_SPLIT && cfg->latent_dimension % 2 != 0)) {
    return ract_fail(err, RACT_ERR_ARG,
                     "latent_dimension = %d (>= 1; even with the split head of recbole)",
                     cfg->latent_dimension);
  }
  if (!(cfg->dropout_prob >= 0.0f && cfg->dropout_prob < 1.0f)) {
    return ract_fail(err, RACT_ERR_ARG, "dropout_prob = %g (must be in [0, 1))",
                     (double)cfg->dropout_prob);
  }
  if (!(cfg->anneal_cap >= 0.0f)) {
    return ract_fail(err, RACT_ERR_ARG, "anneal_cap = %g (must be >= 0)", (double)cfg->anneal_cap);
  }
  if (cfg->metrics_k < 1) {
    return ract_fail(err, RACT_ERR_ARG, "metrics_k = %d (must be >= 1)", cfg->metrics_k);
  }
  if (!(cfg->eps_std >= 0.0f)) {
    return ract_fail(err, RACT_ERR_ARG, "eps_std = %g (must be >= 0)", (double)cfg->eps_std);
  }
  if (!(cfg->bn_eps > 0.0f) || !(cfg->bn_momentum >= 0.0f && cfg->bn_momentum <= 1.0f)) {
    return ract_fail(err, RACT_ERR_ARG, "bn_eps = %g (> 0), bn_momentum = %g (in [0, 1])",
                     (double)cfg->bn_eps, (double)cfg->bn_momentum);
  }
  if (!(cfg->critic_l2 >= 0.0f)) {
    return ract_fail(err, RACT_ERR_ARG, "critic_l2 = %g (must be >= 0)", (double)cfg->critic_l2);
  }
  return RACT_OK;
}

int ract_model_latent(const ract_model_config* cfg) {
  return cfg->head == RACT_HEAD_SPLIT ? cfg->latent_dimension / 2 : cfg->latent_dimension;
}

float ract_model_eval_scale(const ract_model_config* cfg) {
  return cfg->dropout_style == RACT_DROPOUT_KEEP ? 1.0f - cfg->dropout_prob : 1.0f;
}

float ract_anneal_beta_at(const ract_model_config* cfg, int64_t steps) {
  if (cfg->total_anneal_steps <= 0) return cfg->anneal_cap;
  const double b = (double)steps / (double)cfg->total_anneal_steps;
  return b < cfg->anneal_cap ? (float)b : cfg->anneal_cap;
}

void ract_anneal_stage_begin(const ract_model_config* cfg, ract_anneal* a) {
  if (cfg->anneal_rule == RACT_ANNEAL_PER_LOSS) a->steps = 0;
}

float ract_anneal_next(const ract_model_config* cfg, ract_anneal* a, int actor_training_batch) {
  if (cfg->anneal_rule == RACT_ANNEAL_PER_LOSS) {
    a->steps++;
    return ract_anneal_beta_at(cfg, a->steps);
  }
  const float beta = ract_anneal_beta_at(cfg, a->steps);
  if (actor_training_batch) a->steps++;
  return beta;
}
