/* ract.h: on-device scoring with a RaCT / Mult-VAE recommender. C99 and C++.
 *
 * An edge app links //ract:scorer (no BLIS, no exceptions, no RTTI, no heap after init) and
 * uses this header only. The life cycle:
 *
 *   // 1. The weight file, in place: mmap, a static array, flash. Nothing is copied, so
 *   //    the bytes must stay valid (and unchanged) while it is used. 16-byte aligned.
 *   ract_model model;
 *   ract_error err;
 *   if (ract_model_load(&model, blob, blob_len, &err) != RACT_OK) { puts(err.msg); ... }
 *
 *   // 2. Scratch memory: ask how much, hand in your own buffer (static, stack, malloc).
 *   static uint8_t arena[1 << 16];       // >= ract_scorer_arena_bytes(&model)
 *   ract_scorer s;
 *   if (ract_scorer_init(&s, &model, arena, sizeof arena, &err) != RACT_OK) { ... }
 *
 *   // 3. Per user: set the history (the app's own item ids), then score.
 *   const char* history[] = {"1", "50", "172"};
 *   int n_unknown = 0, n = 0;
 *   ract_scorer_set_history_tokens(&s, history, 3, &n_unknown, &err);
 *   int32_t items[10];
 *   float scores[10];
 *   ract_scorer_topk(&s, 10, 1, items, scores, &n, &err);  // 1: history masked
 *   for (int i = 0; i < n; i++)
 *     printf("%s %f\n", ract_model_item_token(&model, items[i]), scores[i]);
 *
 * What the scorer computes (ract/model/README.md, "Scoring"): for the n
 * distinct known items S of the history, t_i = s / sqrt(n) for i in S (s: the file's input
 * scale), h = tanh(b0 + sum_{i in S} t_i * enc.0.w[i]), further tanh layers, mu (z = mu),
 * the decoder's tanh layers, and the I output logits. Higher is better. An empty history
 * scores the model's output for an all-zero input.
 *
 * Memory and threads: the weights are read-only after ract_model_load and may be shared by
 * any number of threads. A scorer owns nothing: its state (the current history and the
 * activations) lives in the arena given to ract_scorer_init. One scorer per thread, each
 * with its own arena, is thread-safe; one scorer must not be used by two threads at once.
 * No function allocates; the only functions that do more than arithmetic are the error
 * messages (vsnprintf into ract_error).
 *
 * Errors: every fallible function returns a ract_status (ract/core/status.h) and fills the
 * optional ract_error (may be NULL) with a message naming the field at fault. A malformed
 * weight file is rejected by ract_model_load with one of the RACT_ERR_FILE_* codes before
 * any weight is read.
 */
#ifndef RACT_RACT_H_
#define RACT_RACT_H_

#include <stddef.h>
#include <stdint.h>

#include "ract/core/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RACT_MAX_HIDDEN 8

/* ---- Types. Plain structs so an app can place them anywhere; their fields are
 * read-only for the app (use the functions below). ---- */

/* A weight matrix inside the blob: rows x cols, row-major, fp32 / fp16 / int8 (dtype
 * 0 / 1 / 2); int8 rows carry a scale. */
typedef struct ract_matrix {
  const void* data;
  const float* scale; /* int8 only */
  int32_t rows;
  int32_t cols;
  int32_t dtype;
} ract_matrix;

typedef struct ract_layer {
  ract_matrix w;
  const float* b; /* w.rows values, fp32 */
} ract_layer;

/* A validated inference weight file, pointing into the caller's blob. */
typedef struct ract_model {
  const uint8_t* blob;
  size_t blob_bytes;
  int32_t n_items;  /* I: items scored */
  int32_t latent;   /* L */
  int32_t n_hidden; /* k */
  int32_t hidden[RACT_MAX_HIDDEN];
  int32_t preset; /* 0 custom, 1 recbole, 2 paper */
  int32_t dtype;  /* 0 fp32, 1 fp16, 2 int8 */
  float input_scale;
  ract_layer enc[RACT_MAX_HIDDEN]; /* enc[0].w is I x h1, item-major (row i: item i) */
  ract_layer mu;                   /* L x hk */
  ract_layer dec[RACT_MAX_HIDDEN]; /* hk x L, ..., h1 x h2 */
  ract_layer out;                  /* I x h1 */
  const uint32_t* tok_off;
  const uint32_t* tok_sorted;
  const char* tok_chars;
  const char* meta; /* n_meta "key\0value\0" pairs */
  int32_t n_meta;
} ract_model;

/* Per-thread scoring state, in the caller's arena. */
typedef struct ract_scorer {
  const ract_model* model;
  uint32_t* history_bits; /* ceil(I / 32) words: the current history */
  float* enc_act[RACT_MAX_HIDDEN];
  float* mu;
  float* dec_act[RACT_MAX_HIDDEN];
  float* block;      /* RACT_SCORER_BLOCK logits streamed into top-K */
  int32_t n_history; /* distinct known items of the current history */
  int32_t has_history;
} ract_scorer;

#define RACT_SCORER_BLOCK 64

/* ---- Loading ---- */

/* Validates the weight file in blob[0, len) (an inference file; see
 * ract/deploy/model_file.h for the format) and points model into it. The blob must be
 * 16-byte aligned and outlive the model. Rejects checkpoints (RACT_ERR_FILE_KIND: convert
 * them with `tools/score --convert`). */
ract_status ract_model_load(ract_model* model, const void* blob, size_t len, ract_error* err);

/* Number of items, and the app's item token of index i (NUL-terminated, inside the blob;
 * NULL if i is out of range). */
int32_t ract_model_n_items(const ract_model* model);
const char* ract_model_item_token(const ract_model* model, int32_t index);
/* Index of a NUL-terminated token / of len bytes of token; -1 if unknown. O(log I). */
int32_t ract_model_item_index(const ract_model* model, const char* token);
int32_t ract_model_item_index_n(const ract_model* model, const char* token, size_t len);
/* Training metadata ("dataset", "n_users", "test.ndcg@10", ...; the keys are listed in
 * ract/deploy/FORMAT.md, "Metadata"): the value or NULL. */
const char* ract_model_meta(const ract_model* model, const char* key);

/* ---- Scoring ---- */

/* Bytes of arena one scorer needs (any alignment of the arena; includes the slack). */
size_t ract_scorer_arena_bytes(const ract_model* model);

/* Lays the scorer's state out in arena[0, arena_bytes); RACT_ERR_NOMEM if too small. */
ract_status ract_scorer_init(ract_scorer* scorer, const ract_model* model, void* arena,
                             size_t arena_bytes, ract_error* err);

/* Sets the user's history and runs the model up to the last hidden layer. Items outside
 * [0, I) (or unknown tokens) are skipped and counted in *n_unknown (may be NULL);
 * duplicates count once. */
ract_status ract_scorer_set_history(ract_scorer* scorer, const int32_t* items, int n,
                                    int* n_unknown, ract_error* err);
ract_status ract_scorer_set_history_tokens(ract_scorer* scorer, const char* const* tokens, int n,
                                           int* n_unknown, ract_error* err);

/* scores[0, I): the logit of every item for the current history. */
ract_status ract_scorer_full_sort_predict(ract_scorer* scorer, float* scores, ract_error* err);

/* scores[j] = logit of items[j], j < n. An index outside [0, I) is RACT_ERR_ARG. */
ract_status ract_scorer_predict(ract_scorer* scorer, const int32_t* items, int n, float* scores,
                                ract_error* err);

/* The k best items for the current history, best first (equal scores: lower index first),
 * into out_items[0, *n_out) and out_scores (k slots each). With mask_history != 0 the
 * history's items are left out. Logits are streamed into the selection, never stored. */
ract_status ract_scorer_topk(ract_scorer* scorer, int k, int mask_history, int32_t* out_items,
                             float* out_scores, int* n_out, ract_error* err);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* RACT_RACT_H_ */
