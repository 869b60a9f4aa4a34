#include "ract/data/split.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <algorithm>

#include "ract/core/atomic_file.h"
#include "ract/core/rng.h"

// RNG streams of one seed, one per purpose, so that changing one protocol's draws never
// shifts another's.
enum { kStreamRatio = 101, kStreamUsers = 102 };

void ract_split_ratio_counts(int n, const double ratio_in[3], int cnt[3]) {
  double tot = ratio_in[0] + ratio_in[1] + ratio_in[2];
  double r[3] = {ratio_in[0] / tot, ratio_in[1] / tot, ratio_in[2] / tot};
  for (int i = 0; i < 3; i++) cnt[i] = (int)(r[i] * n);
  cnt[0] = n - cnt[1] - cnt[2];
  for (int i = 1; i < 3; i++) {  // RecBole: every part non-empty if train can spare a row
    if (cnt[0] <= 1) break;
    double x = r[3 - i] * n;
    if (0 < x && x < 1) {
      cnt[3 - i]++;
      cnt[0]--;
    }
  }
}

ract_status ract_split_ratio(ract_csr* train, ract_csr* valid, ract_csr* test, const ract_csr* all,
                             const double ratio[3], uint64_t seed, ract_error* err) {
  // A finite sum: inf/inf would be NaN, and NaN * n cast to int is undefined.
  if (!(ratio[0] >= 0 && ratio[1] >= 0 && ratio[2] >= 0 && ratio[0] + ratio[1] + ratio[2] > 0 &&
        isfinite(ratio[0] + ratio[1] + ratio[2])))
    return ract_fail(err, RACT_ERR_ARG, "split ratio %g,%g,%g: need finite non-negative ratios",
                     ratio[0], ratio[1], ratio[2]);
  int64_t n = all->nnz;
  int32_t* rows = (int32_t*)malloc((size_t)(n ? n : 1) * sizeof(int32_t));
  int32_t* cols = (int32_t*)malloc((size_t)(n ? n : 1) * sizeof(int32_t));
  uint8_t* part = (uint8_t*)malloc((size_t)(n ? n : 1));
  int* perm = NULL;
  int longest = 0;
  for (int u = 0; u < all->rows; u++) longest = std::max(longest, ract_csr_row_nnz(all, u));
  perm = (int*)malloc((size_t)(longest ? longest : 1) * sizeof(int));
  if (!rows || !cols || !part || !perm) {
    free(rows), free(cols), free(part), free(perm);
    return ract_fail(err, RACT_ERR_NOMEM, "split: cannot allocate %lld rows", (long long)n);
  }
  ract_rng rng;
  ract_rng_seed(&rng, seed, kStreamRatio);
  for (int u = 0; u < all->rows; u++) {
    int m = ract_csr_row_nnz(all, u);
    int64_t b = all->ptr[u];
    for (int i = 0; i < m; i++) perm[i] = i;
    ract_rng_shuffle(&rng, perm, (size_t)m);
    int cnt[3];
    ract_split_ratio_counts(m, ratio, cnt);
    for (int i = 0; i < m; i++) {
      rows[b + i] = u;
      cols[b + i] = all->idx[b + perm[i]];
      part[b + i] = i < cnt[0] ? 0 : (i < cnt[0] + cnt[1] ? 1 : 2);
    }
  }
  // Three passes over the shuffled rows: each part keeps its rows in place order.
  ract_csr* outs[3] = {train, valid, test};
  int32_t* pr = (int32_t*)malloc((size_t)(n ? n : 1) * sizeof(int32_t));
  int32_t* pc = (int32_t*)malloc((size_t)(n ? n : 1) * sizeof(int32_t));
  ract_status s = (pr && pc) ? RACT_OK : ract_fail(err, RACT_ERR_NOMEM, "split: cannot allocate");
  for (int k = 0; k < 3 && s == RACT_OK; k++) {
    int64_t w = 0;
    for (int64_t i = 0; i < n; i++)
      if (part[i] == k) pr[w] = rows[i], pc[w] = cols[i], w++;
    s = ract_csr_build(outs[k], all->rows, all->cols, w, pr, pc, NULL, err);
    if (s != RACT_OK)
      for (int j = 0; j < k; j++) ract_csr_free(outs[j]);
  }
  free(rows), free(cols), free(part), free(perm), free(pr), free(pc);
  return s;
}

ract_status ract_split_pick_users(int32_t** train_users, int* n_train, int32_t** valid_users,
                                  int32_t** test_users, int n_users, int n_valid, int n_test,
                                  uint64_t seed, ract_error* err) {
  if (n_valid < 0 || n_test < 0 || n_valid + n_test >= n_users)
    return ract_fail(err, RACT_ERR_ARG,
                     "split: %d validation + %d test held-out users leave no train user out "
                     "of %d",
                     n_valid, n_test, n_users);
  int* perm = (int*)malloc((size_t)n_users * sizeof(int));
  int nt = n_users - n_valid - n_test;
  int32_t* tr = (int32_t*)malloc((size_t)nt * sizeof(int32_t));
  int32_t* va = (int32_t*)malloc((size_t)(n_valid ? n_valid : 1) * sizeof(int32_t));
  int32_t* te = (int32_t*)malloc((size_t)(n_test ? n_test : 1) * sizeof(int32_t));
  if (!perm || !tr || !va || !te) {
    free(perm), free(tr), free(va), free(te);
    return ract_fail(err, RACT_ERR_NOMEM, "split: cannot allocate %d users", n_users);
  }
  for (int i = 0; i < n_users; i++) perm[i] = i;
  ract_rng rng;
  ract_rng_seed(&rng, seed, kStreamUsers);
  ract_rng_shuffle(&rng, perm, (size_t)n_users);
  for (int i = 0; i < nt; i++) tr[i] = perm[i];
  for (int i = 0; i < n_valid; i++) va[i] = perm[nt + i];
  for (int i = 0; i < n_test; i++) te[i] = perm[nt + n_valid + i];
  std::sort(tr, tr + nt);
  std::sort(va, va + n_valid);
  std::sort(te, te + n_test);
  free(perm);
  *train_users = tr;
  *n_train = nt;
  *valid_users = va;
  *test_users = te;
  return RACT_OK;
}

ract_status ract_split_holdout(ract_csr* foldin, ract_csr* hidden, const ract_csr* rows,
                               double fraction, uint64_t seed, uint64_t stream, ract_error* err) {
  if (!(fraction >= 0 && fraction < 1))
    return ract_fail(err, RACT_ERR_ARG, "holdout fraction %g: need 0 <= f < 1", fraction);
  int64_t n = rows->nnz;
  int longest = 0;
  for (int u = 0; u < rows->rows; u++) longest = std::max(longest, ract_csr_row_nnz(rows, u));
  int32_t* r_in = (int32_t*)malloc((size_t)(n ? n : 1) * sizeof(int32_t));
  int32_t* c_in = (int32_t*)malloc((size_t)(n ? n : 1) * sizeof(int32_t));
  int32_t* r_hid = (int32_t*)malloc((size_t)(n ? n : 1) * sizeof(int32_t));
  int32_t* c_hid = (int32_t*)malloc((size_t)(n ? n : 1) * sizeof(int32_t));
  int* perm = (int*)malloc((size_t)(longest ? longest : 1) * sizeof(int));
  ract_status s = RACT_OK;
  if (!r_in || !c_in || !r_hid || !c_hid || !perm) {
    s = ract_fail(err, RACT_ERR_NOMEM, "holdout: cannot allocate");
  } else {
    ract_rng rng;
    ract_rng_seed(&rng, seed, 200 + stream);
    int64_t ni = 0, nh = 0;
    for (int u = 0; u < rows->rows; u++) {
      int m = ract_csr_row_nnz(rows, u);
      const int32_t* idx = rows->idx + rows->ptr[u];
      for (int i = 0; i < m; i++) perm[i] = i;
      ract_rng_shuffle(&rng, perm, (size_t)m);
      int h = (int)(fraction * m);
      for (int i = 0; i < m; i++) {
        if (i < h) {
          r_hid[nh] = u, c_hid[nh++] = idx[perm[i]];
        } else {
          r_in[ni] = u, c_in[ni++] = idx[perm[i]];
        }
      }
    }
    s = ract_csr_build(foldin, rows->rows, rows->cols, ni, r_in, c_in, NULL, err);
    if (s == RACT_OK) {
      s = ract_csr_build(hidden, rows->rows, rows->cols, nh, r_hid, c_hid, NULL, err);
      if (s != RACT_OK) ract_csr_free(foldin);
    }
  }
  free(r_in), free(c_in), free(r_hid), free(c_hid), free(perm);
  return s;
}

// Why a token would not read back as itself from a TSV line (the loader splits on tabs and
// lines, trims blanks and one pair of enclosing quotes), or NULL when it would.
static const char* tsv_unsafe(const char* t) {
  size_t len = strlen(t);
  if (len == 0) return "is empty";
  if (strpbrk(t, "\t\n")) return "holds a tab or a line break";
  if (t[0] == ' ' || t[0] == '\r' || t[len - 1] == ' ' || t[len - 1] == '\r') {
    return "starts or ends with a blank";
  }
  if (len >= 2 && t[0] == '"' && t[len - 1] == '"') return "is enclosed in quotes";
  return NULL;
}

ract_status ract_split_write_tsv(const char* path, const ract_csr* m, const int32_t* row_users,
                                 const ract_vocab* users, const ract_vocab* items,
                                 ract_error* err) {
  // Checked before anything is written: a split that cannot be loaded back is refused.
  for (int r = 0; r < m->rows; r++) {
    if (m->ptr[r] == m->ptr[r + 1]) continue;
    const char* ut = ract_vocab_token(users, row_users ? row_users[r] : r);
    const char* why = tsv_unsafe(ut);
    for (int64_t i = m->ptr[r]; why == NULL && i < m->ptr[r + 1]; i++) {
      ut = ract_vocab_token(items, m->idx[i]);
      if ((why = tsv_unsafe(ut)) != NULL) {
        return ract_fail(err, RACT_ERR_DATA, "%s: item id '%.40s' %s: it cannot be written as TSV",
                         path, ut, why);
      }
    }
    if (why != NULL) {
      return ract_fail(err, RACT_ERR_DATA, "%s: user id '%.40s' %s: it cannot be written as TSV",
                       path, ut, why);
    }
  }
  ract_atomic_file af;
  RACT_CHECK(ract_atomic_open(&af, path, err));
  fputs("user_id\titem_id\n", af.f);
  for (int r = 0; r < m->rows; r++) {
    const char* ut = ract_vocab_token(users, row_users ? row_users[r] : r);
    for (int64_t i = m->ptr[r]; i < m->ptr[r + 1]; i++)
      fprintf(af.f, "%s\t%s\n", ut, ract_vocab_token(items, m->idx[i]));
  }
  return ract_atomic_commit(&af, err);
}
