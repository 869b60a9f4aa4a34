#include "ract/data/filter.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

ract_interval ract_interval_all(void) {
  ract_interval iv = {0.0, INFINITY, 0, 1};
  return iv;
}

int ract_interval_contains(ract_interval iv, double x) {
  if (iv.lo_open ? !(x > iv.lo) : !(x >= iv.lo)) return 0;
  if (iv.hi_open ? !(x < iv.hi) : !(x <= iv.hi)) return 0;
  return 1;
}

int ract_interval_is_all(ract_interval iv) {
  return ract_interval_contains(iv, 0.0) && isinf(iv.hi) && iv.hi > 0;
}

static int parse_bound(const char* b, const char* e, double* out) {
  while (b < e && *b == ' ') b++;
  while (e > b && e[-1] == ' ') e--;
  size_t n = (size_t)(e - b);
  if ((n == 3 && strncmp(b, "inf", 3) == 0) || (n == 4 && strncmp(b, "+inf", 4) == 0)) {
    *out = INFINITY;
    return 1;
  }
  if (n == 4 && strncmp(b, "-inf", 4) == 0) {
    *out = -INFINITY;
    return 1;
  }
  if (n == 0 || n > 30) return 0;
  char buf[32];
  memcpy(buf, b, n);
  buf[n] = '\0';
  char* end;
  *out = strtod(buf, &end);
  return *end == '\0';
}

ract_status ract_interval_parse(const char* s, ract_interval* out, ract_error* err) {
  if (!s || !*s) return ract_fail(err, RACT_ERR_ARG, "interval: empty");
  size_t n = strlen(s);
  ract_interval iv;
  if (s[0] != '[' && s[0] != '(') {
    if (!parse_bound(s, s + n, &iv.lo))
      return ract_fail(err, RACT_ERR_ARG, "interval '%s': expected [lo,hi) or a number", s);
    iv.hi = INFINITY;
    iv.lo_open = 0;
    iv.hi_open = 1;
    *out = iv;
    return RACT_OK;
  }
  const char* comma = strchr(s, ',');
  char last = s[n - 1];
  if (!comma || (last != ']' && last != ')') || !parse_bound(s + 1, comma, &iv.lo) ||
      !parse_bound(comma + 1, s + n - 1, &iv.hi))
    return ract_fail(err, RACT_ERR_ARG, "interval '%s': expected e.g. [5,inf) or (0,100]", s);
  iv.lo_open = s[0] == '(';
  iv.hi_open = last == ')';
  if (iv.lo > iv.hi)
    return ract_fail(err, RACT_ERR_ARG, "interval '%s': lower bound above upper bound", s);
  *out = iv;
  return RACT_OK;
}

ract_status ract_filter_threshold(ract_inter* x, float t, ract_error* err) {
  if (!x->rating)
    return ract_fail(err, RACT_ERR_DATA, "threshold %g: the data has no rating column", t);
  int64_t w = 0;
  for (int64_t i = 0; i < x->n; i++) {
    if (!(x->rating[i] >= t)) continue;
    x->user[w] = x->user[i];
    x->item[w] = x->item[i];
    x->rating[w] = x->rating[i];
    w++;
  }
  x->n = w;
  return RACT_OK;
}

ract_status ract_filter_kcore(ract_inter* x, int n_users, int n_items, ract_interval users,
                              ract_interval items, int* rounds, ract_error* err) {
  int r = 0;
  if (ract_interval_is_all(users) && ract_interval_is_all(items)) {
    if (rounds) *rounds = 0;
    return RACT_OK;
  }
  int64_t* uc = (int64_t*)malloc(((size_t)n_users + 1) * sizeof(int64_t));
  int64_t* ic = (int64_t*)malloc(((size_t)n_items + 1) * sizeof(int64_t));
  uint8_t* ukeep = (uint8_t*)malloc((size_t)n_users + 1);
  uint8_t* ikeep = (uint8_t*)malloc((size_t)n_items + 1);
  if (!uc || !ic || !ukeep || !ikeep) {
    free(uc);
    free(ic);
    free(ukeep);
    free(ikeep);
    return ract_fail(err, RACT_ERR_NOMEM, "k-core: cannot allocate counts");
  }
  for (;;) {
    r++;
    memset(uc, 0, (size_t)n_users * sizeof(int64_t));
    memset(ic, 0, (size_t)n_items * sizeof(int64_t));
    for (int64_t i = 0; i < x->n; i++) uc[x->user[i]]++, ic[x->item[i]]++;
    // Only users/items that still occur are judged (as RecBole counts present ids).
    for (int u = 0; u < n_users; u++)
      ukeep[u] = uc[u] == 0 || ract_interval_contains(users, (double)uc[u]);
    for (int i = 0; i < n_items; i++)
      ikeep[i] = ic[i] == 0 || ract_interval_contains(items, (double)ic[i]);
    int64_t w = 0;
    for (int64_t i = 0; i < x->n; i++) {
      if (!ukeep[x->user[i]] || !ikeep[x->item[i]]) continue;
      x->user[w] = x->user[i];
      x->item[w] = x->item[i];
      if (x->rating) x->rating[w] = x->rating[i];
      w++;
    }
    bool changed = w != x->n;
    x->n = w;
    if (!changed) break;
  }
  free(uc);
  free(ic);
  free(ukeep);
  free(ikeep);
  if (rounds) *rounds = r;
  return RACT_OK;
}
