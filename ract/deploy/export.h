// From a trained actor (ract/model/actor.h) to weight files: the bridge the trainer uses.
// Separate from the scorer, which must not link the training code (BLIS).
//
//   ract_export_inference(path, &actor, RACT_PRESET_RECBOLE, tokens, meta, n_meta,
//                         RACT_FILE_I8, &err);
//
// For a checkpoint, ract_export_actor_tensors lists the actor's parameters (or, with another
// flat buffer of the same layout and a name prefix, its Adam moments: "adam.m.enc.0.w", ...)
// as file tensors; the trainer appends its own (critic, BatchNorm state) and writes the
// ract_file_desc with ract_model_file_write.
#ifndef RACT_DEPLOY_EXPORT_H_
#define RACT_DEPLOY_EXPORT_H_

#include "ract/core/status.h"
#include "ract/deploy/model_file.h"
#include "ract/model/actor.h"

typedef struct ract_export_tensors {
  int n;
  ract_file_tensor t[RACT_MODEL_FILE_MAX_REQUIRED];
  char names[RACT_MODEL_FILE_MAX_REQUIRED][RACT_MODEL_FILE_NAME_BYTES];
} ract_export_tensors;

// The model dims of the actor's file: n_items, hidden sizes, L, preset, and the evaluation
// input scale s (ract_model_eval_scale).
ract_model_dims ract_export_dims(const ract_actor* a, ract_file_preset preset);

// Views of `flat` (the actor's params, m or v: same layout) under their file names with
// `prefix` prepended (NULL or ""). kind RACT_FILE_INFERENCE: mu.w / mu.b are the first L rows
// of enc.head (no logvar half); RACT_FILE_CHECKPOINT: the whole enc.head. Names longer than
// the format allows are RACT_ERR_ARG.
ract_status ract_export_actor_tensors(ract_export_tensors* out, const ract_actor* a,
                                      const float* flat, int32_t kind, const char* prefix,
                                      ract_error* err);

// Writes the inference file of the actor in dtype, atomically. tokens: n_items item tokens
// (NULL: "0", "1", ...); meta: training provenance (dataset, counts, test metrics, date).
ract_status ract_export_inference(const char* path, const ract_actor* a, ract_file_preset preset,
                                  const char* const* tokens, const ract_file_kv* meta, int n_meta,
                                  ract_file_dtype dtype, ract_error* err);

#endif  // RACT_DEPLOY_EXPORT_H_
