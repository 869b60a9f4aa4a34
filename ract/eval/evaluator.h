// Full-ranking evaluation: for every row of an evaluation set, scores for all items from
// a model callback, seen items masked to -inf, top-K by partial selection
// (ract/math/topk_row.h: ties by lower item index), then the metrics of ract/eval/metrics.h.
//
// Rows are handed to the model in contiguous batches of eval_set.input. All scratch (the
// score block, the top-K buffers, the truth flags) comes from an arena sized by
// ract_eval_bytes; nothing is allocated per user. The masking and top-K of a batch's rows run
// on ract_parallel_threads() threads (ract/core/parallel.h); the metrics are summed in row order
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

// One evaluation: the rows (input, mask and truth views with the same number of rows, all
// n_items wide), the model, and where its scores go.
typedef struct ract_eval_job {
  ract_sparse input;  // the model's input rows
  ract_sparse mask;   // items masked to -inf before ranking (the seen items)
  ract_sparse truth;  // the relevant items; rows without any are not counted
  int n_items;
  ract_eval_model_fn fn;
  void* ctx;
  int batch;            // rows per call of fn
  float* block;         // batch x n_items floats the model writes into (e.g. its own output
                        // buffer), overwritten; NULL: taken from the scratch arena
  const float* offset;  // n_items or NULL: added to every score row before it is masked and
                        // ranked (an output bias the model left out of its scores)
  int keep_sums;        // 1: leave the metrics as sums (not finished), for a caller that adds
                        // other replicas' sums first and then calls ract_metrics_finish
} ract_eval_job;

// A job over an evaluation set, block and offset NULL.
ract_eval_job ract_eval_job_make(const ract_eval_set* set, int n_items, ract_eval_model_fn fn,
                                 void* ctx, int batch);

// Scratch bytes ract_eval_run needs for this width, batch and largest K; with_block: the
// score block too (a job whose block is NULL).
size_t ract_eval_bytes(int n_items, int batch, int max_k, int with_block);

// Evaluates the job: m must have been initialised with its cut-offs (ract_metrics_init*);
// its sums are reset, filled and turned into means (unless job->keep_sums). The arena is reset to
// its mark on return.
ract_status ract_eval_run(ract_metrics* m, const ract_eval_job* job, ract_arena* scratch,
                          ract_error* err);

#endif  // RACT_EVAL_EVALUATOR_H_
