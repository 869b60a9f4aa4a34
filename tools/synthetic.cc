// Synthetic datasets (synthetic.h).
#include "tools/synthetic.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <algorithm>
#include <vector>

#include "ract/core/rng.h"
#include "ract/data/csr.h"
#include "ract/data/vocab.h"
#include "ract/train/trainer.h"

namespace {

ract_status csr_from_pairs(ract_csr* out, int rows, int cols, const std::vector<int32_t>& r,
                           const std::vector<int32_t>& c, ract_error* err) {
  return ract_csr_build(out, rows, cols, (int64_t)r.size(), r.data(), c.data(), nullptr, err);
}

ract_status eval_set(ract_eval_set* s, const ract_csr* input, int U, int I,
                     const std::vector<int32_t>& r, const std::vector<int32_t>& c,
                     ract_error* err) {
  memset(s, 0, sizeof(*s));
  s->rows = U;
  s->users = (int32_t*)malloc(sizeof(int32_t) * (U > 0 ? U : 1));
  if (!s->users) return ract_fail(err, RACT_ERR_NOMEM, "synthetic: out of memory");
  for (int u = 0; u < U; u++) s->users[u] = u;
  RACT_CHECK(ract_csr_copy(&s->input, input, err));
  RACT_CHECK(ract_csr_copy(&s->mask, input, err));
  return csr_from_pairs(&s->truth, U, I, r, c, err);
}

}  // namespace

ract_status ract_synthetic_dataset(ract_dataset* ds, int U, int I, int P, uint64_t seed,
                                   const ract_comm* part, ract_error* err) {
  memset(ds, 0, sizeof(*ds));
  snprintf(ds->name, sizeof(ds->name), "synthetic %d users x %d items x %d", U, I, P);
  ds->split = RACT_SPLIT_RS;
  ds->n_users = U;
  ds->n_items = I;
  ract_vocab_init(&ds->users);
  ract_vocab_init(&ds->items);
  char tok[32];
  int32_t id;
  for (int u = 0; u < U; u++) {
    int n = snprintf(tok, sizeof(tok), "u%d", u);
    RACT_CHECK(ract_vocab_add(&ds->users, tok, (size_t)n, &id, err));
  }
  for (int i = 0; i < I; i++) {
    int n = snprintf(tok, sizeof(tok), "i%d", i);
    RACT_CHECK(ract_vocab_add(&ds->items, tok, (size_t)n, &id, err));
  }
  // Inverse CDF of p(rank) ~ 1/(rank + 10) over the items, then a fixed random relabeling.
  std::vector<double> cdf(I);
  double acc = 0;
  for (int i = 0; i < I; i++) cdf[i] = (acc += 1.0 / (i + 10.0));
  std::vector<int> label(I);
  for (int i = 0; i < I; i++) label[i] = i;
  ract_rng rng;
  ract_rng_seed(&rng, seed, 99);
  ract_rng_shuffle(&rng, label.data(), (size_t)I);
  // The users whose training rows and evaluation rows this process keeps.
  int lo = 0, hi = U;
  ract_trainer_eval_block(part, U, &lo, &hi);
  const int size = part != nullptr && part->size > 1 ? part->size : 1;
  std::vector<int32_t> tr_r, tr_c, in_r, in_c, va_r, va_c, te_r, te_c;
  const size_t nnz = (size_t)U * (size_t)P;
  tr_r.reserve(nnz * 8 / 10 / size + U);
  tr_c.reserve(nnz * 8 / 10 / size + U);
  int64_t whole_train = 0;
  std::vector<uint8_t> seen(I, 0);
  std::vector<int> row;
  const int per = P < I ? P : I;
  for (int u = 0; u < U; u++) {
    row.clear();
    while ((int)row.size() < per) {
      double x = ract_rng_uniform_double(&rng) * acc;
      int rank = (int)(std::lower_bound(cdf.begin(), cdf.end(), x) - cdf.begin());
      int item = label[rank < I ? rank : I - 1];
      if (seen[item]) continue;
      seen[item] = 1;
      row.push_back(item);
    }
    ract_rng_shuffle(&rng, row.data(), row.size());
    const int n_tr = (int)(row.size() * 8 / 10), n_va = (int)(row.size() / 10);
    const int trains = ract_trainer_owns_user(part, u), evaluates = u >= lo && u < hi;
    whole_train += n_tr;
    for (int j = 0; j < (int)row.size(); j++) seen[row[j]] = 0;
    for (int j = 0; j < (int)row.size(); j++) {
      if (j < n_tr) {
        if (trains) tr_r.push_back(u), tr_c.push_back(row[j]);
        if (evaluates && part != nullptr) in_r.push_back(u), in_c.push_back(row[j]);
      } else if (!evaluates) {
        break;
      } else if (j < n_tr + n_va) {
        va_r.push_back(u);
        va_c.push_back(row[j]);
      } else {
        te_r.push_back(u);
        te_c.push_back(row[j]);
      }
    }
  }
  RACT_CHECK(csr_from_pairs(&ds->train, U, I, tr_r, tr_c, err));
  ds->train_users = (int32_t*)malloc(sizeof(int32_t) * (U > 0 ? U : 1));
  if (!ds->train_users) return ract_fail(err, RACT_ERR_NOMEM, "synthetic: out of memory");
  for (int u = 0; u < U; u++) ds->train_users[u] = u;
  if (part != nullptr) {  // the evaluation inputs: the train rows of this block's users
    ract_csr input;
    memset(&input, 0, sizeof(input));
    RACT_CHECK(csr_from_pairs(&input, U, I, in_r, in_c, err));
    std::vector<int32_t>().swap(in_r);
    std::vector<int32_t>().swap(in_c);
    ract_status s = eval_set(&ds->valid, &input, U, I, va_r, va_c, err);
    if (s == RACT_OK) s = eval_set(&ds->test, &input, U, I, te_r, te_c, err);
    ract_csr_free(&input);
    if (s != RACT_OK) return s;
    ds->counts.partial = 1;
    ds->counts.whole_train_nnz = whole_train;
  } else {
    RACT_CHECK(eval_set(&ds->valid, &ds->train, U, I, va_r, va_c, err));
    RACT_CHECK(eval_set(&ds->test, &ds->train, U, I, te_r, te_c, err));
  }
  ds->counts.kept_rows = (int64_t)nnz;
  ds->counts.valid_pairs = (int64_t)va_r.size();
  ds->counts.test_pairs = (int64_t)te_r.size();
  return RACT_OK;
}
