// Top-K ranking metrics, RecBole's definitions, for a list of cut-offs K. Per user with
// relevant set R and ranked list (best first):
//   Recall@K = hits/|R|; the paper's Recall@K = hits/min(K, |R|); Precision@K = hits/K;
//   Hit@K = [hits > 0]; MRR@K = 1/rank of the first hit (0 if none);
//   NDCG@K = sum over hit ranks r <= K of 1/log2(r+1), divided by
//            sum over r <= min(|R|, K) of 1/log2(r+1).
// Averaged over users with at least one relevant item. Keys are RecBole's, lower case:
// recall@10, mrr@10, ndcg@10, hit@10, precision@10, and recall_paper@10 for the paper's.
#ifndef RACT_EVAL_METRICS_H_
#define RACT_EVAL_METRICS_H_

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ract/core/status.h"

#define RACT_METRICS_MAX_K 8

typedef struct ract_metrics {
  int n_k;
  int k[RACT_METRICS_MAX_K];  // cut-offs, in the order given
  int users;                  // users averaged over (|R| >= 1)
  int finished;               // 1 once the sums below are means
  double recall[RACT_METRICS_MAX_K];
  double recall_paper[RACT_METRICS_MAX_K];
  double mrr[RACT_METRICS_MAX_K];
  double ndcg[RACT_METRICS_MAX_K];
  double hit[RACT_METRICS_MAX_K];
  double precision[RACT_METRICS_MAX_K];
} ract_metrics;

// Starts empty sums for the cut-offs ks[0..n_k) (1 <= n_k <= RACT_METRICS_MAX_K, K >= 1).
ract_status ract_metrics_init(ract_metrics* m, const int* ks, int n_k, ract_error* err);
// The default cut-offs: 10 and 100 (RecBole's topk 10, plus the paper's NDCG@100).
void ract_metrics_init_default(ract_metrics* m);
// Parses "10,100" into cut-offs.
ract_status ract_metrics_init_list(ract_metrics* m, const char* list, ract_error* err);
int ract_metrics_max_k(const ract_metrics* m);

// Adds one user: hits[r] (r < n_ranked) is 1 when the item at rank r+1 is relevant;
// n_rel = |R|. A user with n_rel == 0 is skipped. n_ranked may be below a K (fewer items
// than K): the missing ranks are misses.
void ract_metrics_add(ract_metrics* m, const uint8_t* hits, int n_ranked, int n_rel);
// Turns sums into means over m->users (0 when no user was added).
void ract_metrics_finish(ract_metrics* m);

// A metric by key ("ndcg@100", "recall_paper@20", ...): its mean; NAN if absent.
double ract_metrics_get(const ract_metrics* m, const char* key);

// RecBole's result line, `recall@10 : 0.2588    mrr@10 : 0.4862    ...` (metric-major,
// then K), with the paper's recall on a second line. Returns the length as snprintf.
int ract_metrics_format(char* buf, size_t size, const ract_metrics* m);
void ract_metrics_print(FILE* f, const ract_metrics* m);
// {"users": 943, "recall@10": 0.1234, ...} on one line, keys lower case.
int ract_metrics_format_json(char* buf, size_t size, const ract_metrics* m);
void ract_metrics_write_json(FILE* f, const ract_metrics* m);

#endif  // RACT_EVAL_METRICS_H_
