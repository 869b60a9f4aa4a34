// The actor: a Mult-VAE over a sparse binary history (ract/model/README.md, "Actor"), llm.c style.
//
// Parameters live in four flat float buffers of equal size (params, grads, Adam m, Adam v)
// taken from a caller's arena; `p` and `g` are named pointers into params and grads, filled
// from one table of sizes whose order and names are the checkpoint's (ract/deploy/FORMAT.md):
//   enc.0.w  I x h1 (ITEM-MAJOR, in x out: the sparse input gathers rows)   enc.0.b h1
//   enc.j.w  h(j+1) x hj (out x in), j = 1..k-1                            enc.j.b
//   enc.head.w 2L x hk (rows [0,L) mu, [L,2L) logvar)                      enc.head.b 2L
//   dec.j.w  out x in for L -> hk -> ... -> h1, j = 0..k-1                 dec.j.b
//   dec.out.w I x h1 (out x in, item-major)                               dec.out.b I
// tanh after every layer except enc.head and dec.out.
//
// Activations live in a ract_actor_acts (named slots from the caller's arena) sized for a
// maximum batch and a maximum number of stored history entries; forward fills them, the loss
// and backward read them. Nothing allocates after creation.
//
// The model code is a template over the scalar type T: the library uses T = float (the
// typedefs ract_actor, ract_actor_acts); the tests instantiate T = double for the
// finite-difference checks of the whole model. The input values stay float.
//
// Typical step (actor_pretrain):
//   ract_actor_zero_grad(&a);
//   ract_actor_forward(&a, &acts, x, RACT_MODE_TRAIN, &rng, err);
//   ract_actor_loss(&a, &acts, x, beta);                  // acts.ce, acts.kl, acts.loss per user
//   for b: dce[b] = 1/B, dkl[b] = beta/B;
//   ract_actor_backward(&a, &acts, x, dce, dkl, err);     // adds into a.grads; clobbers logits
//   ract_adam_step(&opt, a.params, a.grads, a.m, a.v, a.n_params);  // ract/train/adam.h
// or all of it at once: ract_model_step (ract/model/step.h).
#ifndef RACT_MODEL_ACTOR_H_
#define RACT_MODEL_ACTOR_H_

#include <stddef.h>
#include <stdint.h>

#include "ract/core/arena.h"
#include "ract/core/rng.h"
#include "ract/core/status.h"
#include "ract/core/tensor.h"
#include "ract/model/config.h"

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

// One entry of the tensor table (for the weight file and checkpoints).
typedef struct ract_param_info {
  char name[32];  // "enc.0.w", "enc.head.b", "dec.out.w", ... (ract/deploy/FORMAT.md)
  int rows;       // a bias is rows = n, cols = 1
  int cols;
  size_t offset;  // in elements, from the start of the flat buffer
} ract_param_info;

template <typename T>
struct ract_actor_t {
  ract_model_config cfg;
  int n_items;  // I
  int latent;   // L
  size_t n_params;
  T* params;  // n_params each, from the arena given to ract_actor_create
  T* grads;
  T* m;                       // Adam first moment
  T* v;                       // Adam second moment
  ract_actor_tensors_t<T> p;  // into params
  ract_actor_tensors_t<T> g;  // into grads
};
typedef ract_actor_t<float> ract_actor;

// Number of parameters / bytes ract_actor_create takes from its arena (4 flat buffers).
size_t ract_actor_param_count(const ract_model_config* cfg, int n_items);
size_t ract_actor_bytes(const ract_model_config* cfg, int n_items, size_t elem = sizeof(float));

// Checks cfg, takes the 4 buffers from the arena (zeroed) and fills the named pointers.
template <typename T>
ract_status ract_actor_create(ract_actor_t<T>* a, const ract_model_config* cfg, int n_items,
                              ract_arena* arena, ract_error* err);

// Initial weights per cfg.init (Xavier-normal/zero bias or Xavier-uniform/trunc-normal bias).
// enc.head's fan_out is 2L (split) or L (two heads). Deterministic given the rng state.
template <typename T>
void ract_actor_init_params(ract_actor_t<T>* a, ract_rng* rng);

template <typename T>
void ract_actor_zero_grad(ract_actor_t<T>* a);
// Also zero the Adam moments (a fresh optimizer).
template <typename T>
void ract_actor_zero_moments(ract_actor_t<T>* a);

// The tensor table: count, and entry i in layout order.
template <typename T>
int ract_actor_tensor_count(const ract_actor_t<T>* a);
template <typename T>
ract_param_info ract_actor_tensor_info(const ract_actor_t<T>* a, int i);

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
  uint8_t* keep;              // max_nnz: per stored entry of x, 1 if dropout kept it (train modes)
  T* seen;                    // B: kept history items (critic feature)
  T* unseen;                  // B: history items dropout removed (critic feature)
  T* enc_h[RACT_MAX_LAYERS];  // B x h(j+1), after tanh
  T* head;                    // B x 2L: mu = columns [0, L), logvar = [L, 2L)
  T* eps;                     // B x L (train)
  T* z;                       // B x L
  T* dec_h[RACT_MAX_LAYERS];  // B x (hk, ..., h1), after tanh
  T* logits;                  // B x I; ract_actor_backward overwrites it with dlogits
  int defer_out_bias;         // set by a caller: forwards leave out_b out of the logits
                              // (an evaluator adds it while ranking, the fused loss in its
                              // sweep: no B x I bias pass)
  int logits_unbiased;        // the last forward left out_b out (any other reader adds it)
  int dlogits_ready;          // 1 after ract_actor_loss_fused: logits holds dlogits
  T* lse;                     // B: log-sum-exp of each logits row
  T* ce;                      // B: -sum_i x_i log_softmax_i
  T* kl;                      // B
  T* loss;                    // B: ce + beta*kl
  T* dce;                     // B: upstream weights for the caller (ract/model/step.h uses them)
  T* dkl;                     // B
  // Gradient scratch.
  T* d_head;  // B x 2L
  T* d_z;     // B x L
  T* d_a;     // B x max(hidden)
  T* d_b;     // B x max(hidden)
};
typedef ract_actor_acts_t<float> ract_actor_acts;

size_t ract_actor_acts_bytes(const ract_model_config* cfg, int n_items, int max_batch,
                             int64_t max_nnz, size_t elem = sizeof(float));
template <typename T>
ract_status ract_actor_acts_create(ract_actor_acts_t<T>* acts, const ract_actor_t<T>* a,
                                   int max_batch, int64_t max_nnz, ract_arena* arena,
                                   ract_error* err);

// Forward of a batch of binary histories x (x.val must be NULL, x.cols == I, distinct items
// per row) up to the logits: t = x / max(||x||, 1e-12), dropout (train) or scale (eval),
// encoder, mu/logvar, z, decoder. rng is used only in RACT_MODE_TRAIN (may be NULL otherwise).
template <typename T>
ract_status ract_actor_forward(const ract_actor_t<T>* a, ract_actor_acts_t<T>* acts, ract_sparse x,
                               ract_mode mode, ract_rng* rng, ract_error* err);

// Per-user loss of the last forward against the FULL history x (dropped items included):
// acts.ce, acts.kl, acts.lse, acts.loss = ce + beta*kl. Returns the batch mean of loss.
template <typename T>
T ract_actor_loss(const ract_actor_t<T>* a, ract_actor_acts_t<T>* acts, ract_sparse x, float beta);

// ract_actor_loss and the first step of ract_actor_backward at once, for a caller whose dce
// is known before the loss (actor_pretrain: 1/B): one sweep per logits row computes the
// loss and writes dL/dlogits = dce * (softmax * n - x) over the logits (one exp per element
// instead of two). The following ract_actor_backward (same dce) skips that step.
template <typename T>
T ract_actor_loss_fused(const ract_actor_t<T>* a, ract_actor_acts_t<T>* acts, ract_sparse x,
                        float beta, const T* dce);

// Backward of sum_b (dce[b]*ce[b] + dkl[b]*kl[b]) into every actor parameter (ADDS into
// a->grads). dkl may be NULL (no KL term). Pretrain: dce = 1/B, dkl = beta/B. Finetune: dce =
// dQ/dfeature per user (times -1/B, already in the critic's dfeat), dkl = beta*dce when the
// feature includes beta*KL. Requires ract_actor_loss on the same forward. Overwrites
// acts->logits with dL/dlogits (the B x I buffer is reused in place); compute the critic's NDCG
// target before calling this.
template <typename T>
ract_status ract_actor_backward(ract_actor_t<T>* a, ract_actor_acts_t<T>* acts, ract_sparse x,
                                const T* dce, const T* dkl, ract_error* err);

// Evaluation: eval-mode forward; acts->logits holds the B x I scores of every item (seen items
// NOT masked: evaluation masks them on its copy). full_sort_predict of the seed.
template <typename T>
ract_status ract_actor_full_sort_predict(const ract_actor_t<T>* a, ract_actor_acts_t<T>* acts,
                                         ract_sparse x, ract_error* err);

// predict of the seed: eval-mode forward of x, then out[j] = score of item items[j] for user row
// rows[j] of the batch (0 <= rows[j] < x.rows), j < n.
template <typename T>
ract_status ract_actor_predict(const ract_actor_t<T>* a, ract_actor_acts_t<T>* acts, ract_sparse x,
                               const int* rows, const int* items, int n, T* out, ract_error* err);

// Adapter for the evaluator (ract_eval_model_fn of ract/eval/evaluator.h) and any caller that
// wants full score rows: ctx is a ract_actor_scorer. Fills scores (input_rows.rows x I) with
// the eval-mode logits, running the rows in chunks that fit acts (max_batch users, max_nnz
// entries). A single row with more than max_nnz entries is RACT_ERR_SHAPE.
typedef struct ract_actor_scorer {
  const ract_actor* actor;
  ract_actor_acts* acts;
} ract_actor_scorer;
ract_status ract_actor_score(void* ctx, ract_sparse input_rows, ract_tensor scores,
                             ract_error* err);

#endif  // RACT_MODEL_ACTOR_H_
