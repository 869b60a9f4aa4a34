// The training configuration: the model's keys (ract/model/hparams.h) plus the schedule, with
// RecBole's names. A preset is one line of key=value pairs (ract/model/README.md lists them);
// a tool sets any key afterwards with ract_train_config_set, so presets, flags and config
// files go through one parser.
#ifndef RACT_TRAIN_CONFIG_H_
#define RACT_TRAIN_CONFIG_H_

#include <stddef.h>
#include <stdint.h>

#include "ract/core/status.h"
#include "ract/eval/metrics.h"
#include "ract/model/hparams.h"
#include "ract/model/step.h"

#define RACT_STAGES 3

typedef struct ract_train_config {
  char preset[16];  // the preset the config started from ("recbole", "paper")
  ract_hparams model;
  int run_stage[RACT_STAGES];     // train_stage: which stages run (all: every one)
  int stage_epochs[RACT_STAGES];  // pretrain_epochs, critic_epochs, epochs
  float stage_lr[RACT_STAGES];    // learning_rate, critic_learning_rate, finetune_learning_rate
  int validate[RACT_STAGES];      // validate: evaluate on valid after every epoch of the stage
  int stopping_step;              // a validated stage stops after this many epochs without
                                  // improvement of valid_metric; 0: never early
  int train_batch_size;
  int total_anneal_epochs;       // > 0: the model's total_anneal_steps := this many epochs of
                                 // training batches (set by ract_trainer_create from the data)
  int drop_last;                 // 1: the last partial batch is dropped (paper); 0: kept (recbole)
  char valid_metric[32];         // "mrr@10", "ndcg@100", ...
  int topk[RACT_METRICS_MAX_K];  // metric cut-offs of the tables
  int n_topk;
  int eval_batch;  // users per evaluation batch
  int threads;     // BLIS's and the library's threads
  uint64_t seed;
} ract_train_config;

// Every key of the preset `name` ("recbole", "paper" or "ract"). RACT_ERR_ARG for another
// name.
ract_status ract_train_config_preset(ract_train_config* c, const char* name, ract_error* err);

// Sets one key from text: the model's keys (ract_hparams_set), and train_stage =
// all|actor_pretrain|critic_pretrain|finetune, pretrain_epochs, critic_epochs, epochs,
// learning_rate, critic_learning_rate, finetune_learning_rate, train_batch_size,
// total_anneal_epochs, drop_last,
// validate (stage names, comma-separated, or none), stopping_step, valid_metric (name@K, any
// case), topk (distinct cut-offs), eval_batch, threads, seed. RACT_ERR_ARG naming the key for
// an unknown key or a malformed or out-of-range value (c unchanged).
ract_status ract_train_config_set(ract_train_config* c, const char* key, const char* value,
                                  ract_error* err);

// "preset=... key=value ..." with every key (it parses back through ract_train_config_set,
// preset first). Returns the length as snprintf does.
int ract_train_config_format(const ract_train_config* c, char* buf, size_t size);

// What ract_trainer_create checks of a config without the data: batch sizes, cut-offs and
// valid_metric, threads, epochs (at most 2^24 in all), finite learning rates >= 0, the model
// config. RACT_ERR_ARG with a message naming the field.
ract_status ract_train_config_check(const ract_train_config* c, ract_error* err);

// For timing runs (tools/bench, tools/bench_dist): the stages with run[s] != 0 run `epochs`
// epochs each, without validation or early stopping; the others do not run.
void ract_train_config_timed(ract_train_config* c, int epochs, const int* run);

// RACT_OK if two configs describe the same run: every key but threads agrees (and but
// total_anneal_steps when both derive it from the same total_anneal_epochs). Else
// RACT_ERR_ARG naming the first key that differs with both values (for --resume).
ract_status ract_train_config_same_run(const ract_train_config* a, const ract_train_config* b,
                                       ract_error* err);

const char* ract_stage_name(ract_stage s);  // "actor_pretrain", ...
// Parses a stage name; -1 if unknown.
int ract_stage_parse(const char* name);

#endif  // RACT_TRAIN_CONFIG_H_
