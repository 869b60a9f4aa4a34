#include "ract/eval/evaluator.h"

#include <math.h>
#include <string.h>

#include "ract/math/topk.h"

size_t ract_eval_bytes(int n_items, int batch, int max_k) {
  int k = max_k < n_items ? max_k : n_items;
  return ract_arena_round((size_t)batch * (size_t)n_items * sizeof(float)) +
         ract_arena_round((size_t)(k > 0 ? k : 1) * sizeof(int)) +
         ract_arena_round((size_t)(k > 0 ? k : 1) * sizeof(float)) +
         ract_arena_round((size_t)(k > 0 ? k : 1)) + ract_arena_round((size_t)n_items);
}

ract_status ract_eval_run_views(ract_metrics* m, ract_sparse input, ract_sparse mask,
                                ract_sparse truth, int n_items, ract_eval_model_fn fn, void* ctx,
                                int batch, ract_arena* scratch, ract_error* err) {
  if (!m || !fn || !scratch || batch < 1 || n_items < 1)
    return ract_fail(err, RACT_ERR_ARG, "eval: invalid arguments (batch %d, items %d)", batch,
                     n_items);
  if (input.rows != mask.rows || input.rows != truth.rows)
    return ract_fail(err, RACT_ERR_SHAPE, "eval: input %d, mask %d, truth %d rows", input.rows,
                     mask.rows, truth.rows);
  if (input.cols != n_items || mask.cols != n_items || truth.cols != n_items)
    return ract_fail(err, RACT_ERR_SHAPE, "eval: matrices of %d/%d/%d columns, model width %d",
                     input.cols, mask.cols, truth.cols, n_items);
  ract_metrics fresh;
  RACT_CHECK(ract_metrics_init(&fresh, m->k, m->n_k, err));
  *m = fresh;
  int kmax = ract_metrics_max_k(m);
  if (kmax > n_items) kmax = n_items;
  size_t mark = ract_arena_mark(scratch);
  float* scores = (float*)ract_arena_alloc(scratch, (size_t)batch * n_items * sizeof(float));
  int* top_idx = (int*)ract_arena_alloc(scratch, (size_t)kmax * sizeof(int));
  float* top_val = (float*)ract_arena_alloc(scratch, (size_t)kmax * sizeof(float));
  uint8_t* hits = (uint8_t*)ract_arena_alloc(scratch, (size_t)kmax);
  uint8_t* relevant = (uint8_t*)ract_arena_alloc(scratch, (size_t)n_items);
  if (!scores || !top_idx || !top_val || !hits || !relevant) {
    ract_status s = ract_arena_check(scratch, "evaluation scratch", err);
    ract_arena_reset(scratch, mark);
    return s != RACT_OK ? s : ract_fail(err, RACT_ERR_NOMEM, "eval: scratch");
  }
  memset(relevant, 0, (size_t)n_items);
  ract_status s = RACT_OK;
  for (int r0 = 0; r0 < input.rows && s == RACT_OK; r0 += batch) {
    int b = input.rows - r0 < batch ? input.rows - r0 : batch;
    ract_tensor t = ract_tensor_make(scores, b, n_items);
    s = fn(ctx, ract_sparse_rows(input, r0, b), t, err);
    if (s != RACT_OK) break;
    for (int i = 0; i < b; i++) {
      int r = r0 + i;
      float* row = scores + (size_t)i * n_items;
      for (int64_t j = mask.ptr[r]; j < mask.ptr[r + 1]; j++) row[mask.idx[j]] = -INFINITY;
      int n_rel = (int)(truth.ptr[r + 1] - truth.ptr[r]);
      if (n_rel == 0) continue;
      int n = ract_topk_row(row, n_items, kmax, top_idx, top_val);
      for (int64_t j = truth.ptr[r]; j < truth.ptr[r + 1]; j++) relevant[truth.idx[j]] = 1;
      for (int q = 0; q < n; q++) hits[q] = relevant[top_idx[q]];
      for (int64_t j = truth.ptr[r]; j < truth.ptr[r + 1]; j++) relevant[truth.idx[j]] = 0;
      ract_metrics_add(m, hits, n, n_rel);
    }
  }
  ract_arena_reset(scratch, mark);
  if (s != RACT_OK) return s;
  ract_metrics_finish(m);
  return RACT_OK;
}

ract_status ract_eval_run(ract_metrics* m, const ract_eval_set* set, int n_items,
                          ract_eval_model_fn fn, void* ctx, int batch, ract_arena* scratch,
                          ract_error* err) {
  if (!set) return ract_fail(err, RACT_ERR_ARG, "eval: no evaluation set");
  return ract_eval_run_views(m, ract_csr_view(&set->input), ract_csr_view(&set->mask),
                             ract_csr_view(&set->truth), n_items, fn, ctx, batch, scratch, err);
}
