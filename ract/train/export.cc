// Trainer <-> weight files (export.h).
#include "ract/train/export.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <string>
#include <vector>

#include "ract/core/atomic_file.h"

namespace {

const uint32_t kStateMagic = 0x53544352u;  // "RCTS"

int preset_id(const char* p) {
  if (strcmp(p, "recbole") == 0) return RACT_PRESET_RECBOLE;
  if (strcmp(p, "paper") == 0) return RACT_PRESET_PAPER;
  return RACT_PRESET_CUSTOM;
}

ract_file_tensor tensor2(const char* name, int64_t rows, int64_t cols, const float* data) {
  ract_file_tensor f;
  memset(&f, 0, sizeof(f));
  f.name = name;
  f.data = data;
  if (cols == 1) {
    f.n_dims = 1;
    f.dims[0] = rows;
  } else {
    f.n_dims = 2;
    f.dims[0] = rows;
    f.dims[1] = cols;
  }
  return f;
}

// Item tokens of the dataset, by dense index.
std::vector<const char*> item_tokens(const ract_trainer* t) {
  std::vector<const char*> tok(t->data->n_items);
  for (int i = 0; i < t->data->n_items; i++) tok[i] = ract_vocab_token(&t->data->items, i);
  return tok;
}

}  // namespace

ract_model_dims ract_export_dims(const ract_trainer* t) {
  ract_model_dims d;
  memset(&d, 0, sizeof(d));
  const ract_model_config* c = &t->actor.cfg;
  d.n_items = t->actor.n_items;
  d.latent = t->actor.latent;
  d.n_hidden = c->n_hidden;
  for (int i = 0; i < c->n_hidden; i++) d.hidden[i] = c->mlp_hidden_size[i];
  d.preset = preset_id(t->cfg.preset);
  d.input_scale = ract_model_eval_scale(c);
  return d;
}

// The file of a trainer: its dims, the tensors, the item tokens (the vectors outlive it).
static ract_file_desc describe(const ract_trainer* t, ract_file_kind kind,
                               const std::vector<ract_file_tensor>& ts,
                               const std::vector<const char*>& tok, const ract_file_kv* meta,
                               int n_meta) {
  ract_file_desc d;
  memset(&d, 0, sizeof(d));
  d.kind = kind;
  d.dims = ract_export_dims(t);
  d.tensors = ts.data();
  d.n_tensors = (int32_t)ts.size();
  d.tokens = tok.data();
  d.meta = meta;
  d.n_meta = n_meta;
  return d;
}

// Serialises d into the caller's scratch when the file fits there, else into a buffer of
// its own; then writes it atomically.
static ract_status write_file(const char* path, const ract_file_desc* d, ract_file_dtype dtype,
                              void* scratch, size_t scratch_bytes, ract_error* err) {
  size_t bytes = 0;
  RACT_CHECK(ract_model_file_bytes(d, dtype, &bytes, err));
  if (scratch == nullptr || bytes > scratch_bytes) {
    return ract_model_file_write(path, d, dtype, err);
  }
  RACT_CHECK(ract_model_file_write_buffer(scratch, bytes, d, dtype, nullptr, err));
  return ract_atomic_write(path, scratch, bytes, err);
}

ract_status ract_export_inference(const char* path, const ract_trainer* t, ract_file_dtype dtype,
                                  const ract_file_kv* meta, int n_meta, void* scratch,
                                  size_t scratch_bytes, ract_error* err) {
  const ract_actor* a = &t->actor;
  const int L = a->latent;
  std::vector<ract_file_tensor> ts;
  std::vector<std::string> names;  // keeps the names alive
  int n = a->w.table.n;
  names.reserve(n);
  for (int i = 0; i < n; i++) {
    ract_param_info p = ract_table_info(&a->w.table, i);
    const float* data = a->w.params + p.offset;
    if (strcmp(p.name, "enc.head.w") == 0) {
      ts.push_back(tensor2("mu.w", L, p.cols, data));  // rows [0, L) are mu
    } else if (strcmp(p.name, "enc.head.b") == 0) {
      ts.push_back(tensor2("mu.b", L, 1, data));
    } else {
      names.push_back(p.name);
      ts.push_back(tensor2(names.back().c_str(), p.rows, p.cols, data));
    }
  }
  std::vector<const char*> tok = item_tokens(t);
  const ract_file_desc d = describe(t, RACT_FILE_INFERENCE, ts, tok, meta, n_meta);
  return write_file(path, &d, dtype, scratch, scratch_bytes, err);
}

uint64_t ract_export_data_hash(const ract_csr* m) {
  uint64_t h = 1469598103934665603ull;
  auto mix = [&h](const void* p, size_t n) {
    const uint8_t* b = (const uint8_t*)p;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 1099511628211ull;
  };
  mix(&m->rows, sizeof(m->rows));
  mix(&m->cols, sizeof(m->cols));
  mix(m->ptr, sizeof(int64_t) * (m->rows + 1));
  mix(m->idx, sizeof(int32_t) * m->nnz);
  return h;
}

ract_status ract_export_checkpoint(const char* path, const ract_trainer* t,
                                   const ract_file_kv* meta, int n_meta, ract_error* err) {
  const ract_actor* a = &t->actor;
  const ract_critic* c = &t->critic;
  std::vector<ract_file_tensor> ts;
  std::vector<std::string> names;
  names.reserve(a->w.table.n + c->w.table.n + 8);
  for (int i = 0; i < a->w.table.n; i++) {
    ract_param_info p = ract_table_info(&a->w.table, i);
    names.push_back(p.name);
    ts.push_back(tensor2(names.back().c_str(), p.rows, p.cols, a->w.params + p.offset));
  }
  for (int i = 0; i < c->w.table.n; i++) {
    ract_param_info p = ract_table_info(&c->w.table, i);
    names.push_back(p.name);
    ts.push_back(tensor2(names.back().c_str(), p.rows, p.cols, c->w.params + p.offset));
  }
  ts.push_back(tensor2("critic.bn.mean", 3, 1, c->bn_mean));
  ts.push_back(tensor2("critic.bn.var", 3, 1, c->bn_var));
  ts.push_back(tensor2("adam.actor.m", (int64_t)a->w.n, 1, a->w.m));
  ts.push_back(tensor2("adam.actor.v", (int64_t)a->w.n, 1, a->w.v));
  ts.push_back(tensor2("adam.critic.m", (int64_t)c->w.n, 1, c->w.m));
  ts.push_back(tensor2("adam.critic.v", (int64_t)c->w.n, 1, c->w.v));
  ts.push_back(tensor2("best.actor", (int64_t)a->w.n, 1, t->best_actor));
  ts.push_back(tensor2("best.critic", (int64_t)c->w.n + 6, 1, t->best_critic));

  const int rows = t->data->train.rows;
  std::vector<uint8_t> blob(sizeof(ract_train_state) + sizeof(ract_epoch_log) * t->n_log +
                            sizeof(int32_t) * rows);
  ract_train_state st;
  memset(&st, 0, sizeof(st));
  st.magic = kStateMagic;
  st.version = 2;
  st.bytes = sizeof(st);
  st.n_log = t->n_log;
  st.rows = rows;
  st.n_items = t->data->n_items;
  st.train_nnz = t->data->train.nnz;
  st.data_hash = ract_export_data_hash(&t->data->train);
  st.anneal_steps = t->anneal.steps;
  st.adam_actor_t = t->adam_actor.t;
  st.adam_critic_t = t->adam_critic.t;
  st.adam_actor_lr = t->adam_actor.lr;
  st.adam_critic_lr = t->adam_critic.lr;
  memcpy(st.rng, t->rng.s, sizeof(st.rng));
  st.cfg = t->cfg;
  st.cur = t->cur;
  memcpy(st.stage, t->stage, sizeof(st.stage));
  uint8_t* p = blob.data();
  memcpy(p, &st, sizeof(st));
  p += sizeof(st);
  if (t->n_log > 0) memcpy(p, t->log, sizeof(ract_epoch_log) * t->n_log);
  p += sizeof(ract_epoch_log) * t->n_log;
  for (int r = 0; r < rows; r++) {
    int32_t v = t->order[r];
    memcpy(p + sizeof(int32_t) * r, &v, sizeof(v));
  }

  std::vector<const char*> tok = item_tokens(t);
  ract_file_desc d = describe(t, RACT_FILE_CHECKPOINT, ts, tok, meta, n_meta);
  d.state = blob.data();
  d.state_bytes = blob.size();
  return ract_model_file_write(path, &d, RACT_FILE_F32, err);
}

static ract_status load_tensor(const ract_model_file* f, const char* name, int64_t rows,
                               int64_t cols, float* out, ract_error* err) {
  int64_t dims[2] = {rows, cols};
  ract_file_tensor_view v;
  RACT_CHECK(ract_model_file_find(f, name, cols == 1 ? 1 : 2, dims, &v, err));
  ract_model_file_tensor_f32(&v, out);
  return RACT_OK;
}

// The variant switches of a config read from a file, as the integers they are stored as:
// loading an enum object that holds another value is undefined behaviour.
static bool switch_ok(const void* field) {
  int32_t v;
  memcpy(&v, field, sizeof(v));
  return v == 0 || v == 1;
}

static bool switches_ok(const ract_model_config* m) {
  static_assert(sizeof(ract_head_style) == 4 && sizeof(ract_dropout_style) == 4 &&
                    sizeof(ract_bn_mode) == 4 && sizeof(ract_init_style) == 4 &&
                    sizeof(ract_anneal_rule) == 4,
                "switches are stored as 32-bit integers");
  return switch_ok(&m->head) && switch_ok(&m->dropout_style) && switch_ok(&m->bn_mode) &&
         switch_ok(&m->init) && switch_ok(&m->anneal_rule);
}

// Opens path as a checkpoint and checks its state blob; the caller frees *blob.
static ract_status open_checkpoint(const char* path, void** blob, ract_model_file* f,
                                   ract_train_state* st, ract_error* err) {
  size_t len = 0;
  *blob = nullptr;
  RACT_CHECK(ract_model_file_read(path, blob, &len, err));
  ract_status s = ract_model_file_open(f, *blob, len, err);
  if (s == RACT_OK && f->kind != RACT_FILE_CHECKPOINT) {
    s = ract_fail(err, RACT_ERR_FILE_KIND, "%s: an inference file, not a checkpoint", path);
  }
  if (s == RACT_OK && f->state_bytes < sizeof(*st)) {
    s = ract_fail(err, RACT_ERR_FILE_HEADER,
                  "%s: training state of %zu bytes, expected at least %zu", path, f->state_bytes,
                  sizeof(*st));
  }
  if (s == RACT_OK) {
    memcpy(st, f->state, sizeof(*st));
    const ract_train_cursor* c = &st->cur;
    bool ok = st->magic == kStateMagic && st->version == 2 && st->bytes == sizeof(*st) &&
              st->n_log >= 0 && st->rows >= 0 && c->stage >= 0 && c->stage <= RACT_STAGES &&
              c->epoch >= 0 && c->batch >= 0;
    if (!ok) {
      s = ract_fail(err, RACT_ERR_FILE_HEADER,
                    "%s: the training state is not one this build wrote (magic, version or "
                    "layout differ)",
                    path);
    } else if (!switches_ok(&st->cfg.model)) {
      s = ract_fail(err, RACT_ERR_FILE_HEADER,
                    "%s: the training state's model config has an unknown switch value (head, "
                    "dropout_style, bn_mode, init or anneal_rule)",
                    path);
    } else if (!memchr(st->cfg.preset, 0, sizeof(st->cfg.preset)) ||
               !memchr(st->cfg.valid_metric, 0, sizeof(st->cfg.valid_metric)) ||
               st->cfg.n_topk < 1 || st->cfg.n_topk > RACT_METRICS_MAX_K || st->cfg.threads < 1 ||
               st->cfg.threads > 256) {
      // Tools print and use the saved config before a trainer checks it.
      s = ract_fail(err, RACT_ERR_FILE_HEADER,
                    "%s: the training state's config is corrupt (preset, valid_metric, topk "
                    "count %d or threads %d)",
                    path, st->cfg.n_topk, st->cfg.threads);
    } else if ((st->rng[0] | st->rng[1] | st->rng[2] | st->rng[3]) == 0) {
      // xoshiro256** stays at zero from the all-zero state (no seed gives it): every draw
      // is 0 and ract_rng_below's rejection loop would never end.
      s = ract_fail(err, RACT_ERR_FILE_HEADER,
                    "%s: the training state's RNG state is all zero (not one a run can reach)",
                    path);
    } else if (ract_model_config_check(&st->cfg.model, err) != RACT_OK) {
      char why[sizeof(err->msg)];
      memcpy(why, err ? err->msg : "", err ? sizeof(why) : 1);
      s = ract_fail(err, RACT_ERR_FILE_HEADER, "%s: the training state's model config: %s", path,
                    why);
    } else if (f->state_bytes != sizeof(*st) + sizeof(ract_epoch_log) * (size_t)st->n_log +
                                     sizeof(int32_t) * (size_t)st->rows) {
      s = ract_fail(err, RACT_ERR_FILE_HEADER,
                    "%s: training state of %zu bytes does not hold "
                    "%d epoch logs and %d rows",
                    path, f->state_bytes, st->n_log, st->rows);
    }
  }
  if (s != RACT_OK) {
    free(*blob);
    *blob = nullptr;
  }
  return s;
}

ract_status ract_read_checkpoint_state(const char* path, ract_train_state* state, ract_error* err) {
  void* blob;
  ract_model_file f;
  RACT_CHECK(open_checkpoint(path, &blob, &f, state, err));
  free(blob);
  return RACT_OK;
}

ract_status ract_import_checkpoint(ract_trainer* t, const char* path, int resume,
                                   ract_train_state* state, ract_error* err) {
  void* blob;
  ract_model_file f;
  ract_train_state st;
  RACT_CHECK(open_checkpoint(path, &blob, &f, &st, err));
  ract_status s = RACT_OK;
  if (f.dims.n_items != t->actor.n_items) {
    s = ract_fail(err, RACT_ERR_FILE_DIMS, "%s: the checkpoint has %d items, the data %d", path,
                  f.dims.n_items, t->actor.n_items);
  }
  ract_actor* a = &t->actor;
  ract_critic* c = &t->critic;
  for (int i = 0; s == RACT_OK && i < a->w.table.n; i++) {
    ract_param_info p = ract_table_info(&a->w.table, i);
    s = load_tensor(&f, p.name, p.rows, p.cols, a->w.params + p.offset, err);
  }
  for (int i = 0; s == RACT_OK && i < c->w.table.n; i++) {
    ract_param_info p = ract_table_info(&c->w.table, i);
    s = load_tensor(&f, p.name, p.rows, p.cols, c->w.params + p.offset, err);
  }
  if (s == RACT_OK) s = load_tensor(&f, "critic.bn.mean", 3, 1, c->bn_mean, err);
  if (s == RACT_OK) s = load_tensor(&f, "critic.bn.var", 3, 1, c->bn_var, err);
  if (s == RACT_OK && resume) {
    const ract_dataset* d = t->data;
    if (st.rows != d->train.rows || st.n_items != d->n_items || st.train_nnz != d->train.nnz ||
        st.data_hash != ract_export_data_hash(&d->train)) {
      s = ract_fail(err, RACT_ERR_DATA,
                    "%s: the checkpoint was trained on other data (%d rows, %d items, %lld "
                    "interactions); give the same data flags as the interrupted run",
                    path, st.rows, st.n_items, (long long)st.train_nnz);
    } else if (st.n_log > t->cap_log) {
      s = ract_fail(err, RACT_ERR_FILE_HEADER, "%s: %d epoch logs, more than the run has epochs",
                    path, st.n_log);
    }
    if (s == RACT_OK) s = load_tensor(&f, "adam.actor.m", (int64_t)a->w.n, 1, a->w.m, err);
    if (s == RACT_OK) s = load_tensor(&f, "adam.actor.v", (int64_t)a->w.n, 1, a->w.v, err);
    if (s == RACT_OK) s = load_tensor(&f, "adam.critic.m", (int64_t)c->w.n, 1, c->w.m, err);
    if (s == RACT_OK) s = load_tensor(&f, "adam.critic.v", (int64_t)c->w.n, 1, c->w.v, err);
    if (s == RACT_OK) {
      s = load_tensor(&f, "best.actor", (int64_t)a->w.n, 1, t->best_actor, err);
    }
    if (s == RACT_OK) {
      s = load_tensor(&f, "best.critic", (int64_t)c->w.n + 6, 1, t->best_critic, err);
    }
    if (s == RACT_OK) {
      t->anneal.steps = st.anneal_steps;
      t->adam_actor = ract_adam_make(st.adam_actor_lr);
      t->adam_actor.t = st.adam_actor_t;
      t->adam_critic = ract_adam_make(st.adam_critic_lr);
      t->adam_critic.t = st.adam_critic_t;
      memcpy(t->rng.s, st.rng, sizeof(st.rng));
      t->cur = st.cur;
      memcpy(t->stage, st.stage, sizeof(t->stage));
      const uint8_t* p = (const uint8_t*)f.state + sizeof(st);
      t->n_log = st.n_log;
      if (st.n_log > 0) memcpy(t->log, p, sizeof(ract_epoch_log) * st.n_log);
      p += sizeof(ract_epoch_log) * st.n_log;
      for (int r = 0; r < st.rows; r++) {
        int32_t v;
        memcpy(&v, p + sizeof(int32_t) * r, sizeof(v));
        if (v < 0 || v >= st.rows) {
          s = ract_fail(err, RACT_ERR_FILE_HEADER, "%s: row order entry %d is %d", path, r, v);
          break;
        }
        t->order[r] = v;
      }
    }
  }
  if (s == RACT_OK && state != nullptr) *state = st;
  free(blob);
  return s;
}
