#include "ract/eval/popularity.h"

#include <stdlib.h>
#include <string.h>

ract_status ract_popularity_init(ract_popularity* p, const ract_csr* train, ract_error* err) {
  memset(p, 0, sizeof(*p));
  p->n_items = train->cols;
  p->counts = (float*)calloc((size_t)(train->cols ? train->cols : 1), sizeof(float));
  if (!p->counts) return ract_fail(err, RACT_ERR_NOMEM, "popularity: cannot allocate");
  for (int64_t i = 0; i < train->nnz; i++) p->counts[train->idx[i]] += 1.0f;
  return RACT_OK;
}

void ract_popularity_free(ract_popularity* p) {
  if (!p) return;
  free(p->counts);
  memset(p, 0, sizeof(*p));
}

ract_status ract_popularity_score(void* ctx, ract_sparse input_rows, ract_tensor scores,
                                  ract_error* err) {
  const ract_popularity* p = (const ract_popularity*)ctx;
  if (scores.cols != p->n_items || scores.rows != input_rows.rows)
    return ract_fail(err, RACT_ERR_SHAPE, "popularity: scores %dx%d for %d rows of %d items",
                     scores.rows, scores.cols, input_rows.rows, p->n_items);
  for (int r = 0; r < scores.rows; r++)
    memcpy(ract_tensor_row(scores, r), p->counts, (size_t)p->n_items * sizeof(float));
  return RACT_OK;
}
