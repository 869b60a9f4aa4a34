// Interaction filters, as RecBole's dataset options: `threshold` (a rating >= t is a
// positive; other rows are dropped) and `user_inter_num_interval` /
// `item_inter_num_interval` (k-core: keep users and items whose interaction count lies in
// an interval, iterated until nothing changes). Filters work on the raw row list, before
// duplicate pairs are merged, as RecBole counts rows.
#ifndef RACT_DATA_FILTER_H_
#define RACT_DATA_FILTER_H_

#include "ract/core/status.h"
#include "ract/data/loader.h"

// A count interval in RecBole's notation: "[5,inf)", "(0,100]", "[0,inf)". A bare number
// "5" means "[5,inf)".
typedef struct ract_interval {
  double lo, hi;  // hi may be INFINITY
  int lo_open, hi_open;
} ract_interval;

// [0, inf): keeps everything.
ract_interval ract_interval_all(void);
ract_status ract_interval_parse(const char* s, ract_interval* out, ract_error* err);
int ract_interval_contains(ract_interval iv, double x);
// True when the interval keeps every count >= 0 ([0,inf) or looser).
int ract_interval_is_all(ract_interval iv);

// Drops rows with rating < t. Fails (RACT_ERR_DATA) if x has no ratings.
ract_status ract_filter_threshold(ract_inter* x, float t, ract_error* err);

// RecBole's _filter_by_inter_num: count rows per user and per item, drop every row whose
// user or item count lies outside its interval, repeat until no row is dropped.
// *rounds (optional) receives the number of passes.
ract_status ract_filter_kcore(ract_inter* x, int n_users, int n_items, ract_interval users,
                              ract_interval items, int* rounds, ract_error* err);

#endif  // RACT_DATA_FILTER_H_
