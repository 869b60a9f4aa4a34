// tools/train's flags (train_flags.h): the flag ladder, then the checks that need every
// flag (valid_metric against --topk, --resume against --init_from, the whole config).
#include "tools/train_flags.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <string>

#include "ract/eval/metrics.h"
#include "tools/flags.h"

namespace {

ract_status bad(ract_error* err, const char* arg, const char* expected) {
  return ract_fail(err, RACT_ERR_ARG, "%s: expected %s", arg, expected);
}

// "name@K": a metric name, '@', a cut-off without sign or leading zero.
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

void list(char* buf, size_t size, const int* v, int n) {
  size_t w = 0;
  buf[0] = '\0';
  for (int i = 0; i < n && w < size; i++) {
    w += (size_t)snprintf(buf + w, size - w, "%s%d", i ? "," : "", v[i]);
  }
}

// One run-determining field as text, for the --resume comparison.
struct Field {
  const char* key;
  char value[128];
};

void add(Field* f, int* n, const char* key, const char* fmt, ...)
    __attribute__((format(printf, 4, 5)));
void add(Field* f, int* n, const char* key, const char* fmt, ...) {
  f[*n].key = key;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(f[*n].value, sizeof(f[*n].value), fmt, ap);
  va_end(ap);
  ++*n;
}

// Every field of c that determines the run but the model's (ract_model_config_format
// lists those), in a fixed order. Returns the count.
int run_fields(const ract_train_config* c, Field* f) {
  int n = 0;
  char buf[128];
  add(f, &n, "preset", "%s", c->preset);
  buf[0] = '\0';
  for (int s = 0; s < RACT_STAGES; s++) {
    if (c->run_stage[s]) {
      size_t w = strlen(buf);
      snprintf(buf + w, sizeof(buf) - w, "%s%s", w ? "," : "", ract_stage_name((ract_stage)s));
    }
  }
  add(f, &n, "train_stage", "%s",
      c->run_stage[0] && c->run_stage[1] && c->run_stage[2] ? "all" : buf);
  add(f, &n, "pretrain_epochs", "%d", c->stage_epochs[0]);
  add(f, &n, "critic_epochs", "%d", c->stage_epochs[1]);
  add(f, &n, "epochs", "%d", c->stage_epochs[2]);
  add(f, &n, "learning_rate", "%.9g", (double)c->stage_lr[0]);
  add(f, &n, "critic_learning_rate", "%.9g", (double)c->stage_lr[1]);
  add(f, &n, "finetune_learning_rate", "%.9g", (double)c->stage_lr[2]);
  add(f, &n, "finetune critic learning rate (preset)", "%.9g", (double)c->finetune_critic_lr);
  list(buf, sizeof(buf), c->validate, RACT_STAGES);
  add(f, &n, "validation per stage (preset)", "%s", buf);
  add(f, &n, "stopping_step", "%d", c->stopping_step[RACT_STAGE_FINETUNE]);
  list(buf, sizeof(buf), c->stopping_step, 2);
  add(f, &n, "stopping_step of the first two stages (preset)", "%s", buf);
  add(f, &n, "train_batch_size", "%d", c->train_batch_size);
  add(f, &n, "drop_last (preset)", "%d", c->drop_last);
  add(f, &n, "valid_metric", "%s", c->valid_metric);
  list(buf, sizeof(buf), c->topk, c->n_topk);
  add(f, &n, "topk", "%s", buf);
  add(f, &n, "eval_batch", "%d", c->eval_batch);
  add(f, &n, "seed", "%llu", (unsigned long long)c->seed);
  return n;
}

}  // namespace

ract_status ract_train_flags_parse(ract_train_flags* f, int argc, char** argv, ract_error* err) {
  memset(f, 0, sizeof(*f));
  f->out = "model.ract";
  f->dtype = RACT_FILE_F32;
  const char* preset = "paper";
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      f->help = 1;
      return RACT_OK;
    }
    if (const char* v = ract_flag_value(argv[i], "preset")) preset = v;
  }
  if (ract_train_config_preset(&f->cfg, preset, nullptr) != RACT_OK) {
    return ract_fail(err, RACT_ERR_ARG, "--preset=%s: expected paper or recbole", preset);
  }
  ract_data_flags_init(&f->data);
  ract_train_config* cfg = &f->cfg;
  bool topk_dup = false;
  for (int i = 1; i < argc; i++) {
    const char* a = argv[i];
    const char* v;
    int r = ract_data_flags_parse(&f->data, a, err);
    if (r < 0) return err != nullptr ? err->status : RACT_ERR_ARG;
    if (r > 0) continue;
    if (ract_flag_value(a, "preset")) {
    } else if (!strcmp(a, "--quiet")) {
      f->quiet = 1;
    } else if ((v = ract_flag_value(a, "train_stage"))) {
      int s = ract_stage_parse(v);
      if (strcmp(v, "all") != 0 && s < 0) {
        return bad(err, a, "all, actor_pretrain, critic_pretrain or finetune");
      }
      for (int k = 0; k < RACT_STAGES; k++) cfg->run_stage[k] = s < 0 || k == s;
    } else if ((v = ract_flag_value(a, "out"))) {
      f->out = v;
    } else if ((v = ract_flag_value(a, "report"))) {
      f->report = v;
    } else if ((v = ract_flag_value(a, "plot"))) {
      f->plot = v;
    } else if ((v = ract_flag_value(a, "checkpoint"))) {
      f->checkpoint = v;
    } else if ((v = ract_flag_value(a, "init_from"))) {
      f->init_from = v;
    } else if ((v = ract_flag_value(a, "resume"))) {
      f->resume = v;
    } else if ((v = ract_flag_value(a, "checkpoint_every"))) {
      if (!ract_flag_int(v, 0, 1000000, &f->checkpoint_every)) return bad(err, a, "epochs >= 0");
    } else if ((v = ract_flag_value(a, "stop_after_batches"))) {
      if (!ract_flag_int(v, 0, 1 << 30, &f->stop_after_batches)) {
        return bad(err, a, "a batch count >= 0");
      }
    } else if ((v = ract_flag_value(a, "dtype"))) {
      if (ract_model_file_parse_dtype(v, &f->dtype, nullptr) != RACT_OK) {
        return bad(err, a, "fp32, fp16 or int8");
      }
    } else if ((v = ract_flag_value(a, "threads"))) {
      if (!ract_flag_int(v, 1, 256, &cfg->threads)) return bad(err, a, "a thread count 1..256");
    } else if ((v = ract_flag_value(a, "pretrain_epochs"))) {
      if (!ract_flag_int(v, 0, 1000000, &cfg->stage_epochs[0])) return bad(err, a, "epochs >= 0");
    } else if ((v = ract_flag_value(a, "critic_epochs"))) {
      if (!ract_flag_int(v, 0, 1000000, &cfg->stage_epochs[1])) return bad(err, a, "epochs >= 0");
    } else if ((v = ract_flag_value(a, "epochs"))) {
      if (!ract_flag_int(v, 0, 1000000, &cfg->stage_epochs[2])) return bad(err, a, "epochs >= 0");
    } else if ((v = ract_flag_value(a, "learning_rate"))) {
      if (!ract_flag_float(v, 0.0, 10.0, &cfg->stage_lr[0]))
        return bad(err, a, "a rate in [0, 10]");
    } else if ((v = ract_flag_value(a, "critic_learning_rate"))) {
      if (!ract_flag_float(v, 0.0, 10.0, &cfg->stage_lr[1]))
        return bad(err, a, "a rate in [0, 10]");
    } else if ((v = ract_flag_value(a, "finetune_learning_rate"))) {
      if (!ract_flag_float(v, 0.0, 10.0, &cfg->stage_lr[2]))
        return bad(err, a, "a rate in [0, 10]");
    } else if ((v = ract_flag_value(a, "train_batch_size"))) {
      if (!ract_flag_int(v, 1, 1 << 24, &cfg->train_batch_size)) return bad(err, a, "a size >= 1");
    } else if ((v = ract_flag_value(a, "eval_batch"))) {
      if (!ract_flag_int(v, 1, 1 << 20, &cfg->eval_batch)) return bad(err, a, "a size >= 1");
    } else if ((v = ract_flag_value(a, "stopping_step"))) {
      if (!ract_flag_int(v, 0, 1000000, &cfg->stopping_step[RACT_STAGE_FINETUNE])) {
        return bad(err, a, "a patience >= 0 (0: never stop early)");
      }
    } else if ((v = ract_flag_value(a, "valid_metric"))) {
      // RecBole writes MRR@10: case does not matter.
      char m[sizeof(cfg->valid_metric)];
      const size_t len = strlen(v);
      if (len >= sizeof(m)) return bad(err, a, "a metric such as ndcg@100 (too long)");
      for (size_t k = 0; k <= len; k++) m[k] = (char)tolower((unsigned char)v[k]);
      if (!metric_syntax(m)) return bad(err, a, "a metric such as ndcg@100, mrr@10 or recall@20");
      memcpy(cfg->valid_metric, m, len + 1);
    } else if ((v = ract_flag_value(a, "topk"))) {
      int n = 0;
      if (!ract_flag_list(v, cfg->topk, RACT_METRICS_MAX_K, &n)) {
        return bad(err, a, "a list of up to 8 cut-offs such as 10,100");
      }
      cfg->n_topk = n;
      topk_dup = false;
      for (int i2 = 0; i2 < n; i2++) {
        for (int j = 0; j < i2; j++) topk_dup |= cfg->topk[i2] == cfg->topk[j];
      }
      if (topk_dup) return bad(err, a, "distinct cut-offs");
    } else if (strncmp(a, "--", 2) == 0 && strchr(a, '=') != nullptr) {
      // Every model key: RecBole's (mlp_hidden_size, latent_dimension, dropout_prob,
      // anneal_cap, total_anneal_steps, critic_layers, metrics_k) and the variant switches.
      std::string key(a + 2, strchr(a, '=') - (a + 2));
      ract_error e = {};
      if (ract_model_config_set(&cfg->model, key.c_str(), strchr(a, '=') + 1, &e) != RACT_OK) {
        return ract_fail(err, RACT_ERR_ARG, "%s (see --help)", e.msg);
      }
    } else {
      return ract_fail(err, RACT_ERR_ARG, "unknown flag %s (see --help)", a);
    }
  }
  cfg->seed = f->data.opt.seed;  // --seed (a data flag too) drives the split and the training
  if (f->resume != nullptr && f->init_from != nullptr) {
    return ract_fail(err, RACT_ERR_ARG, "--resume and --init_from exclude each other");
  }
  ract_metrics m;
  if (ract_metrics_init(&m, cfg->topk, cfg->n_topk, nullptr) != RACT_OK ||
      isnan(ract_metrics_get(&m, cfg->valid_metric))) {
    char ks[128];
    list(ks, sizeof(ks), cfg->topk, cfg->n_topk);
    return ract_fail(err, RACT_ERR_ARG,
                     "--valid_metric=%s: not one of the computed metrics (recall, mrr, ndcg, hit "
                     "or precision @ a cut-off of --topk=%s)",
                     cfg->valid_metric, ks);
  }
  ract_error e = {};
  if (ract_train_config_check(cfg, &e) != RACT_OK) {
    return ract_fail(err, RACT_ERR_ARG, "the flags give an invalid configuration: %s", e.msg);
  }
  return RACT_OK;
}

ract_status ract_train_config_same_run(const ract_train_config* saved,
                                       const ract_train_config* given, ract_error* err) {
  Field a[32], b[32];
  const int n = run_fields(saved, a);
  run_fields(given, b);
  for (int i = 0; i < n; i++) {
    if (strcmp(a[i].value, b[i].value) != 0) {
      return ract_fail(err, RACT_ERR_ARG, "the checkpoint's run has %s=%s, the command line %s=%s",
                       a[i].key, a[i].value, b[i].key, b[i].value);
    }
  }
  // The model keys, as ract_model_config_format lists them ("key=value ...").
  char ma[2048], mb[2048];
  ract_model_config_format(&saved->model, ma, sizeof(ma));
  ract_model_config_format(&given->model, mb, sizeof(mb));
  char* sa = nullptr;
  char* sb = nullptr;
  for (char *ta = strtok_r(ma, " ", &sa), *tb = strtok_r(mb, " ", &sb);
       ta != nullptr || tb != nullptr;
       ta = strtok_r(nullptr, " ", &sa), tb = strtok_r(nullptr, " ", &sb)) {
    if (ta == nullptr || tb == nullptr || strcmp(ta, tb) != 0) {
      return ract_fail(err, RACT_ERR_ARG, "the checkpoint's run has %s, the command line %s",
                       ta ? ta : "(nothing)", tb ? tb : "(nothing)");
    }
  }
  return RACT_OK;
}
