// Top-K selection by a bounded min-heap: O(n log k) over one pass, no sort of the n scores
// and no allocation (the caller provides room for k entries). The on-device scorer streams
// scores into it (the full score row need not be stored); ract/math/topk_row.h ranks whole
// rows the same way, faster, with it as the fallback. No dependencies: the scorer links it.
//
// Order: higher score first; equal scores by lower index first, so results are
// deterministic. NaN ranks below everything, -inf included.
#ifndef RACT_MATH_TOPK_H_
#define RACT_MATH_TOPK_H_

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ract_topk {
  int k;       // capacity
  int n;       // entries held (<= k)
  int* idx;    // k slots
  float* val;  // k slots
} ract_topk;

// Starts an empty selection of at most k entries in the caller's buffers.
void ract_topk_init(ract_topk* t, int k, int* idx, float* val);

// True if (va, a) ranks before (vb, b).
static inline int ract_topk_before(float va, int a, float vb, int b) {
  if (va != va) return 0;  // NaN never ranks before anything
  if (vb != vb) return 1;
  return va > vb || (va == vb && a < b);
}

void ract_topk_push_slow(ract_topk* t, int index, float score);

// Offers one (index, score). The common case, a score below the current K-th, returns
// after one comparison.
static inline void ract_topk_push(ract_topk* t, int index, float score) {
  if (t->n == t->k && (t->k == 0 || !ract_topk_before(score, index, t->val[0], t->idx[0]))) {
    return;
  }
  ract_topk_push_slow(t, index, score);
}

// Sorts the held entries into rank order (best first); returns how many there are.
int ract_topk_finish(ract_topk* t);

#ifdef __cplusplus
}  // extern "C"
#endif

#endif  // RACT_MATH_TOPK_H_
