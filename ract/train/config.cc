// Training configuration: presets as key=value lines, one parser, one formatter (config.h).
#include "ract/train/config.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ract/core/parse.h"

namespace {

constexpr int kMaxBatch = 1 << 24;

// The schedule of each preset; the model's keys come from ract_hparams_preset.
const char* const kPresets[][2] = {
    {"recbole",
     "train_stage=all pretrain_epochs=150 critic_epochs=50 epochs=300 learning_rate=1e-3 "
     "critic_learning_rate=1e-4 finetune_learning_rate=2e-6 train_batch_size=2048 drop_last=0 "
     "validate=finetune stopping_step=10 valid_metric=mrr@10 topk=10,100 eval_batch=2048 "
     "threads=1 seed=2020"},
    {"paper",
     "train_stage=all pretrain_epochs=100 critic_epochs=50 epochs=50 learning_rate=1e-3 "
     "critic_learning_rate=1e-4 finetune_learning_rate=2e-6 train_batch_size=500 drop_last=1 "
     "validate=actor_pretrain,finetune stopping_step=0 valid_metric=ndcg@100 topk=10,100 "
     "eval_batch=1024 threads=1 seed=2020"},
    // The paper's schedule with 100 users a batch, beta's ramp over 20 epochs of the data
    // (total_anneal_epochs x anneal_cap), the critic at lr 1e-3 and the finetune at 1e-4.
    {"ract",
     "train_stage=all pretrain_epochs=100 critic_epochs=50 epochs=50 learning_rate=1e-3 "
     "critic_learning_rate=1e-3 finetune_learning_rate=1e-4 train_batch_size=100 "
     "total_anneal_epochs=100 drop_last=1 validate=actor_pretrain,finetune stopping_step=0 "
     "valid_metric=ndcg@100 topk=10,100 eval_batch=1024 threads=1 seed=2020"},
};

// Stage names, comma-separated, into flags; "all" and "none" too.
bool parse_stages(const char* v, int* flags) {
  int f[RACT_STAGES] = {0, 0, 0};
  if (strcmp(v, "all") == 0) {
    for (int s = 0; s < RACT_STAGES; s++) flags[s] = 1;
    return true;
  }
  if (strcmp(v, "none") != 0) {
    const char* p = v;
    while (true) {
      const char* e = strchr(p, ',');
      const size_t n = e ? (size_t)(e - p) : strlen(p);
      int found = -1;
      for (int s = 0; s < RACT_STAGES; s++) {
        const char* name = ract_stage_name((ract_stage)s);
        if (strlen(name) == n && strncmp(p, name, n) == 0) found = s;
      }
      if (found < 0 || f[found]) return false;
      f[found] = 1;
      if (!e) break;
      p = e + 1;
    }
  }
  memcpy(flags, f, sizeof(f));
  return true;
}

// "name@K": a lower-case metric name, '@', a cut-off without sign or leading zero.
bool metric_syntax(const char* v) {
  const char* at = strchr(v, '@');
  if (at == nullptr || at == v || at[1] < '1' || at[1] > '9') return false;
  for (const char* p = v; p < at; p++) {
    if (!islower((unsigned char)*p) && *p != '_') return false;
  }
  for (const char* p = at + 1; *p; p++) {
    if (!isdigit((unsigned char)*p)) return false;
  }
  return true;
}

int metric_ok(const ract_train_config* c) {
  ract_metrics m;
  if (ract_metrics_init(&m, c->topk, c->n_topk, nullptr) != RACT_OK) return 0;
  return !isnan(ract_metrics_get(&m, c->valid_metric));
}

bool set_int(const char* v, int64_t lo, int64_t hi, int* out) {
  int64_t x;
  if (!ract_parse_int(v, lo, hi, &x)) return false;
  *out = (int)x;
  return true;
}

const char* const kLrKeys[] = {"learning_rate", "critic_learning_rate", "finetune_learning_rate"};
const char* const kEpochKeys[] = {"pretrain_epochs", "critic_epochs", "epochs"};

}  // namespace

const char* ract_stage_name(ract_stage s) {
  switch (s) {
    case RACT_STAGE_ACTOR_PRETRAIN:
      return "actor_pretrain";
    case RACT_STAGE_CRITIC_PRETRAIN:
      return "critic_pretrain";
    case RACT_STAGE_FINETUNE:
      return "finetune";
  }
  return "?";
}

int ract_stage_parse(const char* name) {
  for (int s = 0; s < RACT_STAGES; s++) {
    if (strcmp(name, ract_stage_name((ract_stage)s)) == 0) return s;
  }
  return -1;
}

ract_status ract_train_config_preset(ract_train_config* c, const char* name, ract_error* err) {
  for (const auto& p : kPresets) {
    if (strcmp(p[0], name) != 0) continue;
    memset(c, 0, sizeof(*c));
    RACT_CHECK(ract_hparams_preset(&c->model, name, err));
    snprintf(c->preset, sizeof(c->preset), "%s", name);
    char buf[1024];
    snprintf(buf, sizeof(buf), "%s", p[1]);
    char* save = nullptr;
    for (char* kv = strtok_r(buf, " ", &save); kv; kv = strtok_r(nullptr, " ", &save)) {
      char* eq = strchr(kv, '=');
      *eq = 0;
      RACT_CHECK(ract_train_config_set(c, kv, eq + 1, err));
    }
    return RACT_OK;
  }
  return ract_fail(err, RACT_ERR_ARG, "preset: unknown name '%s' (recbole, paper or ract)", name);
}

ract_status ract_train_config_set(ract_train_config* cfg, const char* key, const char* v,
                                  ract_error* err) {
  if (!cfg || !key || !v) return ract_fail(err, RACT_ERR_ARG, "train config: null argument");
  ract_train_config c = *cfg;
  bool ok = true;
  const char* expect = "";
  int64_t seed;
  int stage = -1;
  for (int s = 0; s < RACT_STAGES; s++) {
    if (strcmp(key, kLrKeys[s]) == 0 || strcmp(key, kEpochKeys[s]) == 0) stage = s;
  }
  if (stage >= 0 && strcmp(key, kEpochKeys[stage]) == 0) {
    ok = set_int(v, 0, 1000000, &c.stage_epochs[stage]);
    expect = "epochs in [0, 1000000]";
  } else if (stage >= 0) {
    ok = ract_parse_float(v, 0.0, 10.0, &c.stage_lr[stage]) != 0;
    expect = "a rate in [0, 10]";
  } else if (strcmp(key, "train_stage") == 0) {
    const int s = ract_stage_parse(v);
    ok = s >= 0 || strcmp(v, "all") == 0;
    for (int k = 0; ok && k < RACT_STAGES; k++) c.run_stage[k] = s < 0 || k == s;
    expect = "all, actor_pretrain, critic_pretrain or finetune";
  } else if (strcmp(key, "validate") == 0) {
    ok = parse_stages(v, c.validate);
    expect = "stage names separated by commas, all or none";
  } else if (strcmp(key, "train_batch_size") == 0) {
    ok = set_int(v, 1, kMaxBatch, &c.train_batch_size);
    expect = "a size in [1, 2^24]";
  } else if (strcmp(key, "total_anneal_epochs") == 0) {
    ok = set_int(v, 0, 1000000, &c.total_anneal_epochs);
    expect = "epochs in [0, 1000000] (0: total_anneal_steps as given)";
  } else if (strcmp(key, "eval_batch") == 0) {
    ok = set_int(v, 1, 1 << 20, &c.eval_batch);
    expect = "a size in [1, 2^20]";
  } else if (strcmp(key, "drop_last") == 0) {
    ok = set_int(v, 0, 1, &c.drop_last);
    expect = "0 or 1";
  } else if (strcmp(key, "stopping_step") == 0) {
    ok = set_int(v, 0, 1000000, &c.stopping_step);
    expect = "a patience >= 0 (0: never stop early)";
  } else if (strcmp(key, "threads") == 0) {
    ok = set_int(v, 1, 256, &c.threads);
    expect = "a thread count in [1, 256]";
  } else if (strcmp(key, "seed") == 0) {
    ok = ract_parse_int(v, 0, INT64_MAX, &seed) != 0;
    if (ok) c.seed = (uint64_t)seed;
    expect = "an integer >= 0";
  } else if (strcmp(key, "valid_metric") == 0) {
    // RecBole writes MRR@10: case does not matter.
    const size_t len = strlen(v);
    ok = len < sizeof(c.valid_metric);
    for (size_t k = 0; ok && k <= len; k++) c.valid_metric[k] = (char)tolower((unsigned char)v[k]);
    ok = ok && metric_syntax(c.valid_metric);
    expect = "a metric such as ndcg@100, mrr@10 or recall@20";
  } else if (strcmp(key, "topk") == 0) {
    ok = ract_parse_int_list(v, 1, 1 << 24, c.topk, RACT_METRICS_MAX_K, &c.n_topk) != 0;
    for (int i = 0; ok && i < c.n_topk; i++) {
      for (int j = 0; j < i; j++) ok = ok && c.topk[i] != c.topk[j];
    }
    expect = "a list of up to 8 distinct cut-offs such as 10,100";
  } else {
    ract_error e = {};
    const ract_status s = ract_hparams_set(&c.model, key, v, &e);
    if (s != RACT_OK) {
      if (strstr(e.msg, "unknown key") != nullptr) {
        return ract_fail(err, RACT_ERR_ARG, "unknown key '%s'", key);
      }
      const char* m = strncmp(e.msg, "model config: ", 14) == 0 ? e.msg + 14 : e.msg;
      return ract_fail(err, s, "%s", m);
    }
  }
  if (!ok) return ract_fail(err, RACT_ERR_ARG, "%s = '%s': expected %s", key, v, expect);
  *cfg = c;
  return RACT_OK;
}

int ract_train_config_format(const ract_train_config* c, char* buf, size_t size) {
  size_t w = 0;
  auto put = [&](const char* fmt, auto... a) {
    const int n = snprintf(buf + (w < size ? w : size), w < size ? size - w : 0, fmt, a...);
    if (n > 0) w += (size_t)n;
  };
  auto stages = [&](const char* key, const int* f) {
    int n = 0;
    put(" %s=", key);
    for (int s = 0; s < RACT_STAGES; s++) {
      if (f[s]) put("%s%s", n++ ? "," : "", ract_stage_name((ract_stage)s));
    }
    if (n == 0) put("none");
  };
  put("preset=%s", c->preset);
  if (c->run_stage[0] && c->run_stage[1] && c->run_stage[2]) {
    put(" train_stage=all");
  } else {
    stages("train_stage", c->run_stage);
  }
  for (int s = 0; s < RACT_STAGES; s++) put(" %s=%d", kEpochKeys[s], c->stage_epochs[s]);
  for (int s = 0; s < RACT_STAGES; s++) put(" %s=%.9g", kLrKeys[s], (double)c->stage_lr[s]);
  put(" train_batch_size=%d total_anneal_epochs=%d drop_last=%d", c->train_batch_size,
      c->total_anneal_epochs, c->drop_last);
  stages("validate", c->validate);
  put(" stopping_step=%d valid_metric=%s topk=", c->stopping_step, c->valid_metric);
  for (int i = 0; i < c->n_topk; i++) put("%s%d", i ? "," : "", c->topk[i]);
  put(" eval_batch=%d threads=%d seed=%llu ", c->eval_batch, c->threads,
      (unsigned long long)c->seed);
  const int n =
      ract_hparams_format(&c->model, w < size ? buf + w : nullptr, w < size ? size - w : 0);
  return (int)w + (n > 0 ? n : 0);
}

ract_status ract_train_config_check(const ract_train_config* c, ract_error* err) {
  if (c == nullptr) return ract_fail(err, RACT_ERR_ARG, "train config: null");
  if (memchr(c->preset, 0, sizeof(c->preset)) == nullptr ||
      memchr(c->valid_metric, 0, sizeof(c->valid_metric)) == nullptr) {
    return ract_fail(err, RACT_ERR_ARG, "train config: preset or valid_metric not terminated");
  }
  if (c->train_batch_size < 1 || c->eval_batch < 1) {
    return ract_fail(err, RACT_ERR_ARG, "train_batch_size and eval batch must be >= 1");
  }
  if (c->train_batch_size > kMaxBatch || c->eval_batch > kMaxBatch) {
    return ract_fail(err, RACT_ERR_ARG, "train_batch_size %d or eval batch %d: more than %d rows",
                     c->train_batch_size, c->eval_batch, kMaxBatch);
  }
  if (c->n_topk < 1 || c->n_topk > RACT_METRICS_MAX_K) {
    return ract_fail(err, RACT_ERR_ARG, "topk: %d cut-offs (1..%d)", c->n_topk, RACT_METRICS_MAX_K);
  }
  if (!metric_ok(c)) {
    char ks[128] = "";
    for (int i = 0, w = 0; i < c->n_topk && w < (int)sizeof(ks); i++) {
      w += snprintf(ks + w, sizeof(ks) - w, "%s%d", i ? "," : "", c->topk[i]);
    }
    return ract_fail(err, RACT_ERR_ARG,
                     "valid_metric=%s: not one of the computed metrics (recall, mrr, ndcg, hit or "
                     "precision @ a cut-off of topk=%s)",
                     c->valid_metric, ks);
  }
  if (c->threads < 1 || c->threads > 256) {
    return ract_fail(err, RACT_ERR_ARG, "threads = %d (1..256)", c->threads);
  }
  if (c->stopping_step < 0 || c->total_anneal_epochs < 0) {
    return ract_fail(err, RACT_ERR_ARG, "negative stopping_step or total_anneal_epochs");
  }
  int64_t total_epochs = 0;  // three ints: their sum may not fit one
  for (int s = 0; s < RACT_STAGES; s++) {
    if (c->stage_epochs[s] < 0) return ract_fail(err, RACT_ERR_ARG, "negative epochs");
    if (!(c->stage_lr[s] >= 0.0f && isfinite(c->stage_lr[s]))) {
      return ract_fail(err, RACT_ERR_ARG, "stage %s: learning rate %g (finite, >= 0)",
                       ract_stage_name((ract_stage)s), (double)c->stage_lr[s]);
    }
    total_epochs += c->stage_epochs[s];
  }
  if (total_epochs > (1 << 24)) {
    return ract_fail(err, RACT_ERR_ARG, "%lld epochs in all: more than %d", (long long)total_epochs,
                     1 << 24);
  }
  return ract_hparams_check(&c->model, err);
}

ract_status ract_train_config_same_run(const ract_train_config* a, const ract_train_config* b,
                                       ract_error* err) {
  char fa[4096], fb[4096];
  ract_train_config_format(a, fa, sizeof(fa));
  ract_train_config_format(b, fb, sizeof(fb));
  char* sa = nullptr;
  char* sb = nullptr;
  for (char *ta = strtok_r(fa, " ", &sa), *tb = strtok_r(fb, " ", &sb);
       ta != nullptr || tb != nullptr;
       ta = strtok_r(nullptr, " ", &sa), tb = strtok_r(nullptr, " ", &sb)) {
    if (ta != nullptr && tb != nullptr && strncmp(ta, "threads=", 8) == 0 &&
        strncmp(tb, "threads=", 8) == 0) {
      continue;
    }
    // With total_anneal_epochs (compared on its own), the trainer derives total_anneal_steps
    // from the data, which the checkpoint's data hash pins.
    if (ta != nullptr && tb != nullptr && a->total_anneal_epochs > 0 &&
        a->total_anneal_epochs == b->total_anneal_epochs &&
        strncmp(ta, "total_anneal_steps=", 19) == 0 &&
        strncmp(tb, "total_anneal_steps=", 19) == 0) {
      continue;
    }
    if (ta == nullptr || tb == nullptr || strcmp(ta, tb) != 0) {
      return ract_fail(err, RACT_ERR_ARG, "the checkpoint's run has %s, the command line %s",
                       ta ? ta : "(nothing)", tb ? tb : "(nothing)");
    }
  }
  return RACT_OK;
}

void ract_train_config_timed(ract_train_config* c, int epochs, const int* run) {
  for (int s = 0; s < RACT_STAGES; s++) {
    c->stage_epochs[s] = epochs;
    c->validate[s] = 0;
    c->run_stage[s] = run[s];
  }
  c->stopping_step = 0;
}
