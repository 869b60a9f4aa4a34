// CSR construction: a counting sort on rows, then a sort of each row's columns and an
// in-place merge of duplicates.
#include "ract/data/csr.h"

#include <stdlib.h>
#include <string.h>

#include <algorithm>

static ract_status alloc_arrays(ract_csr* out, int rows, int cols, int64_t nnz, int with_val,
                                ract_error* err) {
  memset(out, 0, sizeof(*out));
  out->rows = rows;
  out->cols = cols;
  out->nnz = nnz;
  out->ptr = (int64_t*)calloc((size_t)rows + 1, sizeof(int64_t));
  out->idx = (int32_t*)malloc((size_t)(nnz > 0 ? nnz : 1) * sizeof(int32_t));
  if (with_val) out->val = (float*)malloc((size_t)(nnz > 0 ? nnz : 1) * sizeof(float));
  if (!out->ptr || !out->idx || (with_val && !out->val)) {
    ract_csr_free(out);
    return ract_fail(err, RACT_ERR_NOMEM, "csr: cannot allocate %d rows, %lld entries", rows,
                     (long long)nnz);
  }
  return RACT_OK;
}

ract_status ract_csr_empty(ract_csr* out, int rows, int cols, ract_error* err) {
  if (rows < 0 || cols < 0) return ract_fail(err, RACT_ERR_ARG, "csr: negative shape");
  return alloc_arrays(out, rows, cols, 0, 0, err);
}

ract_status ract_csr_build(ract_csr* out, int rows, int cols, int64_t n, const int32_t* row,
                           const int32_t* col, const float* val, ract_error* err) {
  if (rows < 0 || cols < 0 || n < 0 || (n > 0 && (!row || !col)))
    return ract_fail(err, RACT_ERR_ARG, "csr: invalid arguments");
  for (int64_t i = 0; i < n; i++) {
    if (row[i] < 0 || row[i] >= rows || col[i] < 0 || col[i] >= cols)
      return ract_fail(err, RACT_ERR_ARG, "csr: triple %lld (%d, %d) outside the %d x %d matrix",
                       (long long)i, row[i], col[i], rows, cols);
  }
  RACT_CHECK(alloc_arrays(out, rows, cols, n, val != NULL, err));
  // Counting sort by row.
  for (int64_t i = 0; i < n; i++) out->ptr[row[i] + 1]++;
  int64_t longest = 0;
  for (int r = 0; r < rows; r++) {
    longest = std::max(longest, out->ptr[r + 1]);
    out->ptr[r + 1] += out->ptr[r];
  }
  int64_t* fill = (int64_t*)malloc(((size_t)rows + 1) * sizeof(int64_t));
  // Rows with values sort (col, value) pairs packed in 64 bits; the value rides along.
  uint64_t* pairs = val ? (uint64_t*)malloc((size_t)(longest > 0 ? longest : 1) * 8) : NULL;
  if (!fill || (val && !pairs)) {
    free(fill);
    free(pairs);
    ract_csr_free(out);
    return ract_fail(err, RACT_ERR_NOMEM, "csr: cannot allocate %d rows", rows);
  }
  memcpy(fill, out->ptr, ((size_t)rows + 1) * sizeof(int64_t));
  for (int64_t i = 0; i < n; i++) {
    int64_t at = fill[row[i]]++;
    out->idx[at] = col[i];
    if (val) out->val[at] = val[i];
  }
  free(fill);
  int64_t w = 0;
  for (int r = 0; r < rows; r++) {
    int64_t b = out->ptr[r], e = out->ptr[r + 1];
    out->ptr[r] = w;
    if (val) {
      for (int64_t i = b; i < e; i++) {
        uint32_t bits;
        memcpy(&bits, &out->val[i], 4);
        pairs[i - b] = ((uint64_t)(uint32_t)out->idx[i] << 32) | bits;
      }
      std::sort(pairs, pairs + (e - b),
                [](uint64_t x, uint64_t y) { return (x >> 32) < (y >> 32); });
      for (int64_t i = 0; i < e - b; i++) {
        int32_t c = (int32_t)(pairs[i] >> 32);
        uint32_t bits = (uint32_t)pairs[i];
        float v;
        memcpy(&v, &bits, 4);
        if (w > out->ptr[r] && out->idx[w - 1] == c) {
          if (v > out->val[w - 1]) out->val[w - 1] = v;
        } else {
          out->idx[w] = c;
          out->val[w] = v;
          w++;
        }
      }
    } else {
      if (!std::is_sorted(out->idx + b, out->idx + e)) std::sort(out->idx + b, out->idx + e);
      for (int64_t i = b; i < e; i++) {
        if (w > out->ptr[r] && out->idx[w - 1] == out->idx[i]) continue;
        out->idx[w++] = out->idx[i];
      }
    }
  }
  out->ptr[rows] = w;
  out->nnz = w;
  free(pairs);
  return RACT_OK;
}

ract_status ract_csr_copy(ract_csr* out, const ract_csr* src, ract_error* err) {
  RACT_CHECK(alloc_arrays(out, src->rows, src->cols, src->nnz, src->val != NULL, err));
  memcpy(out->ptr, src->ptr, ((size_t)src->rows + 1) * sizeof(int64_t));
  if (src->nnz > 0) {
    memcpy(out->idx, src->idx, (size_t)src->nnz * sizeof(int32_t));
    if (src->val) memcpy(out->val, src->val, (size_t)src->nnz * sizeof(float));
  }
  return RACT_OK;
}

ract_status ract_csr_union(ract_csr* out, const ract_csr* a, const ract_csr* b, ract_error* err) {
  if (a->rows != b->rows || a->cols != b->cols)
    return ract_fail(err, RACT_ERR_SHAPE, "csr union: %dx%d and %dx%d", a->rows, a->cols, b->rows,
                     b->cols);
  RACT_CHECK(alloc_arrays(out, a->rows, a->cols, a->nnz + b->nnz, 0, err));
  int64_t w = 0;
  for (int r = 0; r < a->rows; r++) {
    out->ptr[r] = w;
    int64_t i = a->ptr[r], ie = a->ptr[r + 1], j = b->ptr[r], je = b->ptr[r + 1];
    while (i < ie || j < je) {
      int32_t c;
      if (j >= je || (i < ie && a->idx[i] < b->idx[j])) {
        c = a->idx[i++];
      } else if (i >= ie || b->idx[j] < a->idx[i]) {
        c = b->idx[j++];
      } else {
        c = a->idx[i++];
        j++;
      }
      out->idx[w++] = c;
    }
  }
  out->ptr[a->rows] = w;
  out->nnz = w;
  return RACT_OK;
}

ract_status ract_csr_select_rows(ract_csr* out, const ract_csr* src, const int32_t* rows, int n,
                                 ract_error* err) {
  int64_t nnz = 0;
  for (int i = 0; i < n; i++) {
    if (rows[i] < 0 || rows[i] >= src->rows)
      return ract_fail(err, RACT_ERR_ARG, "csr select: row %d outside 0..%d", rows[i],
                       src->rows - 1);
    nnz += ract_csr_row_nnz(src, rows[i]);
  }
  RACT_CHECK(alloc_arrays(out, n, src->cols, nnz, src->val != NULL, err));
  int64_t w = 0;
  for (int i = 0; i < n; i++) {
    int64_t b = src->ptr[rows[i]], e = src->ptr[rows[i] + 1];
    out->ptr[i] = w;
    if (e > b) {
      memcpy(out->idx + w, src->idx + b, (size_t)(e - b) * sizeof(int32_t));
      if (src->val) memcpy(out->val + w, src->val + b, (size_t)(e - b) * sizeof(float));
    }
    w += e - b;
  }
  out->ptr[n] = w;
  return RACT_OK;
}

uint64_t ract_csr_hash(const ract_csr* m) {
  uint64_t h = 1469598103934665603ull;
  const auto mix = [&h](const void* p, size_t n) {
    const uint8_t* b = (const uint8_t*)p;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 1099511628211ull;
  };
  mix(&m->rows, sizeof(m->rows));
  mix(&m->cols, sizeof(m->cols));
  mix(m->ptr, sizeof(int64_t) * (m->rows + 1));
  mix(m->idx, sizeof(int32_t) * m->nnz);
  return h;
}

void ract_csr_keep_rows(ract_csr* m, const uint8_t* keep) {
  int64_t w = 0;
  for (int r = 0; r < m->rows; r++) {
    const int64_t b = m->ptr[r], e = m->ptr[r + 1];
    m->ptr[r] = w;
    if (!keep[r] || e == b) continue;
    memmove(m->idx + w, m->idx + b, (size_t)(e - b) * sizeof(int32_t));
    if (m->val) memmove(m->val + w, m->val + b, (size_t)(e - b) * sizeof(float));
    w += e - b;
  }
  m->ptr[m->rows] = w;
  m->nnz = w;
  // A failed shrink keeps the larger block: still correct.
  const size_t n = (size_t)(w > 0 ? w : 1);
  int32_t* idx = (int32_t*)realloc(m->idx, n * sizeof(int32_t));
  if (idx != NULL) m->idx = idx;
  if (m->val) {
    float* val = (float*)realloc(m->val, n * sizeof(float));
    if (val != NULL) m->val = val;
  }
}

ract_status ract_csr_remap_cols(ract_csr* out, const ract_csr* src, const int32_t* remap,
                                int new_cols, ract_error* err) {
  RACT_CHECK(alloc_arrays(out, src->rows, new_cols, src->nnz, src->val != NULL, err));
  int64_t w = 0;
  for (int r = 0; r < src->rows; r++) {
    out->ptr[r] = w;
    for (int64_t i = src->ptr[r]; i < src->ptr[r + 1]; i++) {
      int32_t c = remap[src->idx[i]];
      if (c < 0) continue;
      if (c >= new_cols) {
        ract_csr_free(out);
        return ract_fail(err, RACT_ERR_ARG, "csr remap: column %d -> %d outside 0..%d", src->idx[i],
                         c, new_cols - 1);
      }
      out->idx[w] = c;
      if (src->val) out->val[w] = src->val[i];
      w++;
    }
  }
  out->ptr[src->rows] = w;
  out->nnz = w;
  return RACT_OK;
}

int ract_csr_has(const ract_csr* m, int r, int32_t c) {
  const int32_t* b = m->idx + m->ptr[r];
  const int32_t* e = m->idx + m->ptr[r + 1];
  const int32_t* p = std::lower_bound(b, e, c);
  return p != e && *p == c;
}

ract_sparse ract_csr_view(const ract_csr* m) {
  ract_sparse s = {m->rows, m->cols, m->ptr, m->idx, m->val};
  return s;
}

void ract_csr_free(ract_csr* m) {
  if (!m) return;
  free(m->ptr);
  free(m->idx);
  free(m->val);
  memset(m, 0, sizeof(*m));
}
