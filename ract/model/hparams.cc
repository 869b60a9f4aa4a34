// Presets and checks of the model configuration (ract/model/README.md, "Presets").
#include "ract/model/hparams.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ract/core/parse.h"

// Widths are at most 2^24: with at most 2^31 items every size in bytes fits size_t.
constexpr int kMaxWidth = 1 << 24;

ract_status ract_hparams_check(const ract_hparams* cfg, ract_error* err) {
  if (!cfg) return ract_fail(err, RACT_ERR_ARG, "config: null");
  if (cfg->n_hidden < 1 || cfg->n_hidden > RACT_MAX_LAYERS) {
    return ract_fail(err, RACT_ERR_ARG, "mlp_hidden_size: %d entries (1..%d)", cfg->n_hidden,
                     RACT_MAX_LAYERS);
  }
  for (int j = 0; j < cfg->n_hidden; j++) {
    if (cfg->mlp_hidden_size[j] < 1 || cfg->mlp_hidden_size[j] > kMaxWidth) {
      return ract_fail(err, RACT_ERR_ARG, "mlp_hidden_size[%d] = %d (must be in [1, 2^24])", j,
                       cfg->mlp_hidden_size[j]);
    }
  }
  if (cfg->n_critic_layers < 1 || cfg->n_critic_layers > RACT_MAX_LAYERS) {
    return ract_fail(err, RACT_ERR_ARG, "critic_layers: %d entries (1..%d)", cfg->n_critic_layers,
                     RACT_MAX_LAYERS);
  }
  for (int j = 0; j < cfg->n_critic_layers; j++) {
    if (cfg->critic_layers[j] < 1 || cfg->critic_layers[j] > kMaxWidth) {
      return ract_fail(err, RACT_ERR_ARG, "critic_layers[%d] = %d (must be in [1, 2^24])", j,
                       cfg->critic_layers[j]);
    }
  }
  if (cfg->head != RACT_HEAD_SPLIT && cfg->head != RACT_HEAD_TWO) {
    return ract_fail(err, RACT_ERR_ARG, "head style: %d", (int)cfg->head);
  }
  if (ract_hparams_latent(cfg) < 1 || cfg->latent_dimension > kMaxWidth ||
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
  if (cfg->metrics_k < 1 || cfg->metrics_k > kMaxWidth) {
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
  // The switches are checked as integers: a config may come from a checkpoint file.
  if ((unsigned)cfg->critic_loss_feature > 1u || (unsigned)cfg->finetune_objective > 2u ||
      (unsigned)cfg->critic_weight_norm > 1u || (unsigned)cfg->critic_bn_refresh > 1u) {
    return ract_fail(err, RACT_ERR_ARG,
                     "critic_loss_feature %d, finetune_objective %d, critic_weight_norm %d, "
                     "critic_bn_refresh %d: out of range",
                     (int)cfg->critic_loss_feature, (int)cfg->finetune_objective,
                     cfg->critic_weight_norm, cfg->critic_bn_refresh);
  }
  if (!(cfg->critic_weight_mix >= 0.0f && cfg->critic_weight_mix <= 1.0f) ||
      (cfg->critic_weight_mix > 0.0f && !cfg->critic_weight_norm)) {
    return ract_fail(err, RACT_ERR_ARG,
                     "critic_weight_mix = %g: in [0, 1], and above 0 only with "
                     "critic_weight_norm=1",
                     (double)cfg->critic_weight_mix);
  }
  return RACT_OK;
}

int ract_hparams_latent(const ract_hparams* cfg) {
  return cfg->head == RACT_HEAD_SPLIT ? cfg->latent_dimension / 2 : cfg->latent_dimension;
}

float ract_hparams_eval_scale(const ract_hparams* cfg) {
  return cfg->dropout_style == RACT_DROPOUT_KEEP ? 1.0f - cfg->dropout_prob : 1.0f;
}

float ract_anneal_beta_at(const ract_hparams* cfg, int64_t steps) {
  if (cfg->total_anneal_steps <= 0) return cfg->anneal_cap;
  const double b = (double)steps / (double)cfg->total_anneal_steps;
  return b < cfg->anneal_cap ? (float)b : cfg->anneal_cap;
}

void ract_anneal_stage_begin(const ract_hparams* cfg, ract_anneal* a) {
  if (cfg->anneal_rule == RACT_ANNEAL_PER_LOSS) a->steps = 0;
}

float ract_anneal_next(const ract_hparams* cfg, ract_anneal* a, int actor_training_batch) {
  if (cfg->anneal_rule == RACT_ANNEAL_PER_LOSS) {
    a->steps++;
    return ract_anneal_beta_at(cfg, a->steps);
  }
  const float beta = ract_anneal_beta_at(cfg, a->steps);
  if (actor_training_batch) a->steps++;
  return beta;
}

namespace {

// The keys, llm.c style: one table drives both ract_hparams_set and _format. Each entry
// names a field (a byte offset into ract_hparams), its kind and range; an enum has two
// names for its values 0 and 1 (a list: the count field too).
enum kind { K_INT, K_INT64, K_FLOAT, K_LIST, K_ENUM, K_ENUM3 };
struct key_def {
  const char* key;
  kind k;
  size_t field;
  double lo, hi;
  int open_hi;          // K_FLOAT: hi itself refused
  size_t count;         // K_LIST: offset of the entry count
  const char* name[3];  // K_ENUM: the names of 0 and 1 (K_ENUM3: and 2)
  const char* expect;
};

#define F(m) offsetof(ract_hparams, m)
const key_def kKeys[] = {
    {"mlp_hidden_size",
     K_LIST,
     F(mlp_hidden_size),
     1,
     1 << 24,
     0,
     F(n_hidden),
     {},
     "a list of 1..8 sizes >= 1, e.g. [600]"},
    {"latent_dimension", K_INT, F(latent_dimension), 1, 1 << 24, 0, 0, {}, "an integer >= 1"},
    {"dropout_prob", K_FLOAT, F(dropout_prob), 0, 1, 1, 0, {}, "a number in [0, 1)"},
    {"anneal_cap", K_FLOAT, F(anneal_cap), 0, HUGE_VAL, 0, 0, {}, "a finite number >= 0"},
    {"total_anneal_steps",
     K_INT64,
     F(total_anneal_steps),
     -1,
     (double)((int64_t)1 << 62),
     0,
     0,
     {},
     "an integer >= -1 (<= 0: beta = anneal_cap)"},
    {"critic_layers",
     K_LIST,
     F(critic_layers),
     1,
     1 << 24,
     0,
     F(n_critic_layers),
     {},
     "a list of 1..8 sizes >= 1, e.g. [100,100,10]"},
    {"metrics_k", K_INT, F(metrics_k), 1, 1 << 24, 0, 0, {}, "an integer >= 1"},
    {"head", K_ENUM, F(head), 0, 1, 0, 0, {"split", "two"}, "split or two"},
    {"dropout_style",
     K_ENUM,
     F(dropout_style),
     0,
     1,
     0,
     0,
     {"keep", "inverted"},
     "keep or inverted"},
    {"eps_std", K_FLOAT, F(eps_std), 0, HUGE_VAL, 0, 0, {}, "a finite number >= 0"},
    {"critic_loss_with_kl", K_INT, F(critic_loss_with_kl), 0, 1, 0, 0, {}, "0 or 1"},
    {"bn_mode", K_ENUM, F(bn_mode), 0, 1, 0, 0, {"batch", "running"}, "batch or running"},
    {"ndcg_gain", K_ENUM, F(ndcg_gain_sqrt), 0, 1, 0, 0, {"one", "sqrt"}, "sqrt or one"},
    {"init",
     K_ENUM,
     F(init),
     0,
     1,
     0,
     0,
     {"xavier_normal", "xavier_uniform"},
     "xavier_normal or xavier_uniform"},
    {"anneal_rule",
     K_ENUM,
     F(anneal_rule),
     0,
     1,
     0,
     0,
     {"per_loss", "per_batch"},
     "per_loss or per_batch"},
    {"critic_l2", K_FLOAT, F(critic_l2), 0, HUGE_VAL, 0, 0, {}, "a finite number >= 0"},
    {"bn_eps", K_FLOAT, F(bn_eps), 0, HUGE_VAL, 0, 0, {}, "a finite number > 0"},
    {"bn_momentum", K_FLOAT, F(bn_momentum), 0, 1, 0, 0, {}, "a number in [0, 1]"},
    {"finetune_critic", K_INT, F(finetune_critic), 0, 1, 0, 0, {}, "0 or 1"},
    {"critic_loss_feature",
     K_ENUM,
     F(critic_loss_feature),
     0,
     1,
     0,
     0,
     {"ce", "heldout_ce"},
     "ce or heldout_ce"},
    {"finetune_objective",
     K_ENUM3,
     F(finetune_objective),
     0,
     2,
     0,
     0,
     {"critic", "likelihood", "feature"},
     "critic, likelihood or feature"},
    {"critic_weight_norm", K_INT, F(critic_weight_norm), 0, 1, 0, 0, {}, "0 or 1"},
    {"critic_weight_mix", K_FLOAT, F(critic_weight_mix), 0, 1, 0, 0, {}, "a number in [0, 1]"},
    {"critic_bn_refresh", K_INT, F(critic_bn_refresh), 0, 1, 0, 0, {}, "0 or 1"},
};
#undef F

// The presets: every key, as text through ract_hparams_set.
const char* const kPresets[][2] = {
    {"recbole",
     "mlp_hidden_size=[600] latent_dimension=256 dropout_prob=0.5 anneal_cap=0.2 "
     "total_anneal_steps=200000 critic_layers=[100,100,10] metrics_k=100 head=split "
     "dropout_style=keep eps_std=0.01 critic_loss_with_kl=1 bn_mode=batch ndcg_gain=sqrt "
     "init=xavier_normal anneal_rule=per_loss critic_l2=0 bn_eps=1e-5 bn_momentum=0.1 "
     "finetune_critic=0"},
    {"paper",
     "mlp_hidden_size=[600] latent_dimension=200 dropout_prob=0.5 anneal_cap=0.2 "
     "total_anneal_steps=200000 critic_layers=[100,100,10] metrics_k=100 head=two "
     "dropout_style=inverted eps_std=1 critic_loss_with_kl=0 bn_mode=running ndcg_gain=one "
     "init=xavier_uniform anneal_rule=per_batch critic_l2=1e-4 bn_eps=1e-5 bn_momentum=0.1 "
     "finetune_critic=1"},
    // The paper's model with a critic that sees the held-out CE, small VAE noise, BatchNorm
    // statistics of the pretrained actor, and finetune weights half the critic's, half uniform
    // (ract/model/README.md, "The ract preset").
    {"ract",
     "mlp_hidden_size=[600] latent_dimension=200 dropout_prob=0.5 anneal_cap=0.2 "
     "total_anneal_steps=200000 critic_layers=[100,100,10] metrics_k=100 head=two "
     "dropout_style=inverted eps_std=0.01 critic_loss_with_kl=1 bn_mode=running ndcg_gain=one "
     "init=xavier_uniform anneal_rule=per_batch critic_l2=1e-4 bn_eps=1e-5 bn_momentum=0.1 "
     "finetune_critic=1 critic_loss_feature=heldout_ce critic_bn_refresh=1 critic_weight_norm=1 "
     "critic_weight_mix=0.5"},
};

template <typename V>
V* at(ract_hparams* c, size_t field) {
  return (V*)((char*)c + field);
}
template <typename V>
const V* at(const ract_hparams* c, size_t field) {
  return (const V*)((const char*)c + field);
}

bool parse(const key_def& d, const char* v, ract_hparams* c) {
  int64_t iv;
  float fv;
  switch (d.k) {
    case K_INT:
      if (!ract_parse_int(v, (int64_t)d.lo, (int64_t)d.hi, &iv)) return false;
      *at<int>(c, d.field) = (int)iv;
      return true;
    case K_INT64:
      if (!ract_parse_int(v, (int64_t)d.lo, (int64_t)d.hi, &iv)) return false;
      *at<int64_t>(c, d.field) = iv;
      return true;
    case K_FLOAT:
      if (!ract_parse_float(v, d.lo, d.hi, &fv) || (d.open_hi && fv >= d.hi)) return false;
      *at<float>(c, d.field) = fv;
      return true;
    case K_LIST:
      return ract_parse_int_list(v, (int64_t)d.lo, (int64_t)d.hi, at<int>(c, d.field),
                                 RACT_MAX_LAYERS, at<int>(c, d.count)) != 0;
    case K_ENUM:
    case K_ENUM3:
      for (int e = 0; e < (d.k == K_ENUM3 ? 3 : 2); e++) {
        if (strcmp(v, d.name[e]) == 0) {
          *at<int>(c, d.field) = e;
          return true;
        }
      }
      return false;
  }
  return false;
}

}  // namespace

ract_status ract_hparams_preset(ract_hparams* cfg, const char* preset, ract_error* err) {
  if (!cfg || !preset) return ract_fail(err, RACT_ERR_ARG, "config preset: null argument");
  for (const auto& p : kPresets) {
    if (strcmp(p[0], preset) != 0) continue;
    memset(cfg, 0, sizeof(*cfg));
    return ract_hparams_set_all(cfg, p[1], err);
  }
  return ract_fail(err, RACT_ERR_ARG, "preset: unknown name '%s' (recbole, paper or ract)", preset);
}

ract_status ract_hparams_set(ract_hparams* cfg, const char* key, const char* value,
                             ract_error* err) {
  if (!cfg || !key || !value) return ract_fail(err, RACT_ERR_ARG, "config_set: null argument");
  for (const key_def& d : kKeys) {
    if (strcmp(key, d.key) != 0) continue;
    ract_hparams c = *cfg;
    if (!parse(d, value, &c)) {
      return ract_fail(err, RACT_ERR_ARG, "model config: %s = '%s': expected %s", key, value,
                       d.expect);
    }
    if (d.k == K_FLOAT && strcmp(key, "bn_eps") == 0 && !(c.bn_eps > 0.0f)) {
      return ract_fail(err, RACT_ERR_ARG, "model config: %s = '%s': expected %s", key, value,
                       d.expect);
    }
    *cfg = c;
    return RACT_OK;
  }
  return ract_fail(err, RACT_ERR_ARG, "model config: unknown key '%s'", key);
}

ract_status ract_hparams_set_all(ract_hparams* cfg, const char* line, ract_error* err) {
  char buf[2048];
  if (!line || strlen(line) >= sizeof(buf)) {
    return ract_fail(err, RACT_ERR_ARG, "model config: a line of key=value pairs too long");
  }
  snprintf(buf, sizeof(buf), "%s", line);
  char* save = nullptr;
  for (char* kv = strtok_r(buf, " ", &save); kv; kv = strtok_r(nullptr, " ", &save)) {
    char* eq = strchr(kv, '=');
    if (!eq) return ract_fail(err, RACT_ERR_ARG, "model config: '%s' is not key=value", kv);
    *eq = 0;
    RACT_CHECK(ract_hparams_set(cfg, kv, eq + 1, err));
  }
  return RACT_OK;
}

int ract_hparams_format(const ract_hparams* c, char* buf, size_t size) {
  size_t w = 0;
  auto put = [&](const char* fmt, auto... a) {
    const int n = snprintf(buf + (w < size ? w : size), w < size ? size - w : 0, fmt, a...);
    if (n > 0) w += (size_t)n;
  };
  for (const key_def& d : kKeys) {
    put("%s%s=", w ? " " : "", d.key);
    switch (d.k) {
      case K_INT:
        put("%d", *at<int>(c, d.field));
        break;
      case K_INT64:
        put("%lld", (long long)*at<int64_t>(c, d.field));
        break;
      case K_FLOAT:
        put("%.9g", (double)*at<float>(c, d.field));
        break;
      case K_LIST:
        for (int j = 0; j < *at<int>(c, d.count); j++) {
          put("%s%d", j ? "," : "[", at<int>(c, d.field)[j]);
        }
        put("]");
        break;
      case K_ENUM:
      case K_ENUM3: {
        const int e = *at<int>(c, d.field);
        put("%s", d.name[e >= 0 && e < (d.k == K_ENUM3 ? 3 : 2) ? e : 0]);
        break;
      }
    }
  }
  return (int)w;
}
