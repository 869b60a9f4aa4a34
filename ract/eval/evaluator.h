// Full-ranking evaluation: for every row of an evaluation set, scores for all items from
// a model callback, seen items masked to -inf, top-K by partial selection
// (ract/math/topk_row.h: ties by lower item index), then the metrics of ract/eval/metrics.h.
//
// Rows are handed to the model in contiguous batches of eval_set.input. All scratch (the
// score block, the top-K buffers, the truth flags) comes from an arena sized by
// ract_eval_bytes; nothing is allocated per user. The masking and top-K of a batch's rows run
// on ract_threads() threads (ract/core/parallel.h); the metrics are summed in row order
// afterwards, so the result does not depend on the thread count. The score block the model
// callback fills is masked in place (the model may write its scores straight into it).
#ifndef RACT_EVAL_EVALUATOR_H_
#define RACT_EVAL_EVALUATOR_H_

#include <stddef.h>

#include "ract/core/arena.h"
#include "ract/core/status.h"
#include "ract/core/tensor.h"
#include "ract/data/dataset.h"
#include "ract/eval/metrics.h"

// The model: fills scores (input_rows.rows x n_items, contiguous) for the batch of input
// rows (a view into eval_set.input; ptr[0] need not be 0).
typedef ract_status (*ract_eval_model_fn)(void* ctx, ract_sparse input_rows, ract_tensor scores,
                                          ract_error* err);

// Scratch bytes ract_eval_run needs for this width, batch and largest K.
size_t ract_eval_bytes(int n_items, int batch, int max_k);
// The same without the score block (for the *_block variants below).
size_t ract_eval_scratch_bytes(int n_items, int batch, int max_k);

// Evaluates `fn` on `set` (width n_items): m must have been initialised with its cut-offs
// (ract_metrics_init*); its sums are reset, filled and turned into means. The arena is
// reset to its mark on return.
ract_status ract_eval_run(ract_metrics* m, const ract_eval_set* set, int n_items,
                          ract_eval_model_fn fn, void* ctx, int batch, ract_arena* scratch,
                          ract_error* err);

// The same over explicit views (input, mask and truth have the same number of rows).
ract_status ract_eval_run_views(ract_metrics* m, ract_sparse input, ract_sparse mask,
                                ract_sparse truth, int n_items, ract_eval_model_fn fn, void* ctx,
                                int batch, ract_arena* scratch, ract_error* err);

// Variants with the score block (batch x n_items floats, contiguous) given by the caller, e.g.
// the model's own output buffer, so that the model can write its scores in place; NULL takes
// it from scratch. The block is overwritten. offset (n_items) or NULL: added to every score
// row before it is masked and ranked (a model's output bias, left out of the block by the
// model: one pass over the scores fewer).
ract_status ract_eval_run_block(ract_metrics* m, const ract_eval_set* set, int n_items,
                                ract_eval_model_fn fn, void* ctx, int batch, float* block,
                                const float* offset, ract_arena* scratch, ract_error* err);
ract_status ract_eval_run_views_block(ract_metrics* m, ract_sparse input, ract_sparse mask,
                                      ract_sparse truth, int n_items, ract_eval_model_fn fn,
                                      void* ctx, int batch, float* block, const float* offset,
                                      ract_arena* scratch, ract_error* err);

#endif  // RACT_EVAL_EVALUATOR_H_
