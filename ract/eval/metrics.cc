#include "ract/eval/metrics.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

ract_status ract_metrics_init(ract_metrics* m, const int* ks, int n_k, ract_error* err) {
  memset(m, 0, sizeof(*m));
  if (n_k < 1 || n_k > RACT_METRICS_MAX_K)
    return ract_fail(err, RACT_ERR_ARG, "metrics: %d cut-offs, need 1..%d", n_k,
                     RACT_METRICS_MAX_K);
  for (int i = 0; i < n_k; i++) {
    if (ks[i] < 1) return ract_fail(err, RACT_ERR_ARG, "metrics: cut-off K=%d, need K >= 1", ks[i]);
    m->k[i] = ks[i];
  }
  m->n_k = n_k;
  return RACT_OK;
}

void ract_metrics_init_default(ract_metrics* m) {
  const int ks[2] = {10, 100};
  ract_metrics_init(m, ks, 2, NULL);
}

ract_status ract_metrics_init_list(ract_metrics* m, const char* list, ract_error* err) {
  int ks[RACT_METRICS_MAX_K];
  int n = 0;
  const char* p = list ? list : "";
  for (;;) {
    char* end;
    long v = strtol(p, &end, 10);
    if (end == p || v < 1 || v > 1000000000 || n == RACT_METRICS_MAX_K || (*end && *end != ','))
      return ract_fail(err, RACT_ERR_ARG,
                       "metrics: bad cut-off list '%s' (e.g. 10,100; at most %d)", list ? list : "",
                       RACT_METRICS_MAX_K);
    ks[n++] = (int)v;
    if (!*end) break;
    p = end + 1;
  }
  return ract_metrics_init(m, ks, n, err);
}

int ract_metrics_max_k(const ract_metrics* m) {
  int k = 0;
  for (int i = 0; i < m->n_k; i++)
    if (m->k[i] > k) k = m->k[i];
  return k;
}

void ract_metrics_add(ract_metrics* m, const uint8_t* hits, int n_ranked, int n_rel) {
  if (n_rel <= 0) return;
  m->users++;
  for (int j = 0; j < m->n_k; j++) {
    int K = m->k[j];
    int n = n_ranked < K ? n_ranked : K;
    int h = 0, first = 0;
    double dcg = 0, idcg = 0;
    for (int r = 0; r < n; r++) {
      if (!hits[r]) continue;
      h++;
      if (!first) first = r + 1;
      dcg += 1.0 / log2((double)r + 2.0);
    }
    int ideal = n_rel < K ? n_rel : K;
    for (int r = 0; r < ideal; r++) idcg += 1.0 / log2((double)r + 2.0);
    m->recall[j] += (double)h / n_rel;
    m->recall_paper[j] += (double)h / ideal;
    m->precision[j] += (double)h / K;
    m->hit[j] += h > 0;
    m->mrr[j] += first ? 1.0 / first : 0.0;
    m->ndcg[j] += dcg / idcg;
  }
}

void ract_metrics_finish(ract_metrics* m) {
  if (m->finished) return;
  m->finished = 1;
  if (m->users == 0) return;
  double inv = 1.0 / m->users;
  for (int j = 0; j < m->n_k; j++) {
    m->recall[j] *= inv;
    m->recall_paper[j] *= inv;
    m->mrr[j] *= inv;
    m->ndcg[j] *= inv;
    m->hit[j] *= inv;
    m->precision[j] *= inv;
  }
}

namespace {

struct Column {
  const char* name;
  const double* v;
};

int columns(const ract_metrics* m, Column* c) {
  c[0] = {"recall", m->recall};
  c[1] = {"mrr", m->mrr};
  c[2] = {"ndcg", m->ndcg};
  c[3] = {"hit", m->hit};
  c[4] = {"precision", m->precision};
  c[5] = {"recall_paper", m->recall_paper};
  return 6;
}

// snprintf that keeps appending (and counting) past the end of the buffer.
__attribute__((format(printf, 4, 5))) void append(char* buf, size_t size, size_t* w,
                                                  const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(*w < size ? buf + *w : NULL, *w < size ? size - *w : 0, fmt, ap);
  va_end(ap);
  if (n > 0) *w += (size_t)n;
}

}  // namespace

double ract_metrics_get(const ract_metrics* m, const char* key) {
  const char* at = strchr(key, '@');
  if (!at) return NAN;
  int k = atoi(at + 1);
  Column c[6];
  int nc = columns(m, c);
  for (int i = 0; i < nc; i++) {
    if (strlen(c[i].name) != (size_t)(at - key) || strncmp(key, c[i].name, (size_t)(at - key)))
      continue;
    for (int j = 0; j < m->n_k; j++)
      if (m->k[j] == k) return c[i].v[j];
  }
  return NAN;
}

int ract_metrics_format(char* buf, size_t size, const ract_metrics* m) {
  Column c[6];
  int nc = columns(m, c);
  size_t w = 0;
  if (size) buf[0] = '\0';
  for (int i = 0; i < nc; i++) {
    for (int j = 0; j < m->n_k; j++) {
      bool first = (i == 0 || i == nc - 1) && j == 0;
      append(buf, size, &w, "%s%s@%d : %.4f", first ? "" : "    ", c[i].name, m->k[j], c[i].v[j]);
    }
    if (i == nc - 2) append(buf, size, &w, "\n");
  }
  return (int)w;
}

void ract_metrics_print(FILE* f, const ract_metrics* m) {
  char buf[2048];
  ract_metrics_format(buf, sizeof(buf), m);
  fprintf(f, "%s\n", buf);
}

int ract_metrics_format_json(char* buf, size_t size, const ract_metrics* m) {
  Column c[6];
  int nc = columns(m, c);
  size_t w = 0;
  if (size) buf[0] = '\0';
  append(buf, size, &w, "{\"users\": %d", m->users);
  for (int i = 0; i < nc; i++)
    for (int j = 0; j < m->n_k; j++) {
      double v = c[i].v[j];
      if (isfinite(v))
        append(buf, size, &w, ", \"%s@%d\": %.6f", c[i].name, m->k[j], v);
      else
        append(buf, size, &w, ", \"%s@%d\": null", c[i].name, m->k[j]);
    }
  append(buf, size, &w, "}");
  return (int)w;
}

void ract_metrics_write_json(FILE* f, const ract_metrics* m) {
  char buf[4096];
  ract_metrics_format_json(buf, sizeof(buf), m);
  fprintf(f, "%s\n", buf);
}
