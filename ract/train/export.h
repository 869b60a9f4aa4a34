// From the trainer to weight files (ract/deploy/model_file.h) and back.
//
// Inference file: the actor's scoring path only (enc.*, the mu half of enc.head as mu.w /
// mu.b, dec.*), in fp32, fp16 or int8, with the item tokens and the training metadata.
// Checkpoint: every actor and critic parameter under its MODEL_LAYOUT name, the critic's
// BatchNorm running statistics, both Adam moments, and a state blob (counters, RNG, stage,
// epoch, the config) from which training continues.
#ifndef RACT_TRAIN_EXPORT_H_
#define RACT_TRAIN_EXPORT_H_

#include "ract/core/status.h"
#include "ract/deploy/model_file.h"
#include "ract/train/trainer.h"

// Dims of the trainer's model as the file header states them.
ract_model_dims ract_export_dims(const ract_trainer* t);

// Writes the inference file. meta: extra key/value pairs (dataset, metrics, date, ...).
// scratch (may be NULL): where the file is assembled when it fits, e.g. the trainer's free
// logits block (ract_trainer_scratch: exporting then adds nothing to a run's peak memory);
// else the writer takes a buffer of its own.
ract_status ract_export_inference(const char* path, const ract_trainer* t, ract_file_dtype dtype,
                                  const ract_file_kv* meta, int n_meta, void* scratch,
                                  size_t scratch_bytes, ract_error* err);

// The resumable state saved with a checkpoint (the state blob): this struct, then n_log
// ract_epoch_log records, then the epoch's row order (rows int32).
typedef struct ract_train_state {
  uint32_t magic;    // "RCTS"
  uint32_t version;  // 2
  uint32_t bytes;    // sizeof(ract_train_state): refuses a blob of another build's layout
  int32_t n_log;
  int32_t rows;  // training rows of the data it was trained on
  int32_t n_items;
  int64_t train_nnz;
  uint64_t data_hash;  // FNV-1a of the training matrix: resuming on other data is refused
  int64_t anneal_steps;
  int64_t adam_actor_t;
  int64_t adam_critic_t;
  float adam_actor_lr;
  float adam_critic_lr;
  uint64_t rng[4];
  ract_train_config cfg;
  ract_train_cursor cur;
  ract_stage_summary stage[RACT_STAGES];
} ract_train_state;

// Fingerprint of a training matrix.
uint64_t ract_export_data_hash(const ract_csr* m);

// Everything training needs to continue exactly where it stands: weights, critic, BatchNorm
// state, Adam moments and counters, RNG, the cursor (stage, epoch, batch), the stage's best
// weights, the logs.
ract_status ract_export_checkpoint(const char* path, const ract_trainer* t,
                                   const ract_file_kv* meta, int n_meta, ract_error* err);

// Loads a checkpoint's parameters and BatchNorm statistics into t (created for the same
// model dims and data width). With resume, also everything else ract_export_checkpoint
// saved, so that ract_trainer_run continues the interrupted run; the config is the
// checkpoint's (returned in state->cfg; create the trainer with it), and the data must be
// the same. state may be NULL.
ract_status ract_import_checkpoint(ract_trainer* t, const char* path, int resume,
                                   ract_train_state* state, ract_error* err);

// Reads only the state of a checkpoint (to create a trainer with its config before
// importing the rest).
ract_status ract_read_checkpoint_state(const char* path, ract_train_state* state, ract_error* err);

#endif  // RACT_TRAIN_EXPORT_H_
