// Top-K of a whole score row (evaluation, the critic's NDCG target): the same result as
// pushing every score through the heap of ract/math/topk.h (higher first, ties by lower
// index, NaN last), from a threshold pass, one filter pass and a bucket sort of the few
// survivors instead of O(log k) heap work per entry (topk_row.cc says how). Training-side
// only: the on-device scorer streams into the heap and does not link this.
#ifndef RACT_MATH_TOPK_ROW_H_
#define RACT_MATH_TOPK_ROW_H_

#ifdef __cplusplus
extern "C" {
#endif

// The k best of scores[0..n) in rank order into idx and val (k slots each); returns
// min(k, n).
int ract_topk_row(const float* scores, int n, int k, int* idx, float* val);

#ifdef __cplusplus
}  // extern "C"
#endif

#endif  // RACT_MATH_TOPK_ROW_H_
