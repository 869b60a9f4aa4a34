// From the trainer to weight files (ract/deploy/model_file.h) and back.
//
// Inference file: the actor's scoring path only (enc.*, the mu half of enc.head as mu.w /
// mu.b, dec.*), in fp32, fp16 or int8, with the item tokens and the training metadata.
// Checkpoint: every actor and critic parameter under its tensor name, the critic's
// BatchNorm running statistics, both Adam moments, the best-weights snapshot, and a state
// blob (counters, RNG, stage, epoch, the config) from which training continues.
// ract/deploy/FORMAT.md lists the tensors of both kinds and every byte of the state blob.
#ifndef RACT_TRAIN_EXPORT_H_
#define RACT_TRAIN_EXPORT_H_

#include "ract/core/status.h"
#include "ract/deploy/model_file.h"
#include "ract/deploy/model_file_write.h"
#include "ract/train/trainer.h"

// Dims of the trainer's model as the file header states them.
ract_file_dims ract_export_dims(const ract_trainer* t);

// Writes the inference file. meta: extra key/value pairs (dataset, metrics, date, ...).
// scratch (may be NULL): where the file is assembled when it fits, e.g. the trainer's free
// logits block (ract_trainer_scratch: exporting then adds nothing to a run's peak memory);
// else the writer takes a buffer of its own.
ract_status ract_export_inference(const char* path, const ract_trainer* t, ract_file_dtype dtype,
                                  const ract_file_kv* meta, int n_meta, void* scratch,
                                  size_t scratch_bytes, ract_error* err);

// The resumable state saved with a checkpoint, as decoded from its state blob. The blob is
// a byte stream, not this struct: every field below is written one by one, little-endian,
// in a fixed order, after a magic and a format version; then n_log epoch logs and the
// epoch's row order (ract/deploy/FORMAT.md, "Training state", gives every byte). A blob
// of another version is refused (RACT_ERR_FILE_VERSION naming both versions), so a
// change of any field's type or order, here or in the nested configs, must bump
// RACT_TRAIN_STATE_VERSION and update FORMAT.md and the encoder in export.cc together.
#define RACT_TRAIN_STATE_MAGIC 0x53544352u  // "RCTS" as bytes
#define RACT_TRAIN_STATE_VERSION \
  4                                           // 3: without the fields of version 4; earlier:
                                              // raw struct dumps (all refused)
#define RACT_TRAIN_STATE_FIXED_BYTES 3196     // everything before the epoch logs
#define RACT_TRAIN_STATE_LOG_BYTES 100        // one ract_epoch_log
#define RACT_TRAIN_STATE_MAX_RANKS (1 << 20)  // a larger `ranks` is refused as corrupt

typedef struct ract_train_state {
  uint32_t version;  // RACT_TRAIN_STATE_VERSION (the only one decoded)
  int32_t n_log;     // epoch logs that follow the fixed part
  int32_t rows;      // training rows of the data it was trained on (the row order's length)
  int32_t n_items;
  int64_t train_nnz;
  uint64_t data_hash;  // FNV-1a of the training matrix: resuming on other data is refused
  int32_t ranks;       // processes of the run (ract_comm size): resuming needs as many
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

// Bytes of the state blob of a state with n_log epoch logs and rows training rows
// (n_log, rows >= 0).
size_t ract_train_state_bytes(int32_t n_log, int32_t rows);

// Writes the blob of st, its st->n_log epoch logs and the row order order[0, st->rows)
// into out[0, bytes); bytes must be ract_train_state_bytes(st->n_log, st->rows)
// (RACT_ERR_ARG otherwise). st->version is ignored: this build writes its own.
ract_status ract_train_state_encode(const ract_train_state* st, const ract_epoch_log* logs,
                                    const int32_t* order, void* out, size_t bytes, ract_error* err);

// Decodes and checks the fixed part of a blob of `bytes` bytes into *st, before any of
// it is used: magic, version (RACT_ERR_FILE_VERSION for another), the size against
// n_log and rows (truncated or oversized: RACT_ERR_FILE_HEADER), the cursor's range, the
// variant switches, the saved config (strings terminated, topk count, threads, the model
// config's checks) and a reachable RNG state (RACT_ERR_FILE_HEADER, naming the field).
ract_status ract_train_state_decode(const void* blob, size_t bytes, ract_train_state* st,
                                    ract_error* err);

// The epoch logs and the row order of a blob that ract_train_state_decode accepted into
// st: logs[0, st->n_log) and order[0, st->rows) (either may be NULL: not read). A row
// order entry outside [0, rows) is RACT_ERR_FILE_HEADER (order may then be partly written).
ract_status ract_train_state_decode_tail(const void* blob, size_t bytes, const ract_train_state* st,
                                         ract_epoch_log* logs, int32_t* order, ract_error* err);

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
ract_status ract_export_restore(ract_trainer* t, const char* path, int resume,
                                ract_train_state* state, ract_error* err);

// Reads only the state of a checkpoint (to create a trainer with its config before
// importing the rest).
ract_status ract_export_read_state(const char* path, ract_train_state* state, ract_error* err);

#endif  // RACT_TRAIN_EXPORT_H_
