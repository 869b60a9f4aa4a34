// Tests only: a bare actor (ract/model/actor.h) to weight files, without the trainer
// (ract/train/export.h is the trainer's exporter). The deploy tests use it to check the
// scorer against the actor's own forward on exported files.
//
//   fixture_export_inference(path, &actor, RACT_PRESET_RECBOLE, tokens, meta, n_meta,
//                            RACT_FILE_I8, &err);
//
// fixture_export_actor_tensors lists the actor's parameters (or, with another flat buffer of
// the same layout and a name prefix, its Adam moments: "adam.m.enc.0.w", ...) as file
// tensors.
#ifndef TESTS_DEPLOY_ACTOR_EXPORT_H_
#define TESTS_DEPLOY_ACTOR_EXPORT_H_

#include "ract/core/status.h"
#include "ract/deploy/model_file.h"
#include "ract/deploy/model_file_write.h"
#include "ract/model/actor.h"

typedef struct fixture_export_tensors {
  int n;
  ract_file_tensor t[RACT_FILE_MAX_REQUIRED];
  char names[RACT_FILE_MAX_REQUIRED][RACT_FILE_NAME_BYTES];
} fixture_export_tensors;

// The model dims of the actor's file: n_items, hidden sizes, L, preset, and the evaluation
// input scale s (ract_hparams_eval_scale).
ract_file_dims fixture_export_dims(const ract_actor* a, ract_file_preset preset);

// Views of `flat` (the actor's params, m or v: same layout) under their file names with
// `prefix` prepended (NULL or ""). kind RACT_FILE_INFERENCE: mu.w / mu.b are the first L rows
// of enc.head (no logvar half); RACT_FILE_CHECKPOINT: the whole enc.head. Names longer than
// the format allows are RACT_ERR_ARG.
ract_status fixture_export_actor_tensors(fixture_export_tensors* out, const ract_actor* a,
                                         const float* flat, int32_t kind, const char* prefix,
                                         ract_error* err);

// Writes the inference file of the actor in dtype, atomically. tokens: n_items item tokens
// (NULL: "0", "1", ...); meta: training provenance (dataset, counts, test metrics, date).
ract_status fixture_export_inference(const char* path, const ract_actor* a, ract_file_preset preset,
                                     const char* const* tokens, const ract_file_kv* meta,
                                     int n_meta, ract_file_dtype dtype, ract_error* err);

#endif  // TESTS_DEPLOY_ACTOR_EXPORT_H_
