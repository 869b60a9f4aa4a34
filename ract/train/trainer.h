// The trainer: RaCT's three stages over a dataset (ract/model/README.md, "Stages").
//
//   actor_pretrain -> critic_pretrain -> finetune
//
// Each stage runs its epochs over shuffled batches of the training rows (ract_model_step
// does one batch), steps Adam on the group(s) the stage trains, and — where the preset asks
// — evaluates on the validation set after every epoch, keeps the best weights of the stage
// and stops early after `stopping_step` epochs without improvement of `valid_metric`.
//
// Presets (ract_train_config_preset):
//   recbole: batch 2048, last partial batch kept; 150 actor epochs without validation (the
//            last weights are kept); 50 critic epochs at lr 1e-4; finetune at lr 2e-6 for up
//            to 300 epochs with validation every epoch and early stopping on MRR@10 after 10
//            epochs without improvement, best weights kept (RecBole's `>=` rule). A fresh
//            Adam in every stage, as RecBole builds one per run.
//   paper:   batch 500, remainder dropped; 100 actor epochs, 50 critic epochs, 50 finetune
//            epochs (actor and critic on the same batch); validation NDCG@100 after every
//            actor and finetune epoch picks the best weights of the stage; no early stop.
//
// Memory: one arena holds the actor, the critic (params, grads, Adam moments), their
// activations for the largest batch, the best-weights snapshot, and all scratch; its size
// is ract_trainer_bytes(). Nothing allocates inside the epoch loop.
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

#define RACT_STAGES 3

typedef struct ract_train_config {
  char preset[16];  // "recbole" or "paper"
  ract_model_config model;
  int run_stage[RACT_STAGES];      // which stages run (train_stage=all: every one)
  int stage_epochs[RACT_STAGES];   // pretrain_epochs, critic_epochs, epochs
  float stage_lr[RACT_STAGES];     // learning_rate, critic_learning_rate, finetune_learning_rate
  float finetune_critic_lr;        // paper: the critic's lr while it trains in finetune
  int validate[RACT_STAGES];       // evaluate on valid after every epoch of the stage
  int stopping_step[RACT_STAGES];  // early stopping patience; 0 = never stop early
  int train_batch_size;
  int drop_last;                 // 1: the last partial batch is dropped (paper); 0: kept (recbole)
  char valid_metric[32];         // "mrr@10", "ndcg@100", ...
  int topk[RACT_METRICS_MAX_K];  // metric cut-offs of the tables
  int n_topk;
  int eval_batch;  // users per evaluation batch (presets: the training batch, >= 1024)
  int threads;
  uint64_t seed;
} ract_train_config;

ract_status ract_train_config_preset(ract_train_config* c, const char* preset, ract_error* err);
// What ract_trainer_create checks of a config without the data: batch sizes, cut-offs and
// valid_metric, threads, epochs (at most 2^24 in all), finite learning rates >= 0, the model
// config. RACT_ERR_ARG with a message naming the field.
ract_status ract_train_config_check(const ract_train_config* c, ract_error* err);
const char* ract_stage_name(ract_stage s);  // "actor_pretrain", ...
// Parses a stage name; -1 if unknown.
int ract_stage_parse(const char* name);

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
  ract_arena arena;  // owned
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
  int64_t max_batch_nnz;
  int eval_rows;       // users per evaluation batch: eval_batch, at most the largest eval set
  float* best_actor;   // snapshot of actor params
  float* best_critic;  // snapshot of critic params (+ 6 floats of BN running stats)
  ract_epoch_log* log;
  int n_log;
  int cap_log;
  ract_stage_summary stage[RACT_STAGES];
  ract_train_cursor cur;
  // Set by the caller (e.g. a signal handler) to stop after the current batch: run returns
  // RACT_ERR_INTERRUPTED with the cursor at the next batch, ready for a checkpoint.
  const volatile int* stop;
} ract_trainer;

// Creates the trainer for `data` (kept by pointer) and initialises the weights from the
// seed. Validates the config against the data (batch > 0, metric known, sizes).
ract_status ract_trainer_create(ract_trainer* t, const ract_train_config* cfg,
                                const ract_dataset* data, ract_error* err);
void ract_trainer_free(ract_trainer* t);

// Runs the stages cfg.run_stage selects, in order, from where the cursor stands (the start,
// or a restored checkpoint's position).
ract_status ract_trainer_run(ract_trainer* t, const ract_train_callbacks* cb, ract_error* err);
// One stage, from its start.
ract_status ract_trainer_run_stage(ract_trainer* t, ract_stage s, const ract_train_callbacks* cb,
                                   ract_error* err);

// Evaluates the actor (eval mode) on one evaluation set with the configured cut-offs.
ract_status ract_trainer_evaluate(ract_trainer* t, const ract_eval_set* set, ract_metrics* out,
                                  ract_error* err);

// The critic against the truth on an evaluation set's input rows: per row, Q and the true
// NDCG@metrics_k target of the actor in train mode (dropout as in training). n_out rows at
// most; returns the count in *n and the Pearson correlation in *corr.
ract_status ract_trainer_critic_check(ract_trainer* t, const ract_eval_set* set, float* q,
                                      float* target, int n_out, int* n, double* corr,
                                      ract_error* err);

#endif  // RACT_TRAIN_TRAINER_H_
