// The model's hyper-parameters, with RecBole's names, plus the switches that select each
// variant of ract/model/README.md. A preset (`recbole` or `paper`) only sets defaults; every field
// can be changed afterwards.
#ifndef RACT_MODEL_HPARAMS_H_
#define RACT_MODEL_HPARAMS_H_

#include <stddef.h>
#include <stdint.h>

#include "ract/core/status.h"

#define RACT_MAX_LAYERS 8

// How the encoder's last layer gives mu and logvar (ract/deploy/FORMAT.md: the same 2L x hk
// layer `enc.head`; only L and the init differ).
typedef enum ract_head_style {
  RACT_HEAD_SPLIT = 0,  // recbole: Linear(hk, latent_dimension) split in halves, L = latent/2
  RACT_HEAD_TWO = 1,    // paper: two heads Linear(hk, latent_dimension), L = latent
} ract_head_style;

typedef enum ract_dropout_style {
  RACT_DROPOUT_KEEP = 0,      // recbole: kept entries keep their value; eval input (1-p)*t
  RACT_DROPOUT_INVERTED = 1,  // paper: kept entries / (1-p); eval input t
} ract_dropout_style;

typedef enum ract_bn_mode {
  RACT_BN_BATCH = 0,    // recbole: batch statistics in critic/finetune stages, learnable gamma/beta
  RACT_BN_RUNNING = 1,  // paper: running statistics from the actor stage, fixed, no affine
} ract_bn_mode;

typedef enum ract_init_style {
  RACT_INIT_XAVIER_NORMAL = 0,   // recbole: N(0, 2/(fan_in+fan_out)), zero bias
  RACT_INIT_XAVIER_UNIFORM = 1,  // paper: U(+-sqrt(6/(fan_in+fan_out))), bias ~ trunc N(0, 1e-3^2)
} ract_init_style;

typedef enum ract_anneal_rule {
  RACT_ANNEAL_PER_LOSS = 0,   // recbole: counts actor-loss evaluations, reset in every stage
  RACT_ANNEAL_PER_BATCH = 1,  // paper: counts actor training batches, never reset
} ract_anneal_rule;

// The loss the critic sees as its third feature, and differentiates (critic_loss_feature).
typedef enum ract_loss_feature {
  RACT_FEATURE_CE = 0,       // recbole, paper: the actor's CE over the full history
  RACT_FEATURE_HELDOUT = 1,  // ract: the CE of the items dropout removed, softmax over the
                             // items it did not keep: the smooth analogue of the NDCG target
} ract_loss_feature;

// What the finetune stage's actor minimises (finetune_objective).
typedef enum ract_finetune_objective {
  RACT_FINETUNE_CRITIC = 0,      // -mean(Q): RaCT
  RACT_FINETUNE_LIKELIHOOD = 1,  // mean(ce + beta*kl): the actor's own loss (a control)
  RACT_FINETUNE_FEATURE = 2,     // the critic's loss feature, every user weighted 1/B (a control)
} ract_finetune_objective;

typedef struct ract_hparams {
  // RecBole's keys.
  int n_hidden;                          // entries of mlp_hidden_size (>= 1)
  int mlp_hidden_size[RACT_MAX_LAYERS];  // [600]
  int latent_dimension;                  // recbole 256 (L = 128), paper 200 (L = 200)
  float dropout_prob;                    // 0.5
  float anneal_cap;                      // 0.2
  int64_t total_anneal_steps;            // 200000 (<= 0: beta = anneal_cap)
  int n_critic_layers;                   // entries of critic_layers (>= 1)
  int critic_layers[RACT_MAX_LAYERS];    // [100, 100, 10]
  int metrics_k;                         // 100: the k of the critic's NDCG target
  // Variant switches (ract/model/README.md, "Presets").
  ract_head_style head;
  ract_dropout_style dropout_style;
  float eps_std;            // std of the reparameterisation noise: recbole 0.01, paper 1
  int critic_loss_with_kl;  // critic's loss feature: 1 = CE + beta*KL (recbole), 0 = CE (paper)
  ract_bn_mode bn_mode;
  int ndcg_gain_sqrt;  // 1: relevant items gain 1/sqrt(|x|) (recbole), 0: gain 1 (paper)
  ract_init_style init;
  ract_anneal_rule anneal_rule;
  float critic_l2;    // weight-decay term coef*sum(w^2)/B in the critic loss: paper 1e-4, recbole 0
  float bn_eps;       // 1e-5
  float bn_momentum;  // 0.1 (PyTorch convention: running = (1-m)*running + m*batch)
  int finetune_critic;  // paper 1: finetune also trains the critic on the same batch; recbole 0
  // ract/model/README.md, "The ract preset": recbole and paper leave these at 0.
  ract_loss_feature critic_loss_feature;
  ract_finetune_objective finetune_objective;
  int critic_weight_norm;   // 1: the finetune's per-user weights -dQ/dL scaled to sum 1
  float critic_weight_mix;  // a in [0, 1] (with critic_weight_norm): weights (1-a)*critic + a/B
  int critic_bn_refresh;    // 1 (running BatchNorm): critic_pretrain starts from the features'
                            // statistics over every training user under the pretrained actor
} ract_hparams;

// Fills cfg with the preset "recbole", "paper" or "ract". RACT_ERR_ARG for another name.
ract_status ract_hparams_preset(ract_hparams* cfg, const char* preset, ract_error* err);

// Sets one field by name from text, for tools and config files. Keys: RecBole's
// (mlp_hidden_size, latent_dimension, dropout_prob, anneal_cap, total_anneal_steps,
// critic_layers, metrics_k) and the switches: head = split|two, dropout_style =
// keep|inverted, eps_std, critic_loss_with_kl = 0|1, bn_mode = batch|running, ndcg_gain =
// sqrt|one, init = xavier_normal|xavier_uniform, anneal_rule = per_loss|per_batch, critic_l2,
// bn_eps, bn_momentum, finetune_critic = 0|1. Lists as "[100,100,10]" or "100,100,10".
// RACT_ERR_ARG naming the key for an unknown key or a malformed value (cfg unchanged).
ract_status ract_hparams_set(ract_hparams* cfg, const char* key, const char* value,
                             ract_error* err);

// Sets every "key=value" of a space-separated line (the presets are such lines; so is
// ract_hparams_format's output). Stops at the first bad pair, naming it.
ract_status ract_hparams_set_all(ract_hparams* cfg, const char* line, ract_error* err);

// One line "key=value key=value ..." with every field ract_hparams_set accepts (it
// parses back). Returns the length as snprintf does.
int ract_hparams_format(const ract_hparams* cfg, char* buf, size_t size);

// Checks ranges (sizes > 0, layer counts, 0 <= dropout_prob < 1, ...).
ract_status ract_hparams_check(const ract_hparams* cfg, ract_error* err);

// Width L of mu, logvar and z: latent_dimension / 2 (split) or latent_dimension (two heads).
int ract_hparams_latent(const ract_hparams* cfg);

// The input scale at evaluation: 1 - dropout_prob (keep style) or 1 (inverted).
float ract_hparams_eval_scale(const ract_hparams* cfg);

// KL annealing (ract/model/README.md, "Actor"): beta = min(anneal_cap, steps / total_anneal_steps).
typedef struct ract_anneal {
  int64_t steps;
} ract_anneal;

float ract_anneal_beta_at(const ract_hparams* cfg, int64_t steps);
// Call at the start of every training stage: PER_LOSS resets the counter, PER_BATCH keeps it.
void ract_anneal_stage_begin(const ract_hparams* cfg, ract_anneal* a);
// The beta for one actor-loss evaluation. PER_LOSS (recbole: `update += 1` then the beta)
// counts every call; PER_BATCH (paper) returns beta(steps) and then counts the call only when
// `actor_training_batch` is non-zero (a batch whose gradient steps the actor on its loss).
float ract_anneal_next(const ract_hparams* cfg, ract_anneal* a, int actor_training_batch);

#endif  // RACT_MODEL_HPARAMS_H_
