// Trainer <-> weight files (export.h).
#include "ract/train/export.h"

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

// Serialises d into the trainer's activation memory when the file fits there (the logits
// block is scratch between steps, so exporting adds nothing to a training run's peak
// memory), else into a buffer of its own; then writes it atomically.
static ract_status write_file(const char* path, const ract_trainer* t, const ract_file_desc* d,
                              ract_file_dtype dtype, ract_error* err) {
  size_t bytes = 0;
  RACT_CHECK(ract_model_file_bytes(d, dtype, &bytes, err));
  const size_t room = (size_t)t->aacts.max_batch * (size_t)t->actor.n_items * sizeof(float);
  if (t->aacts.logits == nullptr || bytes > room) return ract_model_file_write(path, d, dtype, err);
  void* buf = t->aacts.logits;
  RACT_CHECK(ract_model_file_write_buffer(buf, bytes, d, dtype, nullptr, err));
  return ract_atomic_write(path, buf, bytes, err);
}

ract_status ract_export_inference(const char* path, const ract_trainer* t, ract_file_dtype dtype,
                                  const ract_file_kv* meta, int n_meta, ract_error* err) {
  const ract_actor* a = &t->actor;
  const int L = a->latent;
  std::vector<ract_file_tensor> ts;
  std::vector<std::string> names;  // keeps the names alive
  int n = ract_actor_tensor_count(a);
  names.reserve(n);
  for (int i = 0; i < n; i++) {
    ract_param_info p = ract_actor_tensor_info(a, i);
    const float* data = a->params + p.offset;
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
  ract_file_desc d;
  memset(&d, 0, sizeof(d));
  d.kind = RACT_FILE_INFERENCE;
  d.dims = ract_export_dims(t);
  d.tensors = ts.data();
  d.n_tensors = (int32_t)ts.size();
  d.tokens = tok.data();
  d.meta = meta;
  d.n_meta = n_meta;
  return write_file(path, t, &d, dtype, err);
}

ract_status ract_export_checkpoint(const char* path, const ract_trainer* t, int stage, int epoch,
                                   const ract_file_kv* meta, int n_meta, ract_error* err) {
  const ract_actor* a = &t->actor;
  const ract_critic* c = &t->critic;
  std::vector<ract_file_tensor> ts;
  std::vector<std::string> names;
  names.reserve(ract_actor_tensor_count(a) + ract_critic_tensor_count(c) + 8);
  for (int i = 0; i < ract_actor_tensor_count(a); i++) {
    ract_param_info p = ract_actor_tensor_info(a, i);
    names.push_back(p.name);
    ts.push_back(tensor2(names.back().c_str(), p.rows, p.cols, a->params + p.offset));
  }
  for (int i = 0; i < ract_critic_tensor_count(c); i++) {
    ract_param_info p = ract_critic_tensor_info(c, i);
    names.push_back(p.name);
    ts.push_back(tensor2(names.back().c_str(), p.rows, p.cols, c->params + p.offset));
  }
  ts.push_back(tensor2("critic.bn.mean", 3, 1, c->bn_mean));
  ts.push_back(tensor2("critic.bn.var", 3, 1, c->bn_var));
  ts.push_back(tensor2("adam.actor.m", (int64_t)a->n_params, 1, a->m));
  ts.push_back(tensor2("adam.actor.v", (int64_t)a->n_params, 1, a->v));
  ts.push_back(tensor2("adam.critic.m", (int64_t)c->n_params, 1, c->m));
  ts.push_back(tensor2("adam.critic.v", (int64_t)c->n_params, 1, c->v));

  ract_train_state st;
  memset(&st, 0, sizeof(st));
  st.magic = kStateMagic;
  st.version = 1;
  st.stage = stage;
  st.epoch = epoch;
  st.anneal_steps = t->anneal.steps;
  st.adam_actor_t = t->adam_actor.t;
  st.adam_critic_t = t->adam_critic.t;
  st.adam_actor_lr = t->adam_actor.lr;
  st.adam_critic_lr = t->adam_critic.lr;
  memcpy(st.rng, t->rng.s, sizeof(st.rng));
  st.cfg = t->cfg;

  std::vector<const char*> tok = item_tokens(t);
  ract_file_desc d;
  memset(&d, 0, sizeof(d));
  d.kind = RACT_FILE_CHECKPOINT;
  d.dims = ract_export_dims(t);
  d.tensors = ts.data();
  d.n_tensors = (int32_t)ts.size();
  d.tokens = tok.data();
  d.meta = meta;
  d.n_meta = n_meta;
  d.state = &st;
  d.state_bytes = sizeof(st);
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

ract_status ract_import_checkpoint(ract_trainer* t, const char* path, ract_train_state* state,
                                   ract_error* err) {
  void* blob = nullptr;
  size_t len = 0;
  RACT_CHECK(ract_model_file_read(path, &blob, &len, err));
  ract_model_file f;
  ract_status s = ract_model_file_open(&f, blob, len, err);
  if (s == RACT_OK && f.kind != RACT_FILE_CHECKPOINT) {
    s = ract_fail(err, RACT_ERR_FILE_KIND, "%s: an inference file, not a checkpoint", path);
  }
  if (s == RACT_OK && f.dims.n_items != t->actor.n_items) {
    s = ract_fail(err, RACT_ERR_FILE_DIMS, "%s: the checkpoint has %d items, the data %d", path,
                  f.dims.n_items, t->actor.n_items);
  }
  ract_actor* a = &t->actor;
  ract_critic* c = &t->critic;
  for (int i = 0; s == RACT_OK && i < ract_actor_tensor_count(a); i++) {
    ract_param_info p = ract_actor_tensor_info(a, i);
    s = load_tensor(&f, p.name, p.rows, p.cols, a->params + p.offset, err);
  }
  for (int i = 0; s == RACT_OK && i < ract_critic_tensor_count(c); i++) {
    ract_param_info p = ract_critic_tensor_info(c, i);
    s = load_tensor(&f, p.name, p.rows, p.cols, c->params + p.offset, err);
  }
  if (s == RACT_OK) s = load_tensor(&f, "critic.bn.mean", 3, 1, c->bn_mean, err);
  if (s == RACT_OK) s = load_tensor(&f, "critic.bn.var", 3, 1, c->bn_var, err);
  if (s == RACT_OK) s = load_tensor(&f, "adam.actor.m", (int64_t)a->n_params, 1, a->m, err);
  if (s == RACT_OK) s = load_tensor(&f, "adam.actor.v", (int64_t)a->n_params, 1, a->v, err);
  if (s == RACT_OK) s = load_tensor(&f, "adam.critic.m", (int64_t)c->n_params, 1, c->m, err);
  if (s == RACT_OK) s = load_tensor(&f, "adam.critic.v", (int64_t)c->n_params, 1, c->v, err);
  ract_train_state st;
  memset(&st, 0, sizeof(st));
  if (s == RACT_OK) {
    if (f.state_bytes != sizeof(st)) {
      s = ract_fail(err, RACT_ERR_FILE_HEADER, "%s: training state of %zu bytes, expected %zu",
                    path, f.state_bytes, sizeof(st));
    } else {
      memcpy(&st, f.state, sizeof(st));
      if (st.magic != kStateMagic || st.version != 1 || st.stage < 0 || st.stage >= RACT_STAGES ||
          st.epoch < 0) {
        s = ract_fail(err, RACT_ERR_FILE_HEADER, "%s: bad training state", path);
      }
    }
  }
  if (s == RACT_OK) {
    t->anneal.steps = st.anneal_steps;
    t->adam_actor.t = st.adam_actor_t;
    t->adam_critic.t = st.adam_critic_t;
    t->adam_actor.lr = st.adam_actor_lr;
    t->adam_critic.lr = st.adam_critic_lr;
    memcpy(t->rng.s, st.rng, sizeof(st.rng));
    if (state) *state = st;
  }
  free(blob);
  return s;
}
