// Actor -> weight file (tests only): see actor_export.h.
#include "tests/deploy/actor_export.h"

#include <stdio.h>
#include <string.h>

#include "ract/deploy/model_file_write.h"
#include "ract/model/hparams.h"

ract_file_dims fixture_export_dims(const ract_actor* a, ract_file_preset preset) {
  ract_file_dims d;
  memset(&d, 0, sizeof(d));
  d.n_items = a->n_items;
  d.latent = a->latent;
  d.n_hidden = a->cfg.n_hidden;
  for (int j = 0; j < a->cfg.n_hidden && j < RACT_FILE_MAX_HIDDEN; j++) {
    d.hidden[j] = a->cfg.mlp_hidden_size[j];
  }
  d.preset = preset;
  d.input_scale = ract_hparams_eval_scale(&a->cfg);
  return d;
}

ract_status fixture_export_actor_tensors(fixture_export_tensors* out, const ract_actor* a,
                                         const float* flat, int32_t kind, const char* prefix,
                                         ract_error* err) {
  if (out == nullptr || a == nullptr || flat == nullptr) {
    return ract_fail(err, RACT_ERR_ARG, "export: null argument");
  }
  if (kind != RACT_FILE_INFERENCE && kind != RACT_FILE_CHECKPOINT) {
    return ract_fail(err, RACT_ERR_ARG, "export: kind %d", kind);
  }
  memset(out, 0, sizeof(*out));
  int n = a->w.table.n;
  if (n > RACT_FILE_MAX_REQUIRED) {
    return ract_fail(err, RACT_ERR_ARG, "export: %d actor tensors, at most %d", n,
                     RACT_FILE_MAX_REQUIRED);
  }
  for (int i = 0; i < n; i++) {
    ract_param_info info = ract_table_info(&a->w.table, i);
    const char* name = info.name;
    int rows = info.rows;
    if (kind == RACT_FILE_INFERENCE && strncmp(name, "enc.head.", 9) == 0) {
      name = name[9] == 'w' ? "mu.w" : "mu.b";  // rows [0, L): the mu half
      rows = a->latent;
    }
    int len = snprintf(out->names[i], RACT_FILE_NAME_BYTES, "%s%s", prefix != nullptr ? prefix : "",
                       name);
    if (len < 0 || len >= RACT_FILE_NAME_BYTES) {
      return ract_fail(err, RACT_ERR_ARG, "export: tensor name '%s%s' is too long", prefix, name);
    }
    ract_file_tensor* t = &out->t[i];
    size_t nl = strlen(name);
    bool bias = nl >= 2 && strcmp(name + nl - 2, ".b") == 0;  // the actor lists it as n x 1
    t->name = out->names[i];
    t->n_dims = bias ? 1 : 2;
    t->dims[0] = rows;
    t->dims[1] = bias ? 0 : info.cols;
    t->data = flat + info.offset;
  }
  out->n = n;
  return RACT_OK;
}

ract_status fixture_export_inference(const char* path, const ract_actor* a, ract_file_preset preset,
                                     const char* const* tokens, const ract_file_kv* meta,
                                     int n_meta, ract_file_dtype dtype, ract_error* err) {
  fixture_export_tensors ex;
  RACT_CHECK(fixture_export_actor_tensors(&ex, a, a->w.params, RACT_FILE_INFERENCE, "", err));
  ract_file_desc d;
  memset(&d, 0, sizeof(d));
  d.kind = RACT_FILE_INFERENCE;
  d.dims = fixture_export_dims(a, preset);
  d.tensors = ex.t;
  d.n_tensors = ex.n;
  d.tokens = tokens;
  d.meta = meta;
  d.n_meta = n_meta;
  return ract_file_write(path, &d, dtype, err);
}
