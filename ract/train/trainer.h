// The trainer: RaCT's three stages over a dataset (ract/model/README.md, "Stages").
//
//   actor_pretrain -> critic_pretrain -> finetune
//
// Each stage runs its epochs over shuffled batches of the training rows (ract_model_step
// does one batch), steps Adam on the group(s) the stage trains, and — where the preset asks
// — evaluates on the validation set after every epoch, keeps the best weights of the stage
// and stops early after `stopping_step` epochs without improvement of `valid_metric`.
//
// The schedule of each preset is one line of keys in ract/train/config.cc (the table of
// ract/model/README.md, "Presets").
//
// Memory: one arena — the caller's buffer or the trainer's own — holds the actor, the
// critic (params, grads, Adam moments), their activations for the largest batch, the
// best-weights snapshot, the epoch log and all scratch; its size is ract_trainer_bytes().
// Nothing allocates after ract_trainer_create.
#ifndef RACT_TRAIN_TRAINER_H_
#define RACT_TRAIN_TRAINER_H_

#include <stddef.h>
#include <stdint.h>

#include "ract/core/arena.h"
#include "ract/core/rng.h"
#include "ract/core/status.h"
#include "ract/data/dataset.h"
#include "ract/eval/metrics.h"
#include "ract/model/actor.h"
#include "ract/model/critic.h"
#include "ract/model/step.h"
#include "ract/train/adam.h"
#include "ract/train/config.h"

// What happened in one epoch (the training curves of the report and the plot).
typedef struct ract_epoch_log {
  int stage;
  int epoch;  // 0-based within the stage
  int batches;
  double loss;  // the stage's loss, mean over batches
  double actor_loss, ce, kl, beta, q, target, critic_loss;
  double valid;  // valid_metric after the epoch, or NAN when not evaluated
  double seconds_train;
  double seconds_valid;
} ract_epoch_log;

typedef struct ract_stage_summary {
  int ran;
  int epochs;               // epochs run (< planned after an early stop)
  int best_epoch;           // epoch whose weights were kept; -1: the last weights
  double seconds;           // training and validation time of the stage
  ract_metrics best_valid;  // validation metrics of the kept weights (users == 0: none)
  ract_metrics test;        // test metrics of the kept weights, for reports only
} ract_stage_summary;

// Progress callbacks (may be NULL): after every batch and after every epoch.
typedef struct ract_train_callbacks {
  void* ctx;
  void (*on_batch)(void* ctx, int stage, int epoch, int batch, int n_batches,
                   const ract_step_stats* st);
  void (*on_epoch)(void* ctx, const ract_epoch_log* log, const ract_metrics* valid);
  void (*on_stage_end)(void* ctx, int stage);
} ract_train_callbacks;

// Where training stands: enough, with the weights, the Adam moments, the RNG and the
// best-weights snapshot, to continue exactly (ract/train/export.h saves it in checkpoints).
typedef struct ract_train_cursor {
  int32_t stage;       // the stage running or next to run; RACT_STAGES when all are done
  int32_t started;     // the stage's start (fresh Adam, annealing reset) has happened
  int32_t epoch;       // the epoch in progress (0-based)
  int32_t batch;       // the next batch of that epoch
  int32_t begun;       // the epoch has begun: its shuffled row order is in ract_trainer.order
  double best;         // best validation value of the stage so far
  int32_t since_best;  // epochs since it (early stopping)
  ract_epoch_log log;  // the running sums of the epoch in progress
} ract_train_cursor;

typedef struct ract_trainer {
  ract_train_config cfg;
  const ract_dataset* data;
  ract_comm* comm;   // the replicas of a data-parallel run; NULL: one process
  ract_arena arena;  // over the caller's buffer, or one of its own (ract_trainer_create)
  ract_actor actor;
  ract_critic critic;
  ract_actor_acts aacts;
  ract_critic_acts cacts;
  ract_arena scratch;  // a slice of `arena` for per-step scratch
  ract_anneal anneal;
  ract_adam adam_actor;
  ract_adam adam_critic;
  ract_rng rng;
  int* order;  // train.rows: the shuffled row order of the epoch
  int64_t* batch_ptr;
  int32_t* batch_idx;
  int32_t* batch_users;  // the global ids (training rows) of this replica's rows of a batch
  int64_t max_batch_nnz;
  int eval_rows;        // users per evaluation batch: eval_batch, at most the largest eval set
  float* best_actor;    // snapshot of actor params
  float* best_critic;   // snapshot of critic params (+ 6 floats of BN running stats)
  ract_epoch_log* log;  // one entry per epoch run, cap_log (every planned epoch + 1)
  int n_log;
  int cap_log;
  ract_stage_summary stage[RACT_STAGES];
  ract_train_cursor cur;
  // Set by the caller (e.g. a signal handler) to stop after the current batch: run returns
  // RACT_ERR_INTERRUPTED with the cursor at the next batch, ready for a checkpoint. In a
  // data-parallel run the flag is agreed over the replicas before every batch (one small
  // collective): one replica's signal stops them all at the same batch.
  const volatile int* stop;
  int stopped;  // the value of *stop (the largest over the replicas) that stopped the run
} ract_trainer;

// The bytes ract_trainer_create takes for this config and data: the actor and the critic
// (parameters, gradients, Adam moments), their activations for the largest batch, the
// best-weights snapshot, the epoch log and every scratch buffer. Checks the config against
// the data first (ract_train_config_check, validation users, batch contents). A tool compares
// it with the machine's memory before creating anything.
ract_status ract_trainer_bytes(const ract_train_config* cfg, const ract_dataset* data,
                               size_t* bytes, ract_error* err);

// Creates the trainer for `data` (kept by pointer) in `buffer` (ract_trainer_bytes bytes,
// the caller's, any alignment; NULL: the trainer allocates and later frees its own) and
// initialises the weights from the seed. Nothing allocates after this.
ract_status ract_trainer_create(ract_trainer* t, const ract_train_config* cfg,
                                const ract_dataset* data, void* buffer, size_t bytes,
                                ract_error* err);
void ract_trainer_free(ract_trainer* t);

// The activations' B x I block, free between steps (an exporter assembles a weight file
// there: ract/train/export.h); *bytes its size.
void* ract_trainer_scratch(ract_trainer* t, size_t* bytes);

// Runs the stages cfg.run_stage selects, in order, from where the cursor stands (the start,
// or a restored checkpoint's position).
ract_status ract_trainer_run(ract_trainer* t, const ract_train_callbacks* cb, ract_error* err);
// One stage, from its start.
ract_status ract_trainer_run_stage(ract_trainer* t, ract_stage s, const ract_train_callbacks* cb,
                                   ract_error* err);

// Evaluates the actor (eval mode) on one evaluation set with the configured cut-offs. In a
// data-parallel run each replica scores only its block of rows (ract_trainer_eval_block) and
// the metric sums are added over the replicas before the means: every replica gets the same
// metrics, so early stopping and the best weights agree.
ract_status ract_trainer_evaluate(ract_trainer* t, const ract_eval_set* set, ract_metrics* out,
                                  ract_error* err);
// Who reads what in a data-parallel run (comm NULL: one process, which reads everything).
// The replica of rank r trains the users u with u % size == r, and evaluates the rows
// [lo, hi) of an evaluation set of `rows` rows: contiguous blocks, in rank order.
int ract_trainer_owns_user(const ract_comm* comm, int user);
void ract_trainer_eval_block(const ract_comm* comm, int rows, int* lo, int* hi);

// Data at scale: empties, in `data`, every row this replica never reads — the training rows
// of the users other replicas train (u % size != rank) and the evaluation rows outside its
// block — and gives their memory back, so that memory per replica falls as replicas are
// added. The shapes stay (rows keep their global ids, batches and draws are unchanged).
// Call before ract_trainer_bytes with the communicator the trainer will get; nothing to do
// for one process (comm NULL or of size 1). Counts of the whole data (interactions,
// print_counts) must be taken before; counts keeps the whole training matrix's entries and
// fingerprint for checkpoints and reports (ract_dataset_train_nnz, ract_dataset_train_hash).
ract_status ract_trainer_keep_own_rows(ract_dataset* data, const ract_comm* comm, ract_error* err);

// How well the critic predicts its target: Q against the true NDCG@metrics_k target of the
// actor in train mode (dropout as in training, the current beta), over every training user
// under `train_draws` dropout draws each, plus every validation user once.
typedef struct ract_critic_fit {
  int64_t pairs;  // (user, draw) pairs over every replica
  double corr;    // Pearson correlation of Q and the target over them
  double mean_q;  // means over them
  double mean_target;
  int returned;  // pairs written to q/target (this replica's first n_out)
} ract_critic_fit;
ract_status ract_trainer_critic_check(ract_trainer* t, int train_draws, float* q, float* target,
                                      int n_out, ract_critic_fit* fit, ract_error* err);

#endif  // RACT_TRAIN_TRAINER_H_
