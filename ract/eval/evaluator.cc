#include "ract/eval/evaluator.h"

#include <math.h>
#include <omp.h>
#include <string.h>

#include "ract/core/parallel.h"
#include "ract/math/topk_row.h"

// Scratch: the score block; per thread slot the top-K buffers and the truth flags; per row
// of a batch its hit flags and counts (the metrics are summed after the parallel part, in
// row order, so they do not depend on the thread count).
size_t ract_eval_bytes(int n_items, int batch, int max_k, int with_block) {
  int k = max_k < n_items ? max_k : n_items;
  if (k < 1) k = 1;
  const size_t slot = ract_arena_round((size_t)k * sizeof(int)) +
                      ract_arena_round((size_t)k * sizeof(float)) +
                      ract_arena_round((size_t)n_items);
  const size_t block =
      with_block ? ract_arena_round((size_t)batch * (size_t)n_items * sizeof(float)) : 0;
  return block + RACT_MAX_THREADS * slot + ract_arena_round((size_t)batch * (size_t)k) +
         2 * ract_arena_round((size_t)batch * sizeof(int));
}

ract_eval_job ract_eval_job_make(const ract_eval_set* set, int n_items, ract_eval_model_fn fn,
                                 void* ctx, int batch) {
  ract_eval_job j;
  memset(&j, 0, sizeof(j));
  if (set) {
    j.input = ract_csr_view(&set->input);
    j.mask = ract_csr_view(&set->mask);
    j.truth = ract_csr_view(&set->truth);
  }
  j.n_items = n_items;
  j.fn = fn;
  j.ctx = ctx;
  j.batch = batch;
  return j;
}

// row[i] += offset[i]: the output bias a model left out of its scores.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#endif
static void
add_offset(float* __restrict row, const float* __restrict offset, int n) {
  for (int i = 0; i < n; i++) row[i] += offset[i];
}

ract_status ract_eval_run(ract_metrics* m, const ract_eval_job* job, ract_arena* scratch,
                          ract_error* err) {
  if (!job) return ract_fail(err, RACT_ERR_ARG, "eval: no job");
  const ract_sparse input = job->input, mask = job->mask, truth = job->truth;
  const int n_items = job->n_items, batch = job->batch;
  const ract_eval_model_fn fn = job->fn;
  float* const block = job->block;
  const float* const offset = job->offset;
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
  if (kmax < 1) kmax = 1;
  int nt = ract_parallel_threads();
  if (nt > RACT_MAX_THREADS) nt = RACT_MAX_THREADS;
  size_t mark = ract_arena_mark(scratch);
  float* scores =
      block ? block : (float*)ract_arena_alloc(scratch, (size_t)batch * n_items * sizeof(float));
  uint8_t* hits = (uint8_t*)ract_arena_alloc(scratch, (size_t)batch * kmax);
  int* n_hit = (int*)ract_arena_alloc(scratch, (size_t)batch * sizeof(int));
  int* n_rel = (int*)ract_arena_alloc(scratch, (size_t)batch * sizeof(int));
  struct slot {
    int* top_idx;
    float* top_val;
    uint8_t* relevant;
  } slots[RACT_MAX_THREADS];
  int ok = scores && hits && n_hit && n_rel;
  for (int t = 0; t < nt && ok; t++) {
    slots[t].top_idx = (int*)ract_arena_alloc(scratch, (size_t)kmax * sizeof(int));
    slots[t].top_val = (float*)ract_arena_alloc(scratch, (size_t)kmax * sizeof(float));
    slots[t].relevant = (uint8_t*)ract_arena_alloc(scratch, (size_t)n_items);
    ok = slots[t].top_idx && slots[t].top_val && slots[t].relevant;
    if (ok) memset(slots[t].relevant, 0, (size_t)n_items);
  }
  if (!ok) {
    ract_status s = ract_arena_check(scratch, "evaluation scratch", err);
    ract_arena_reset(scratch, mark);
    return s != RACT_OK ? s : ract_fail(err, RACT_ERR_NOMEM, "eval: scratch");
  }
  ract_status s = RACT_OK;
  for (int r0 = 0; r0 < input.rows && s == RACT_OK; r0 += batch) {
    int b = input.rows - r0 < batch ? input.rows - r0 : batch;
    ract_tensor t = ract_tensor_make(scores, b, n_items);
    s = fn(job->ctx, ract_sparse_rows(input, r0, b), t, err);
    if (s != RACT_OK) break;
    const int nthr = ract_parallel_threads_for((size_t)b * n_items) > 1 ? nt : 1;
#pragma omp parallel for num_threads(nthr) schedule(static) if (nthr > 1)
    for (int i = 0; i < b; i++) {
      slot* sl = &slots[nthr > 1 ? omp_get_thread_num() : 0];
      int r = r0 + i;
      float* row = scores + (size_t)i * n_items;
      n_rel[i] = (int)(truth.ptr[r + 1] - truth.ptr[r]);
      n_hit[i] = 0;
      if (n_rel[i] == 0) continue;
      if (offset) add_offset(row, offset, n_items);
      for (int64_t j = mask.ptr[r]; j < mask.ptr[r + 1]; j++) row[mask.idx[j]] = -INFINITY;
      int n = ract_topk_row(row, n_items, kmax, sl->top_idx, sl->top_val);
      uint8_t* h = hits + (size_t)i * kmax;
      for (int64_t j = truth.ptr[r]; j < truth.ptr[r + 1]; j++) sl->relevant[truth.idx[j]] = 1;
      for (int q = 0; q < n; q++) h[q] = sl->relevant[sl->top_idx[q]];
      for (int64_t j = truth.ptr[r]; j < truth.ptr[r + 1]; j++) sl->relevant[truth.idx[j]] = 0;
      n_hit[i] = n;
    }
    for (int i = 0; i < b; i++) {
      if (n_rel[i] > 0) ract_metrics_add(m, hits + (size_t)i * kmax, n_hit[i], n_rel[i]);
    }
  }
  ract_arena_reset(scratch, mark);
  if (s != RACT_OK) return s;
  if (!job->keep_sums) ract_metrics_finish(m);
  return RACT_OK;
}
