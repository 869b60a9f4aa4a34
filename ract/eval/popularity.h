// The popularity baseline: every user gets the same scores, each item's number of train
// interactions. The floor every trained model must beat, and a check of the evaluator.
#ifndef RACT_EVAL_POPULARITY_H_
#define RACT_EVAL_POPULARITY_H_

#include "ract/core/status.h"
#include "ract/core/tensor.h"
#include "ract/data/csr.h"

typedef struct ract_popularity {
  int n_items;
  float* counts;  // n_items train counts (malloc'ed)
} ract_popularity;

// Counts the items of `train` (n_items = train->cols).
ract_status ract_popularity_init(ract_popularity* p, const ract_csr* train, ract_error* err);
void ract_popularity_free(ract_popularity* p);

// A ract_eval_model_fn: ctx is a ract_popularity*; copies the counts into every score row.
ract_status ract_popularity_score(void* ctx, ract_sparse input_rows, ract_tensor scores,
                                  ract_error* err);

#endif  // RACT_EVAL_POPULARITY_H_
