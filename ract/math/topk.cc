// Bounded min-heap top-K: the root is the worst entry held.
#include "ract/math/topk.h"

void ract_topk_init(ract_topk* t, int k, int* idx, float* val) {
  t->k = k < 0 ? 0 : k;
  t->n = 0;
  t->idx = idx;
  t->val = val;
}

// Heap order: parent is "worse" (ranks after) than its children.
static inline int worse(const ract_topk* t, int i, int j) {
  return ract_topk_before(t->val[j], t->idx[j], t->val[i], t->idx[i]);
}

static inline void swap_entries(ract_topk* t, int i, int j) {
  int ti = t->idx[i];
  t->idx[i] = t->idx[j];
  t->idx[j] = ti;
  float tv = t->val[i];
  t->val[i] = t->val[j];
  t->val[j] = tv;
}

static void sift_down(ract_topk* t, int i, int n) {
  for (;;) {
    int l = 2 * i + 1, r = l + 1, w = i;
    if (l < n && worse(t, l, w)) w = l;
    if (r < n && worse(t, r, w)) w = r;
    if (w == i) return;
    swap_entries(t, i, w);
    i = w;
  }
}

void ract_topk_push_slow(ract_topk* t, int index, float score) {
  if (t->k == 0) return;
  if (t->n < t->k) {
    int i = t->n++;
    t->idx[i] = index;
    t->val[i] = score;
    while (i > 0) {
      int p = (i - 1) / 2;
      if (!worse(t, i, p)) break;
      swap_entries(t, i, p);
      i = p;
    }
    return;
  }
  t->idx[0] = index;
  t->val[0] = score;
  sift_down(t, 0, t->n);
}

int ract_topk_finish(ract_topk* t) {
  // Heap sort: repeatedly move the worst entry to the end.
  for (int end = t->n - 1; end > 0; end--) {
    swap_entries(t, 0, end);
    sift_down(t, 0, end);
  }
  return t->n;
}
