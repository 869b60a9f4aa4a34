// One training step per stage (ract/model/README.md, "Stages"): forward, loss and backward for one
// batch, leaving the gradients of the group(s) the stage trains in their flat `grads` buffers
// (zeroed first). The trainer then steps Adam on those groups only (a frozen group is simply
// not stepped). These are the seed's calculate_loss for each train_stage.
//
//   actor_pretrain:  actor loss mean_b(ce + beta*kl); actor grads. With RACT_BN_RUNNING (paper)
//                    it also feeds the critic's BatchNorm running statistics (no gradient).
//   critic_pretrain: actor forward in train mode (dropout, eps), NDCG target, critic features;
//                    critic loss mean (Q - target)^2 (+ l2); critic grads. Actor untouched.
//   finetune:        -mean(Q) through the critic and BatchNorm into the actor; actor grads;
//                    with cfg.finetune_critic (paper) also the critic's loss on the same
//                    forward into the critic grads (computed before either group moves).
//                    cfg.finetune_objective picks a control instead: the actor's own loss
//                    (likelihood) or the critic's loss feature with uniform weights (feature).
//                    With critic_weight_norm the per-user weights -dQ/dL are scaled to sum 1
//                    and mixed with 1/B (critic_weight_mix).
// With critic_loss_feature = heldout_ce the critic's loss feature, and the loss the finetune
// weights, is the held-out CE (ract_actor_heldout_loss).
// Batch statistics (RACT_BN_BATCH, recbole) in the critic and finetune steps, with the
// running-stat update; a batch of one user is well defined here (normalised features are 0,
// no running update, no gradient to the features) where PyTorch would raise: skip it in the
// trainer if parity with RecBole matters.
// Each step takes one beta from the annealing counter (ract_anneal_next), counted as an actor
// training batch only in actor_pretrain.
//
// Data parallel: a replica steps on its own rows of a batch (ract_batch.x) while the losses
// are means over the whole batch (ract_batch.total users), train-mode BatchNorm sums its
// statistics over the replicas (ctx.comm) and so do the step's numbers (stats); the caller
// then sums the replicas' gradients (one allreduce per trained group) and every replica takes
// the same optimizer step. With one process (comm NULL, total = x.rows) it is plain training.
#ifndef RACT_MODEL_STEP_H_
#define RACT_MODEL_STEP_H_

#include "ract/core/arena.h"
#include "ract/core/rng.h"
#include "ract/core/status.h"
#include "ract/core/tensor.h"
#include "ract/model/actor.h"
#include "ract/model/critic.h"

typedef enum ract_stage {
  RACT_STAGE_ACTOR_PRETRAIN = 0,
  RACT_STAGE_CRITIC_PRETRAIN = 1,
  RACT_STAGE_FINETUNE = 2,
} ract_stage;

// Batch means of what the step computed (for logs, plots and the finite-difference tests,
// which read the stage's objective here: double, whatever the model's scalar type).
typedef struct ract_step_stats {
  int batch;
  double beta;
  double loss;         // the stage's loss: actor loss, critic loss, or -mean(Q)
  double actor_loss;   // mean(ce + beta*kl)
  double ce;           // mean ce
  double kl;           // mean kl
  double q;            // mean Q (critic and finetune stages)
  double target;       // mean NDCG target (critic and finetune stages)
  double critic_loss;  // critic MSE (+ l2) (critic stage; finetune with finetune_critic)
} ract_step_stats;

// Everything a step touches. `scratch` provides ract_critic_target_bytes(I, metrics_k) bytes
// (released before returning). comm: the replicas of a data-parallel run, NULL for one
// process. A template over the scalar type like the models: the library steps in float; the
// tests check every stage's objective in double.
template <typename T>
struct ract_step_ctx_t {
  ract_actor_t<T>* actor;
  ract_critic_t<T>* critic;
  ract_actor_acts_t<T>* aacts;
  ract_critic_acts_t<T>* cacts;
  ract_arena* scratch;
  ract_anneal* anneal;
  ract_comm* comm;
};
typedef ract_step_ctx_t<float> ract_step_ctx;

// One batch as a replica sees it.
typedef struct ract_batch {
  ract_sparse x;     // this replica's rows (binary histories, x.cols = I); may be 0 rows
  ract_draws draws;  // their random draws (draws.users: the rows' global user ids)
  int total;         // users in the whole batch over every replica (>= 1): the losses' 1/B
} ract_batch;

// Runs one step of `stage` on the batch (the same batch, so the same draws, every call).
// stats may be NULL (filled, summed over the replicas, even when the step fails with
// RACT_ERR_NUMERIC: a NaN or infinite loss).
template <typename T>
ract_status ract_model_step(ract_step_ctx_t<T>* m, ract_stage stage, const ract_batch* batch,
                            ract_step_stats* stats, ract_error* err);

// The critic's view of a batch, training nothing: the train-mode forward (the batch's draws),
// the actor's loss at beta, the NDCG target and the features into m->cacts; with with_q also
// Q (BatchNorm: the batch's statistics in bn_mode batch, else the running ones; no running
// statistic moves). For the critic's checks and for fresh BatchNorm statistics.
template <typename T>
ract_status ract_model_critic_view(ract_step_ctx_t<T>* m, const ract_batch* batch, float beta,
                                   int with_q, ract_error* err);

#endif  // RACT_MODEL_STEP_H_
