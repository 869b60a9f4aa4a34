// Trainer <-> weight files (export.h).
#include "ract/train/export.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <string>
#include <vector>

#include "ract/core/atomic_file.h"
#include "ract/deploy/model_file_write.h"

namespace {

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

ract_file_dims ract_export_dims(const ract_trainer* t) {
  ract_file_dims d;
  memset(&d, 0, sizeof(d));
  const ract_hparams* c = &t->actor.cfg;
  d.n_items = t->actor.n_items;
  d.latent = t->actor.latent;
  d.n_hidden = c->n_hidden;
  for (int i = 0; i < c->n_hidden; i++) d.hidden[i] = c->mlp_hidden_size[i];
  d.preset = preset_id(t->cfg.preset);
  d.input_scale = ract_hparams_eval_scale(c);
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
  RACT_CHECK(ract_file_bytes(d, dtype, &bytes, err));
  if (scratch == nullptr || bytes > scratch_bytes) {
    return ract_file_write(path, d, dtype, err);
  }
  RACT_CHECK(ract_file_write_buffer(scratch, bytes, d, dtype, nullptr, err));
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

// ---------------------------------------------------------------------------------------
// The training state blob (ract/deploy/FORMAT.md, "Training state"). One visit function per
// struct walks its fields in the documented order; the same walk drives the encoder
// (Writer), the decoder (Reader) and the size check (Sizer), so the three cannot disagree.

static_assert(sizeof(int) == 4, "int fields are stored as 32-bit integers");
static_assert(RACT_MAX_LAYERS == 8 && RACT_METRICS_MAX_K == 8 && RACT_STAGES == 3,
              "the state format stores 8 layer sizes, 8 cut-offs and 3 stages: another count "
              "is another RACT_TRAIN_STATE_VERSION");

namespace {

// Counts the bytes a walk covers.
struct Sizer {
  size_t at = 0;
  void u32(uint32_t&) { at += 4; }
  void i32(int32_t&) { at += 4; }
  void u64(uint64_t&) { at += 8; }
  void i64(int64_t&) { at += 8; }
  void f32(float&) { at += 4; }
  void f64(double&) { at += 8; }
  void chars(char*, size_t n) { at += n; }
  template <typename E>
  void sw(E&, int = 2) {
    at += 4;
  }
};

// Little-endian on any host.
struct Writer {
  uint8_t* p;
  size_t at;
  void put(uint64_t v, int n) {
    for (int i = 0; i < n; i++) p[at++] = (uint8_t)(v >> (8 * i));
  }
  void u32(uint32_t& v) { put(v, 4); }
  void i32(int32_t& v) { put((uint32_t)v, 4); }
  void u64(uint64_t& v) { put(v, 8); }
  void i64(int64_t& v) { put((uint64_t)v, 8); }
  void f32(float& v) {
    uint32_t b;
    memcpy(&b, &v, 4);
    put(b, 4);
  }
  void f64(double& v) {
    uint64_t b;
    memcpy(&b, &v, 8);
    put(b, 8);
  }
  void chars(char* s, size_t n) {
    memcpy(p + at, s, n);
    at += n;
  }
  template <typename E>
  void sw(E& e, int = 2) {
    put((uint32_t)(int32_t)e, 4);
  }
};

// The caller has checked that the walk fits in the bytes.
struct Reader {
  const uint8_t* p;
  size_t at;
  int bad_switch;  // a variant switch held a value out of its range (left at its zeroed value)
  uint64_t get(int n) {
    uint64_t v = 0;
    for (int i = 0; i < n; i++) v |= (uint64_t)p[at++] << (8 * i);
    return v;
  }
  void u32(uint32_t& v) { v = (uint32_t)get(4); }
  void i32(int32_t& v) { v = (int32_t)(uint32_t)get(4); }
  void u64(uint64_t& v) { v = get(8); }
  void i64(int64_t& v) { v = (int64_t)get(8); }
  void f32(float& v) {
    uint32_t b = (uint32_t)get(4);
    memcpy(&v, &b, 4);
  }
  void f64(double& v) {
    uint64_t b = get(8);
    memcpy(&v, &b, 8);
  }
  void chars(char* s, size_t n) {
    memcpy(s, p + at, n);
    at += n;
  }
  // Enums are read as the integers they are stored as: loading an enum object that holds
  // another value is undefined behaviour.
  template <typename E>
  void sw(E& e, int values = 2) {
    const int32_t v = (int32_t)(uint32_t)get(4);
    if (v >= 0 && v < values) {
      e = (E)v;
    } else {
      bad_switch = 1;
    }
  }
};

template <typename IO>
void visit_metrics(IO& io, ract_metrics& m) {
  io.i32(m.n_k);
  for (int j = 0; j < RACT_METRICS_MAX_K; j++) io.i32(m.k[j]);
  io.i32(m.users);
  io.i32(m.finished);
  double* cols[6] = {m.recall, m.recall_paper, m.mrr, m.ndcg, m.hit, m.precision};
  for (double* c : cols) {
    for (int j = 0; j < RACT_METRICS_MAX_K; j++) io.f64(c[j]);
  }
}

template <typename IO>
void visit_log(IO& io, ract_epoch_log& l) {
  io.i32(l.stage);
  io.i32(l.epoch);
  io.i32(l.batches);
  io.f64(l.loss);
  io.f64(l.actor_loss);
  io.f64(l.ce);
  io.f64(l.kl);
  io.f64(l.beta);
  io.f64(l.q);
  io.f64(l.target);
  io.f64(l.critic_loss);
  io.f64(l.valid);
  io.f64(l.seconds_train);
  io.f64(l.seconds_valid);
}

template <typename IO>
void visit_model(IO& io, ract_hparams& m) {
  io.i32(m.n_hidden);
  for (int j = 0; j < RACT_MAX_LAYERS; j++) io.i32(m.mlp_hidden_size[j]);
  io.i32(m.latent_dimension);
  io.f32(m.dropout_prob);
  io.f32(m.anneal_cap);
  io.i64(m.total_anneal_steps);
  io.i32(m.n_critic_layers);
  for (int j = 0; j < RACT_MAX_LAYERS; j++) io.i32(m.critic_layers[j]);
  io.i32(m.metrics_k);
  io.sw(m.head);
  io.sw(m.dropout_style);
  io.f32(m.eps_std);
  io.i32(m.critic_loss_with_kl);
  io.sw(m.bn_mode);
  io.i32(m.ndcg_gain_sqrt);
  io.sw(m.init);
  io.sw(m.anneal_rule);
  io.f32(m.critic_l2);
  io.f32(m.bn_eps);
  io.f32(m.bn_momentum);
  io.i32(m.finetune_critic);
}

template <typename IO>
void visit_config(IO& io, ract_train_config& c) {
  io.chars(c.preset, sizeof(c.preset));
  visit_model(io, c.model);
  for (int s = 0; s < RACT_STAGES; s++) io.i32(c.run_stage[s]);
  for (int s = 0; s < RACT_STAGES; s++) io.i32(c.stage_epochs[s]);
  for (int s = 0; s < RACT_STAGES; s++) io.f32(c.stage_lr[s]);
  for (int s = 0; s < RACT_STAGES; s++) io.i32(c.validate[s]);
  io.i32(c.stopping_step);
  io.i32(c.train_batch_size);
  io.i32(c.drop_last);
  io.chars(c.valid_metric, sizeof(c.valid_metric));
  for (int j = 0; j < RACT_METRICS_MAX_K; j++) io.i32(c.topk[j]);
  io.i32(c.n_topk);
  io.i32(c.eval_batch);
  io.i32(c.threads);
  io.u64(c.seed);
}

template <typename IO>
void visit_cursor(IO& io, ract_train_cursor& c) {
  io.i32(c.stage);
  io.i32(c.started);
  io.i32(c.epoch);
  io.i32(c.batch);
  io.i32(c.begun);
  io.f64(c.best);
  io.i32(c.since_best);
  visit_log(io, c.log);
}

template <typename IO>
void visit_summary(IO& io, ract_stage_summary& s) {
  io.i32(s.ran);
  io.i32(s.epochs);
  io.i32(s.best_epoch);
  io.f64(s.seconds);
  visit_metrics(io, s.best_valid);
  visit_metrics(io, s.test);
}

// The fixed part: magic, version and its own size, then the state's fields.
template <typename IO>
void visit_state(IO& io, uint32_t& magic, uint32_t& fixed_bytes, ract_train_state& st) {
  io.u32(magic);
  io.u32(st.version);
  io.u32(fixed_bytes);
  io.i32(st.n_log);
  io.i32(st.rows);
  io.i32(st.n_items);
  io.i64(st.train_nnz);
  io.u64(st.data_hash);
  io.i64(st.anneal_steps);
  io.i64(st.adam_actor_t);
  io.i64(st.adam_critic_t);
  io.f32(st.adam_actor_lr);
  io.f32(st.adam_critic_lr);
  for (int i = 0; i < 4; i++) io.u64(st.rng[i]);
  visit_config(io, st.cfg);
  visit_cursor(io, st.cur);
  for (int s = 0; s < RACT_STAGES; s++) visit_summary(io, st.stage[s]);
  // Added by version 4, at the end so that every earlier offset stays where it was.
  io.i32(st.ranks);
  io.sw(st.cfg.model.critic_loss_feature);
  io.sw(st.cfg.model.finetune_objective, 3);
  io.i32(st.cfg.model.critic_weight_norm);
  io.f32(st.cfg.model.critic_weight_mix);
  io.i32(st.cfg.model.critic_bn_refresh);
  io.i32(st.cfg.total_anneal_epochs);
}

size_t fixed_walk_bytes() {
  Sizer z;
  uint32_t magic = 0, fixed = 0;
  ract_train_state st;
  memset(&st, 0, sizeof(st));
  visit_state(z, magic, fixed, st);
  return z.at;
}

uint32_t le32(const uint8_t* p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

}  // namespace

size_t ract_train_state_bytes(int32_t n_log, int32_t rows) {
  return (size_t)RACT_TRAIN_STATE_FIXED_BYTES + (size_t)RACT_TRAIN_STATE_LOG_BYTES * (size_t)n_log +
         sizeof(int32_t) * (size_t)rows;
}

ract_status ract_train_state_encode(const ract_train_state* st, const ract_epoch_log* logs,
                                    const int32_t* order, void* out, size_t bytes,
                                    ract_error* err) {
  if (st == nullptr || out == nullptr || st->n_log < 0 || st->rows < 0 ||
      (st->n_log > 0 && logs == nullptr) || (st->rows > 0 && order == nullptr)) {
    return ract_fail(err, RACT_ERR_ARG, "train state encode: null or negative argument");
  }
  if (fixed_walk_bytes() != RACT_TRAIN_STATE_FIXED_BYTES) {  // a field added without the doc
    return ract_fail(err, RACT_ERR_ARG,
                     "train state encode: the fixed part is %zu bytes, "
                     "RACT_TRAIN_STATE_FIXED_BYTES says %d (update it, FORMAT.md and the version)",
                     fixed_walk_bytes(), RACT_TRAIN_STATE_FIXED_BYTES);
  }
  const size_t need = ract_train_state_bytes(st->n_log, st->rows);
  if (bytes != need) {
    return ract_fail(err, RACT_ERR_ARG,
                     "train state encode: %zu bytes given, %d logs and %d rows take %zu", bytes,
                     st->n_log, st->rows, need);
  }
  ract_train_state s = *st;
  s.version = RACT_TRAIN_STATE_VERSION;
  uint32_t magic = RACT_TRAIN_STATE_MAGIC, fixed = RACT_TRAIN_STATE_FIXED_BYTES;
  Writer w = {(uint8_t*)out, 0};
  visit_state(w, magic, fixed, s);
  for (int32_t i = 0; i < s.n_log; i++) {
    ract_epoch_log l = logs[i];
    visit_log(w, l);
  }
  for (int32_t r = 0; r < s.rows; r++) {
    int32_t v = order[r];
    w.i32(v);
  }
  return RACT_OK;
}

ract_status ract_train_state_decode(const void* blob, size_t bytes, ract_train_state* st,
                                    ract_error* err) {
  if (st == nullptr || (blob == nullptr && bytes > 0)) {
    return ract_fail(err, RACT_ERR_ARG, "train state decode: null argument");
  }
  memset(st, 0, sizeof(*st));
  const uint8_t* p = (const uint8_t*)blob;
  if (bytes < 8) {
    return ract_fail(err, RACT_ERR_FILE_HEADER,
                     "training state of %zu bytes: truncated before its magic and version", bytes);
  }
  if (le32(p) != RACT_TRAIN_STATE_MAGIC) {
    return ract_fail(err, RACT_ERR_FILE_HEADER,
                     "the training state does not start with the magic \"RCTS\"");
  }
  const uint32_t version = le32(p + 4);
  if (version != RACT_TRAIN_STATE_VERSION) {
    return ract_fail(err, RACT_ERR_FILE_VERSION,
                     "training state version %u, this build reads version %u only (the "
                     "checkpoint was written by another version of ract: resume it with that "
                     "build, or start the run again)",
                     version, (unsigned)RACT_TRAIN_STATE_VERSION);
  }
  if (bytes < RACT_TRAIN_STATE_FIXED_BYTES) {
    return ract_fail(err, RACT_ERR_FILE_HEADER,
                     "training state of %zu bytes: truncated (version %u has %d bytes before the "
                     "epoch logs)",
                     bytes, version, RACT_TRAIN_STATE_FIXED_BYTES);
  }
  uint32_t magic = 0, fixed = 0;
  Reader r = {p, 0, 0};
  visit_state(r, magic, fixed, *st);
  if (fixed != RACT_TRAIN_STATE_FIXED_BYTES) {
    return ract_fail(err, RACT_ERR_FILE_HEADER,
                     "the training state says its fixed part is %u bytes, version %u has %d", fixed,
                     version, RACT_TRAIN_STATE_FIXED_BYTES);
  }
  if (st->n_log < 0 || st->rows < 0) {
    return ract_fail(err, RACT_ERR_FILE_HEADER,
                     "the training state claims %d epoch logs and %d rows (negative)", st->n_log,
                     st->rows);
  }
  const size_t need = ract_train_state_bytes(st->n_log, st->rows);
  if (bytes != need) {
    return ract_fail(err, RACT_ERR_FILE_HEADER,
                     "training state of %zu bytes is %s: %d epoch logs and %d rows take %zu", bytes,
                     bytes < need ? "truncated" : "oversized", st->n_log, st->rows, need);
  }
  const ract_train_cursor* c = &st->cur;
  if (c->stage < 0 || c->stage > RACT_STAGES || c->epoch < 0 || c->batch < 0) {
    return ract_fail(err, RACT_ERR_FILE_HEADER,
                     "the training state's cursor is out of range (stage %d, epoch %d, batch %d)",
                     c->stage, c->epoch, c->batch);
  }
  if (r.bad_switch) {
    return ract_fail(err, RACT_ERR_FILE_HEADER,
                     "the training state's model config has an unknown switch value (head, "
                     "dropout_style, bn_mode, init, anneal_rule, critic_loss_feature or "
                     "finetune_objective)");
  }
  if (!memchr(st->cfg.preset, 0, sizeof(st->cfg.preset)) ||
      !memchr(st->cfg.valid_metric, 0, sizeof(st->cfg.valid_metric)) || st->cfg.n_topk < 1 ||
      st->cfg.n_topk > RACT_METRICS_MAX_K || st->cfg.threads < 1 || st->cfg.threads > 256) {
    // Tools print and use the saved config before a trainer checks it.
    return ract_fail(err, RACT_ERR_FILE_HEADER,
                     "the training state's config is corrupt (preset, valid_metric, topk "
                     "count %d or threads %d)",
                     st->cfg.n_topk, st->cfg.threads);
  }
  if (st->ranks < 1 || st->ranks > RACT_TRAIN_STATE_MAX_RANKS) {
    return ract_fail(err, RACT_ERR_FILE_HEADER, "the training state's ranks %d is out of [1, %d]",
                     st->ranks, RACT_TRAIN_STATE_MAX_RANKS);
  }
  if ((st->rng[0] | st->rng[1] | st->rng[2] | st->rng[3]) == 0) {
    // xoshiro256** stays at zero from the all-zero state (no seed gives it): every draw
    // is 0 and ract_rng_below's rejection loop would never end.
    return ract_fail(err, RACT_ERR_FILE_HEADER,
                     "the training state's RNG state is all zero (not one a run can reach)");
  }
  ract_error why = {};
  if (ract_hparams_check(&st->cfg.model, &why) != RACT_OK) {
    return ract_fail(err, RACT_ERR_FILE_HEADER, "the training state's model config: %s", why.msg);
  }
  return RACT_OK;
}

ract_status ract_train_state_decode_tail(const void* blob, size_t bytes, const ract_train_state* st,
                                         ract_epoch_log* logs, int32_t* order, ract_error* err) {
  if (st == nullptr || blob == nullptr || st->n_log < 0 || st->rows < 0 ||
      bytes != ract_train_state_bytes(st->n_log, st->rows)) {
    return ract_fail(err, RACT_ERR_ARG, "train state decode: not a blob of this state");
  }
  Reader r = {(const uint8_t*)blob, RACT_TRAIN_STATE_FIXED_BYTES, 0};
  for (int32_t i = 0; i < st->n_log; i++) {
    ract_epoch_log l;
    memset(&l, 0, sizeof(l));
    visit_log(r, l);
    if (logs != nullptr) logs[i] = l;
  }
  if (order == nullptr) return RACT_OK;
  for (int32_t k = 0; k < st->rows; k++) {
    int32_t v;
    r.i32(v);
    if (v < 0 || v >= st->rows) {
      return ract_fail(err, RACT_ERR_FILE_HEADER, "row order entry %d is %d (rows: %d)", k, v,
                       st->rows);
    }
    order[k] = v;
  }
  return RACT_OK;
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
  ract_train_state st;
  memset(&st, 0, sizeof(st));
  st.version = RACT_TRAIN_STATE_VERSION;
  st.n_log = t->n_log;
  st.rows = rows;
  st.n_items = t->data->n_items;
  st.train_nnz = ract_dataset_train_nnz(t->data);
  st.data_hash = ract_dataset_train_hash(t->data);
  st.ranks = t->comm ? t->comm->size : 1;
  st.anneal_steps = t->anneal.steps;
  st.adam_actor_t = t->adam_actor.t;
  st.adam_critic_t = t->adam_critic.t;
  st.adam_actor_lr = t->adam_actor.lr;
  st.adam_critic_lr = t->adam_critic.lr;
  memcpy(st.rng, t->rng.s, sizeof(st.rng));
  st.cfg = t->cfg;
  st.cur = t->cur;
  memcpy(st.stage, t->stage, sizeof(st.stage));
  static_assert(sizeof(*t->order) == sizeof(int32_t), "the row order is stored as int32");
  std::vector<uint8_t> blob(ract_train_state_bytes(st.n_log, st.rows));
  RACT_CHECK(ract_train_state_encode(&st, t->log, (const int32_t*)t->order, blob.data(),
                                     blob.size(), err));

  std::vector<const char*> tok = item_tokens(t);
  ract_file_desc d = describe(t, RACT_FILE_CHECKPOINT, ts, tok, meta, n_meta);
  d.state = blob.data();
  d.state_bytes = blob.size();
  return ract_file_write(path, &d, RACT_FILE_F32, err);
}

static ract_status load_tensor(const ract_file* f, const char* name, int64_t rows, int64_t cols,
                               float* out, ract_error* err) {
  int64_t dims[2] = {rows, cols};
  ract_file_tensor_view v;
  RACT_CHECK(ract_file_find(f, name, cols == 1 ? 1 : 2, dims, &v, err));
  ract_file_tensor_f32(&v, out);
  return RACT_OK;
}

// Opens path as a checkpoint and decodes its state blob; the caller frees *blob.
static ract_status open_checkpoint(const char* path, void** blob, ract_file* f,
                                   ract_train_state* st, ract_error* err) {
  size_t len = 0;
  *blob = nullptr;
  RACT_CHECK(ract_file_read(path, blob, &len, err));
  ract_status s = ract_file_open(f, *blob, len, err);
  if (s == RACT_OK && f->kind != RACT_FILE_CHECKPOINT) {
    s = ract_fail(err, RACT_ERR_FILE_KIND, "%s: an inference file, not a checkpoint", path);
  }
  if (s == RACT_OK) {
    ract_error why = {};
    s = ract_train_state_decode(f->state, f->state_bytes, st, &why);
    if (s != RACT_OK) s = ract_fail(err, s, "%s: %s", path, why.msg);
  }
  if (s != RACT_OK) {
    free(*blob);
    *blob = nullptr;
  }
  return s;
}

ract_status ract_export_read_state(const char* path, ract_train_state* state, ract_error* err) {
  void* blob;
  ract_file f;
  RACT_CHECK(open_checkpoint(path, &blob, &f, state, err));
  free(blob);
  return RACT_OK;
}

ract_status ract_export_restore(ract_trainer* t, const char* path, int resume,
                                ract_train_state* state, ract_error* err) {
  void* blob;
  ract_file f;
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
    if (st.rows != d->train.rows || st.n_items != d->n_items ||
        st.train_nnz != ract_dataset_train_nnz(d) || st.data_hash != ract_dataset_train_hash(d)) {
      s = ract_fail(err, RACT_ERR_DATA,
                    "%s: the checkpoint was trained on other data (%d rows, %d items, %lld "
                    "interactions); give the same data flags as the interrupted run",
                    path, st.rows, st.n_items, (long long)st.train_nnz);
    } else if (st.ranks != (t->comm ? t->comm->size : 1)) {
      s = ract_fail(err, RACT_ERR_ARG,
                    "%s: the checkpoint was written by a run of %d process(es), this one has %d: "
                    "resume with the same number of ranks",
                    path, st.ranks, t->comm ? t->comm->size : 1);
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
      t->n_log = st.n_log;
      ract_error why = {};
      s = ract_train_state_decode_tail(f.state, f.state_bytes, &st, t->log, (int32_t*)t->order,
                                       &why);
      if (s != RACT_OK) s = ract_fail(err, s, "%s: %s", path, why.msg);
    }
  }
  if (s == RACT_OK && state != nullptr) *state = st;
  free(blob);
  return s;
}
