// The critic (ract/model/README.md, "Critic"): features (seen, unseen, actor loss) per user ->
// BatchNorm(3) -> Linear/ReLU ... -> Linear(.,1) -> sigmoid = Q, with its hand-written backward
// down to the features (so dQ/dloss reaches the actor), the NDCG@k target, the critic loss
// and the actor-critic loss. Same llm.c layout as the actor: four flat buffers (params, grads,
// Adam m, v) with named pointers, in the order of ract/deploy/FORMAT.md ("Checkpoint"):
//   critic.bn.gamma 3, critic.bn.beta 3 (only with RACT_BN_BATCH: recbole's affine BatchNorm),
//   critic.j.w out x in, critic.j.b out, for 3 -> critic_layers... -> 1.
// The BatchNorm running statistics (critic.bn.mean, critic.bn.var, init 0 and 1) are state,
// not parameters: they sit in `bn_mean`/`bn_var`, outside the Adam buffers.
//
// Like the actor, a template over the scalar type (ract_critic = float; double for tests).
//
// Stage use (ract/model/README.md, "Stages"); `bn_batch` below = use batch statistics:
//   recbole: critic_pretrain and finetune run ract_critic_forward(bn_batch = 1, update = 1).
//   paper: actor_pretrain collects running statistics with ract_critic_bn_collect(); later
//          stages run ract_critic_forward(bn_batch = 0): a fixed affine map.
//   critic loss:  ract_critic_loss -> cacts.dq;  ract_critic_backward(param_grads = 1)
//   finetune (actor): ract_critic_ac_loss -> dq = -1/B; ract_critic_backward(param_grads = 0,
//          dfeat) then the actor backward with dce = dfeat[:, 2] (dkl = beta*dce with the
//          recbole feature). With batch statistics users are coupled through mean and var.
#ifndef RACT_MODEL_CRITIC_H_
#define RACT_MODEL_CRITIC_H_

#include <stddef.h>
#include <stdint.h>

#include "ract/core/arena.h"
#include "ract/core/rng.h"
#include "ract/core/status.h"
#include "ract/dist/comm.h"
#include "ract/model/actor.h"
#include "ract/model/hparams.h"

#define RACT_CRITIC_FEATURES 3

template <typename T>
struct ract_critic_tensors_t {
  T* bn_gamma;                // 3 (NULL with RACT_BN_RUNNING)
  T* bn_beta;                 // 3 (NULL with RACT_BN_RUNNING)
  T* w[RACT_MAX_LAYERS + 1];  // layer j: dims[j+1] x dims[j]
  T* b[RACT_MAX_LAYERS + 1];  // dims[j+1]
};

template <typename T>
struct ract_critic_t {
  ract_hparams cfg;
  int n_layers;                   // n_critic_layers + 1 linear layers
  int dims[RACT_MAX_LAYERS + 2];  // 3, critic_layers..., 1
  ract_params_t<T> w;             // the table and the four flat buffers (params, grads, m, v)
  ract_critic_tensors_t<T> p;
  ract_critic_tensors_t<T> g;
  T bn_mean[RACT_CRITIC_FEATURES];  // running statistics (PyTorch: unbiased var, momentum)
  T bn_var[RACT_CRITIC_FEATURES];
};
typedef ract_critic_t<float> ract_critic;

size_t ract_critic_param_count(const ract_hparams* cfg);
size_t ract_critic_bytes(const ract_hparams* cfg, size_t elem = sizeof(float));
template <typename T>
ract_status ract_critic_create(ract_critic_t<T>* c, const ract_hparams* cfg, ract_arena* arena,
                               ract_error* err);
// Xavier weights per cfg.init, zero biases, gamma 1, beta 0, running mean 0, var 1.
template <typename T>
void ract_critic_init_params(ract_critic_t<T>* c, ract_rng* rng);

template <typename T>
struct ract_critic_acts_t {
  int max_batch;
  int batch;                        // this replica's rows of the last input (may be 0)
  int total;                        // rows of the whole batch over every replica (the losses'
                                    // 1/B); ract_critic_input sets it to `batch`
  ract_comm* comm;                  // the replicas of a data-parallel run (train-mode BatchNorm
                                    // sums their statistics); NULL: one process
  int bn_batch;                     // statistics the last forward used: 1 batch, 0 running
  T* feat;                          // B x 3: seen, unseen, loss feature
  T* bn_out;                        // B x 3
  T bn_mu[RACT_CRITIC_FEATURES];    // mean the BatchNorm used
  T bn_rstd[RACT_CRITIC_FEATURES];  // 1/sqrt(var + eps) it used
  T* h[RACT_MAX_LAYERS + 1];        // B x dims[j+1] after ReLU (sigmoid for the last)
  T* q;                             // B: = h[n_layers-1]
  T* target;                        // B: NDCG@k target (ract_critic_target)
  T* dq;                            // B: dLoss/dQ written by the loss functions
  T* dfeat;                         // B x 3: written by ract_critic_backward
  T* d_a;                           // B x max width
  T* d_b;                           // B x max width
};
typedef ract_critic_acts_t<float> ract_critic_acts;

size_t ract_critic_acts_bytes(const ract_hparams* cfg, int max_batch, size_t elem = sizeof(float));
template <typename T>
ract_status ract_critic_acts_create(ract_critic_acts_t<T>* ca, const ract_critic_t<T>* c,
                                    int max_batch, ract_arena* arena, ract_error* err);

// Features from the actor's last train forward and loss: (seen, unseen, L) with L = ce, or
// the held-out CE acts.hce with critic_loss_feature=heldout_ce, plus beta*kl with
// cfg.critic_loss_with_kl. Counts carry no gradient. Sets batch and
// total to the forward's rows (a data-parallel caller then sets total to the whole batch's).
template <typename T>
void ract_critic_input(ract_critic_acts_t<T>* ca, const ract_critic_t<T>* c,
                       const ract_actor_acts_t<T>* acts, float beta);

// Q = critic(feat) for the B = ca->batch rows of ca->feat. bn_batch: the statistics of the
// whole batch (every replica's rows through ca->comm; biased var; with update_running also the
// PyTorch running-stat update, skipped for a batch of 1, where the unbiased variance is
// undefined); else the running statistics.
template <typename T>
ract_status ract_critic_forward(ract_critic_t<T>* c, ract_critic_acts_t<T>* ca, int bn_batch,
                                int update_running, ract_error* err);

// Only the running-statistics update of BatchNorm from ca->feat (paper, actor stage), with the
// statistics of the whole batch.
template <typename T>
ract_status ract_critic_bn_collect(ract_critic_t<T>* c, ract_critic_acts_t<T>* ca, ract_error* err);

// This replica's part of mean_b (q_b - target_b)^2 over the ca->total rows of the batch
// (+ cfg.critic_l2 * sum of the linear weights^2 / total, counted by replica 0 only). Writes
// ca->dq = d/dq of that mean and ADDS the l2 term's gradient into c->grads. Returns the part;
// the replicas' parts sum to the loss.
template <typename T>
T ract_critic_loss(ract_critic_t<T>* c, ract_critic_acts_t<T>* ca);

// Actor-critic loss -mean_b q_b over ca->total rows; writes ca->dq = -1/total. Returns this
// replica's part.
template <typename T>
T ract_critic_ac_loss(ract_critic_acts_t<T>* ca);

// Backward from ca->dq: into the critic parameters when param_grads (ADDS into c->grads), and
// always into ca->dfeat (overwritten, B x 3) through BatchNorm (through the batch mean and
// variance when the forward used batch statistics).
template <typename T>
ract_status ract_critic_backward(ract_critic_t<T>* c, ract_critic_acts_t<T>* ca, int param_grads,
                                 ract_error* err);

// The NDCG@cfg.metrics_k target per user into ca->target, from the complete logits (B x I,
// with the output bias) of the actor's last TRAIN forward: each row with the kept input items
// set to -inf, relevant items = the history items dropout removed, gain 1/sqrt(|x|)
// (cfg.ndcg_gain_sqrt) or 1, ideal DCG over min(unseen, k) positions floored at 0.1. The
// logits are WRITTEN: with T = float each row is masked in place and restored before
// returning (no copy of the B x I block); they come back unchanged. Scratch from `scratch`
// (released before returning): ract_critic_target_bytes(I, k), room for RACT_MAX_THREADS
// rows. Rows run on ract_parallel_threads() threads (same targets for any count).
size_t ract_critic_target_bytes(int n_items, int k);
template <typename T>
ract_status ract_critic_target(ract_critic_acts_t<T>* ca, const ract_critic_t<T>* c,
                               const ract_actor_acts_t<T>* acts, T* logits, ract_sparse x,
                               int n_items, ract_arena* scratch, ract_error* err);

#endif  // RACT_MODEL_CRITIC_H_
