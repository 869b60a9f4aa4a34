// Presets and checks of the model configuration (ract/model/README.md, "Presets").
#include "ract/model/config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ract/core/parse.h"

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
  if (!(cfg->anneal_cap >= 0.0f && isfinite(cfg->anneal_cap))) {
    return ract_fail(err, RACT_ERR_ARG, "anneal_cap = %g (must be finite, >= 0)",
                     (double)cfg->anneal_cap);
  }
  if (cfg->metrics_k < 1) {
    return ract_fail(err, RACT_ERR_ARG, "metrics_k = %d (must be >= 1)", cfg->metrics_k);
  }
  if (!(cfg->eps_std >= 0.0f && isfinite(cfg->eps_std))) {
    return ract_fail(err, RACT_ERR_ARG, "eps_std = %g (must be finite, >= 0)",
                     (double)cfg->eps_std);
  }
  if (!(cfg->bn_eps > 0.0f && isfinite(cfg->bn_eps)) ||
      !(cfg->bn_momentum >= 0.0f && cfg->bn_momentum <= 1.0f)) {
    return ract_fail(err, RACT_ERR_ARG, "bn_eps = %g (> 0), bn_momentum = %g (in [0, 1])",
                     (double)cfg->bn_eps, (double)cfg->bn_momentum);
  }
  if (!(cfg->critic_l2 >= 0.0f && isfinite(cfg->critic_l2))) {
    return ract_fail(err, RACT_ERR_ARG, "critic_l2 = %g (must be finite, >= 0)",
                     (double)cfg->critic_l2);
  }
  if (cfg->total_anneal_steps < -1) {
    return ract_fail(err, RACT_ERR_ARG, "total_anneal_steps = %lld (must be >= -1)",
                     (long long)cfg->total_anneal_steps);
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

namespace {

bool parse_int(const char* s, long long lo, long long hi, long long* out) {
  int64_t v;
  if (!ract_parse_int(s, lo, hi, &v)) return false;
  *out = v;
  return true;
}

// A number in [lo, hi] (finite as a float); open_hi: hi itself is refused.
bool parse_float(const char* s, double lo, double hi, bool open_hi, float* out) {
  float v;
  if (!ract_parse_float(s, lo, hi, &v) || (open_hi && v >= hi)) return false;
  *out = v;
  return true;
}

// "[a,b,c]" or "a,b,c" (ract/core/parse.h) into 1..RACT_MAX_LAYERS sizes in [1, 2^24].
bool parse_list(const char* s, int* out, int* n) {
  return ract_parse_int_list(s, 1, 1 << 24, out, RACT_MAX_LAYERS, n) != 0;
}

template <typename E>
bool parse_enum(const char* s, const char* a, const char* b, E ea, E eb, E* out) {
  if (strcmp(s, a) == 0) {
    *out = ea;
    return true;
  }
  if (strcmp(s, b) == 0) {
    *out = eb;
    return true;
  }
  return false;
}

}  // namespace

ract_status ract_model_config_set(ract_model_config* cfg, const char* key, const char* value,
                                  ract_error* err) {
  if (!cfg || !key || !value) return ract_fail(err, RACT_ERR_ARG, "config_set: null argument");
  ract_model_config c = *cfg;
  long long iv = 0;
  bool ok = true;
  const char* expect = "";
  if (strcmp(key, "mlp_hidden_size") == 0) {
    ok = parse_list(value, c.mlp_hidden_size, &c.n_hidden);
    expect = "a list of 1..8 sizes >= 1, e.g. [600]";
  } else if (strcmp(key, "critic_layers") == 0) {
    ok = parse_list(value, c.critic_layers, &c.n_critic_layers);
    expect = "a list of 1..8 sizes >= 1, e.g. [100,100,10]";
  } else if (strcmp(key, "latent_dimension") == 0) {
    ok = parse_int(value, 1, 1 << 24, &iv);
    c.latent_dimension = (int)iv;
    expect = "an integer >= 1";
  } else if (strcmp(key, "metrics_k") == 0) {
    ok = parse_int(value, 1, 1 << 24, &iv);
    c.metrics_k = (int)iv;
    expect = "an integer >= 1";
  } else if (strcmp(key, "total_anneal_steps") == 0) {
    ok = parse_int(value, -1, (long long)1 << 62, &iv);
    c.total_anneal_steps = iv;
    expect = "an integer >= -1 (<= 0: beta = anneal_cap)";
  } else if (strcmp(key, "critic_loss_with_kl") == 0 || strcmp(key, "finetune_critic") == 0) {
    ok = parse_int(value, 0, 1, &iv);
    (strcmp(key, "finetune_critic") == 0 ? c.finetune_critic : c.critic_loss_with_kl) = (int)iv;
    expect = "0 or 1";
  } else if (strcmp(key, "dropout_prob") == 0) {
    ok = parse_float(value, 0, 1, true, &c.dropout_prob);
    expect = "a number in [0, 1)";
  } else if (strcmp(key, "anneal_cap") == 0) {
    ok = parse_float(value, 0, HUGE_VAL, false, &c.anneal_cap);
    expect = "a finite number >= 0";
  } else if (strcmp(key, "eps_std") == 0) {
    ok = parse_float(value, 0, HUGE_VAL, false, &c.eps_std);
    expect = "a finite number >= 0";
  } else if (strcmp(key, "critic_l2") == 0) {
    ok = parse_float(value, 0, HUGE_VAL, false, &c.critic_l2);
    expect = "a finite number >= 0";
  } else if (strcmp(key, "bn_eps") == 0) {
    ok = parse_float(value, 0, HUGE_VAL, false, &c.bn_eps) && c.bn_eps > 0.0f;
    expect = "a finite number > 0";
  } else if (strcmp(key, "bn_momentum") == 0) {
    ok = parse_float(value, 0, 1, false, &c.bn_momentum);
    expect = "a number in [0, 1]";
  } else if (strcmp(key, "head") == 0) {
    ok = parse_enum(value, "split", "two", RACT_HEAD_SPLIT, RACT_HEAD_TWO, &c.head);
    expect = "split or two";
  } else if (strcmp(key, "dropout_style") == 0) {
    ok = parse_enum(value, "keep", "inverted", RACT_DROPOUT_KEEP, RACT_DROPOUT_INVERTED,
                    &c.dropout_style);
    expect = "keep or inverted";
  } else if (strcmp(key, "bn_mode") == 0) {
    ok = parse_enum(value, "batch", "running", RACT_BN_BATCH, RACT_BN_RUNNING, &c.bn_mode);
    expect = "batch or running";
  } else if (strcmp(key, "ndcg_gain") == 0) {
    ok = parse_enum(value, "one", "sqrt", 0, 1, &c.ndcg_gain_sqrt);
    expect = "sqrt or one";
  } else if (strcmp(key, "init") == 0) {
    ok = parse_enum(value, "xavier_normal", "xavier_uniform", RACT_INIT_XAVIER_NORMAL,
                    RACT_INIT_XAVIER_UNIFORM, &c.init);
    expect = "xavier_normal or xavier_uniform";
  } else if (strcmp(key, "anneal_rule") == 0) {
    ok = parse_enum(value, "per_loss", "per_batch", RACT_ANNEAL_PER_LOSS, RACT_ANNEAL_PER_BATCH,
                    &c.anneal_rule);
    expect = "per_loss or per_batch";
  } else {
    return ract_fail(err, RACT_ERR_ARG, "model config: unknown key '%s'", key);
  }
  if (!ok) {
    return ract_fail(err, RACT_ERR_ARG, "model config: %s = '%s': expected %s", key, value, expect);
  }
  *cfg = c;
  return RACT_OK;
}

int ract_model_config_format(const ract_model_config* c, char* buf, size_t size) {
  char hid[128] = "[", crit[128] = "[";
  for (int j = 0; j < c->n_hidden; j++) {
    size_t n = strlen(hid);
    snprintf(hid + n, sizeof(hid) - n, "%s%d", j ? "," : "", c->mlp_hidden_size[j]);
  }
  strcat(hid, "]");
  for (int j = 0; j < c->n_critic_layers; j++) {
    size_t n = strlen(crit);
    snprintf(crit + n, sizeof(crit) - n, "%s%d", j ? "," : "", c->critic_layers[j]);
  }
  strcat(crit, "]");
  return snprintf(
      buf, size,
      "mlp_hidden_size=%s latent_dimension=%d dropout_prob=%.9g anneal_cap=%.9g "
      "total_anneal_steps=%lld critic_layers=%s metrics_k=%d head=%s dropout_style=%s "
      "eps_std=%.9g critic_loss_with_kl=%d bn_mode=%s ndcg_gain=%s init=%s anneal_rule=%s "
      "critic_l2=%.9g bn_eps=%.9g bn_momentum=%.9g finetune_critic=%d",
      hid, c->latent_dimension, (double)c->dropout_prob, (double)c->anneal_cap,
      (long long)c->total_anneal_steps, crit, c->metrics_k,
      c->head == RACT_HEAD_SPLIT ? "split" : "two",
      c->dropout_style == RACT_DROPOUT_KEEP ? "keep" : "inverted", (double)c->eps_std,
      c->critic_loss_with_kl, c->bn_mode == RACT_BN_BATCH ? "batch" : "running",
      c->ndcg_gain_sqrt ? "sqrt" : "one",
      c->init == RACT_INIT_XAVIER_NORMAL ? "xavier_normal" : "xavier_uniform",
      c->anneal_rule == RACT_ANNEAL_PER_LOSS ? "per_loss" : "per_batch", (double)c->critic_l2,
      (double)c->bn_eps, (double)c->bn_momentum, c->finetune_critic);
}
