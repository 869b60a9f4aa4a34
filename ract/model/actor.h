// The actor: a Mult-VAE over a sparse binary history (ract/model/README.md, "Actor"), llm.c style.
//
// Parameters live in four flat float buffers of equal size (params, grads, Adam m, Adam v)
// taken from a caller's arena; `p` and `g` are named pointers into params and grads. One
// table (ract/model/table.h) in weight-file order (ract/deploy/FORMAT.md) drives sizes,
// offsets and pointers:
//   enc.0.w  I x h1 (ITEM-MAJOR, in x out: the sparse input gathers rows)   enc.0.b h1
//   enc.j.w  h(j+1) x hj (out x in), j = 1..k-1                            enc.j.b
//   enc.head.w 2L x hk (rows [0,L) mu, [L,2L) logvar)                      enc.head.b 2L
//   dec.j.w  out x in for L -> hk -> ... -> h1, j = 0..k-1                 dec.j.b
//   dec.out.w I x h1 (out x in, item-major)                               dec.out.b I
// tanh after every layer except enc.head and dec.out.
//
// Activations live in a ract_actor_acts (named slots from the caller's arena, one table
// drives their sizes and pointers) for a maximum batch and number of stored history
// entries. The forward fills the slots up to the decoder's last hidden layer; the output
// layer writes its B x I logits into a buffer the CALLER names (usually the acts' `logits`
// slot, or an evaluator's score block), and every later function takes that buffer as an
// argument: what it holds at any moment is visible at the call site. Nothing allocates
// after creation.
//
// The model code is a template over the scalar type T: the library uses T = float (the
// typedefs ract_actor, ract_actor_acts); the tests instantiate T = double for the
// finite-difference checks of the whole model. The input values stay float.
//
// One actor_pretrain step (ract_model_step in ract/model/step.h does exactly this):
//   ract_actor_forward(&a, &acts, x, RACT_MODE_TRAIN, &rng, err);
//   ract_actor_logits(&a, &acts, acts.logits, 0);        // out_b left to the fused sweep
//   dce[b] = 1/B, dkl[b] = beta/B;
//   ract_actor_loss_fused(&a, &acts, x, acts.logits, beta, dce);  // acts.logits: dL/dlogits
//   ract_params_zero_grad(&a.w);
//   ract_actor_backward(&a, &acts, x, acts.logits, dkl, err);     // adds into a.grads
//   ract_adam_step(&opt, a.params, a.grads, a.m, a.v, a.n_params);  // ract/train/adam.h
#ifndef RACT_MODEL_ACTOR_H_
#define RACT_MODEL_ACTOR_H_

#include <stddef.h>
#include <stdint.h>

#include "ract/core/arena.h"
#include "ract/core/rng.h"
#include "ract/core/status.h"
#include "ract/core/tensor.h"
#include "ract/model/hparams.h"
#include "ract/model/table.h"

// Named pointers into one flat buffer (params or grads). k = cfg.n_hidden.
template <typename T>
struct ract_actor_tensors_t {
  T* enc_w[RACT_MAX_LAYERS];  // [0]: I x h1 item-major; [j]: h(j+1) x hj
  T* enc_b[RACT_MAX_LAYERS];
  T* head_w;                  // 2L x hk
  T* head_b;                  // 2L
  T* dec_w[RACT_MAX_LAYERS];  // [0]: hk x L; [j]: h(k-j) x h(k-j+1)
  T* dec_b[RACT_MAX_LAYERS];
  T* out_w;  // I x h1
  T* out_b;  // I
};

template <typename T>
struct ract_actor_t {
  ract_hparams cfg;
  int n_items;                // I
  int latent;                 // L
  ract_params_t<T> w;         // the table and the four flat buffers (params, grads, Adam m, v)
  ract_actor_tensors_t<T> p;  // into params
  ract_actor_tensors_t<T> g;  // into grads
};
typedef ract_actor_t<float> ract_actor;

// Number of parameters / bytes ract_actor_create takes from its arena (4 flat buffers).
size_t ract_actor_param_count(const ract_hparams* cfg, int n_items);
size_t ract_actor_bytes(const ract_hparams* cfg, int n_items, size_t elem = sizeof(float));

// Checks cfg, takes the 4 buffers from the arena (zeroed) and fills the named pointers.
// ract_actor_bytes(cfg, n_items, sizeof(T)) is what it takes.
template <typename T>
ract_status ract_actor_create(ract_actor_t<T>* a, const ract_hparams* cfg, int n_items,
                              ract_arena* arena, ract_error* err);

// Initial weights per cfg.init (Xavier-normal/zero bias or Xavier-uniform/trunc-normal bias).
// enc.head's fan_out is 2L (split) or L (two heads). Deterministic given the rng state.
template <typename T>
void ract_actor_init_params(ract_actor_t<T>* a, ract_rng* rng);

typedef enum ract_mode {
  RACT_MODE_EVAL = 0,   // input scale s (eval_scale), z = mu
  RACT_MODE_TRAIN = 1,  // dropout on the input and eps ~ N(0, eps_std^2) drawn from rng
  // Train mode reusing the dropout mask and eps of the previous TRAIN forward on the same x
  // (for finite-difference checks and for re-running a batch with new weights).
  RACT_MODE_TRAIN_REPLAY = 2,
} ract_mode;

// Activation slots of one batch (B <= max_batch users). Shapes (row-major, dense):
template <typename T>
struct ract_actor_acts_t {
  int max_batch;
  int64_t max_nnz;  // max stored entries of an input batch
  int batch;        // B of the last forward
  int mode;         // ract_mode of the last forward
  // The model input after normalisation and dropout: a CSR batch whose rows hold only the
  // kept items, values t (or t/(1-p)); in eval mode every item with value s*t.
  int64_t* in_ptr;            // max_batch + 1
  int32_t* in_idx;            // max_nnz
  float* in_val;              // max_nnz
  float* row_inv;             // max_batch: 1 / ||x_b|| of the last forward
  ract_rng* row_rng;          // max_batch: each row's stream of the last train forward
  uint8_t* keep;              // max_nnz: per stored entry of x, 1 if dropout kept it (train modes)
  T* seen;                    // B: kept history items (critic feature)
  T* unseen;                  // B: history items dropout removed (critic feature)
  T* enc_h[RACT_MAX_LAYERS];  // B x h(j+1), after tanh
  T* head;                    // B x 2L: mu = columns [0, L), logvar = [L, 2L)
  T* eps;                     // B x L (train)
  T* z;                       // B x L
  T* dec_h[RACT_MAX_LAYERS];  // B x (hk, ..., h1), after tanh
  T* logits;                  // B x I: a buffer for the caller to pass to the output layer,
                              // the loss and the backward (logits, then dL/dlogits); the
                              // forward itself never touches it
  T* lse;                     // B: log-sum-exp of each logits row
  T* ce;                      // B: -sum_i x_i log_softmax_i
  T* kl;                      // B
  T* loss;                    // B: ce + beta*kl
  T* dce;                     // B: upstream weights for the caller (ract/model/step.h uses them)
  T* dkl;                     // B
  T* hce;                     // B: held-out CE (ract_actor_heldout_loss)
  T* hlse;                    // B: log-sum-exp over the items dropout did not keep
  // Gradient scratch.
  T* d_head;  // B x 2L
  T* d_z;     // B x L
  T* d_a;     // B x max(hidden)
  T* d_b;     // B x max(hidden)
};
typedef ract_actor_acts_t<float> ract_actor_acts;

size_t ract_actor_acts_bytes(const ract_hparams* cfg, int n_items, int max_batch, int64_t max_nnz,
                             size_t elem = sizeof(float));
template <typename T>
ract_status ract_actor_acts_create(ract_actor_acts_t<T>* acts, const ract_actor_t<T>* a,
                                   int max_batch, int64_t max_nnz, ract_arena* arena,
                                   ract_error* err);

// Where the random draws of a TRAIN forward come from: the user of row b draws its dropout
// mask, then its eps, from its own stream (seed, ract_rng_stream(key, users[b])) — the same
// draws whichever batch, replica or thread holds the user, so that data-parallel replicas
// together draw exactly what one process draws. `key` names the moment (the trainer: the
// stage and epoch); users NULL: the row index.
typedef struct ract_draws {
  uint64_t seed;
  uint64_t key;
  const int32_t* users;
} ract_draws;

// Forward of a batch of binary histories x (x.val must be NULL, x.cols == I, distinct items
// per row) up to the decoder's last hidden layer: t = x / max(||x||, 1e-12), dropout (train)
// or the eval scale, encoder, mu/logvar, z, decoder. draws are used only in RACT_MODE_TRAIN
// (may be NULL otherwise). A batch of 0 users is a no-op.
template <typename T>
ract_status ract_actor_forward(const ract_actor_t<T>* a, ract_actor_acts_t<T>* acts, ract_sparse x,
                               ract_mode mode, const ract_draws* draws, ract_error* err);

// The output layer of the last forward: logits (B x I, row stride I) = dec_h @ dec.out.w^T,
// plus dec.out.b when with_bias. Without it the logits are "unbiased": only the fused loss
// (which adds the bias in its sweep) and an evaluator given the bias as its offset take them.
template <typename T>
void ract_actor_logits(const ract_actor_t<T>* a, const ract_actor_acts_t<T>* acts, T* logits,
                       int with_bias);

// Per-user loss of the last forward from its complete logits (with the bias), against the
// FULL history x (dropped items included): acts.ce, acts.kl, acts.lse, acts.loss = ce +
// beta*kl. Returns the batch mean of loss.
template <typename T>
T ract_actor_loss(const ract_actor_t<T>* a, ract_actor_acts_t<T>* acts, ract_sparse x,
                  const T* logits, float beta);

// The same loss and dL/dlogits = dce * (softmax * n - x) in one sweep per row, for a caller
// whose dce is known before the loss (actor_pretrain: 1/B): logits come in WITHOUT the output
// bias (the sweep adds it) and leave as dL/dlogits, one exp per element.
template <typename T>
T ract_actor_loss_fused(const ract_actor_t<T>* a, ract_actor_acts_t<T>* acts, ract_sparse x,
                        T* logits, float beta, const T* dce);

// dL/dlogits = dce * (softmax * n - x) per row, IN PLACE over the complete logits of a
// ract_actor_loss (it reads acts.lse).
template <typename T>
void ract_actor_dlogits(const ract_actor_t<T>* a, const ract_actor_acts_t<T>* acts, ract_sparse x,
                        T* logits, const T* dce);

// The held-out cross-entropy of the last TRAIN forward (the critic's loss feature with
// critic_loss_feature=heldout_ce): per user the softmax over the items dropout did NOT keep,
// and the CE of the items it removed, from the complete logits (B x I):
//   hlse_b = log sum_{i not kept} exp(l_i),   hce_b = sum_{i dropped} (hlse_b - l_i)
// into acts.hce and acts.hlse. The logits are WRITTEN: each row's kept items are left at
// -inf (what ract_actor_heldout_dlogits starts from; rank with them no more).
template <typename T>
void ract_actor_heldout_loss(const ract_actor_t<T>* a, ract_actor_acts_t<T>* acts, ract_sparse x,
                             T* logits);

// dL/dlogits of sum_b w_b hce_b, IN PLACE over the logits ract_actor_heldout_loss left:
// w_b (n_dropped_b softmax_{not kept}(l_b) - onehot(dropped items)), 0 at the kept items.
template <typename T>
void ract_actor_heldout_dlogits(const ract_actor_t<T>* a, const ract_actor_acts_t<T>* acts,
                                ract_sparse x, T* logits, const T* w);

// Backward of the last forward from dlogits (B x I, from ract_actor_loss_fused or
// ract_actor_dlogits) and the KL weights dkl (B, or NULL: no KL term) into every actor
// parameter (ADDS into a->grads). Pretrain: dce = 1/B, dkl = beta/B. Finetune: dce =
// dQ/dfeature per user (times -1/B, already in the critic's dfeat), dkl = beta*dce when the
// feature includes beta*KL.
template <typename T>
ract_status ract_actor_backward(ract_actor_t<T>* a, ract_actor_acts_t<T>* acts, ract_sparse x,
                                const T* dlogits, const T* dkl, ract_error* err);

// full_sort_predict of the seed: the eval-mode forward and its complete logits into scores
// (B x I; seen items NOT masked: evaluation masks them on its copy).
template <typename T>
ract_status ract_actor_full_sort_predict(const ract_actor_t<T>* a, ract_actor_acts_t<T>* acts,
                                         ract_sparse x, T* scores, ract_error* err);

// The evaluator's model (ract_eval_model_fn of ract/eval/evaluator.h), ctx a
// ract_actor_scorer: eval-mode logits of the input rows straight into the score block
// (rows x I, row stride I), in chunks that fit acts (max_batch users, max_nnz entries); with
// with_bias 0 the output bias is left to the evaluator (give it dec.out.b as its offset). A
// single row with more than max_nnz entries is RACT_ERR_SHAPE.
typedef struct ract_actor_scorer {
  const ract_actor* actor;
  ract_actor_acts* acts;
  int with_bias;
} ract_actor_scorer;
ract_status ract_actor_score(void* ctx, ract_sparse input_rows, ract_tensor scores,
                             ract_error* err);

#endif  // RACT_MODEL_ACTOR_H_
