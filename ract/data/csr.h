// An owned sparse matrix in CSR form: the user-item matrices of a dataset (train rows,
// evaluation inputs, masks, held-out truth). Rows hold sorted, distinct column indices and
// optionally one float value each. The arrays are malloc'ed by ract_csr_build and released
// by ract_csr_free; ract_csr_view hands the model a non-owning ract_sparse of it.
#ifndef RACT_DATA_CSR_H_
#define RACT_DATA_CSR_H_

#include <stdint.h>

#include "ract/core/status.h"
#include "ract/core/tensor.h"

typedef struct ract_csr {
  int rows;
  int cols;
  int64_t nnz;
  int64_t* ptr;  // rows + 1 entries, ptr[0] == 0
  int32_t* idx;  // nnz column indices, strictly increasing within a row
  float* val;    // nnz values, or NULL (every value is 1)
} ract_csr;

// Builds `out` (rows x cols) from n triples (row[i], col[i], val[i]); `val` may be NULL.
// Duplicate (row, col) pairs are merged into one entry whose value is the largest of
// theirs. Fails (RACT_ERR_ARG, naming the triple) if an index is out of range. `out` is
// overwritten, not freed: pass a zeroed or freed struct.
ract_status ract_csr_build(ract_csr* out, int rows, int cols, int64_t n, const int32_t* row,
                           const int32_t* col, const float* val, ract_error* err);

// An empty rows x cols matrix (ptr all zero).
ract_status ract_csr_empty(ract_csr* out, int rows, int cols, ract_error* err);

// Copies src into out (deep).
ract_status ract_csr_copy(ract_csr* out, const ract_csr* src, ract_error* err);

// Union of two matrices of the same shape, row by row (values dropped: out->val == NULL).
ract_status ract_csr_union(ract_csr* out, const ract_csr* a, const ract_csr* b, ract_error* err);

// out = rows rows[0..n) of src, in that order (values kept).
ract_status ract_csr_select_rows(ract_csr* out, const ract_csr* src, const int32_t* rows, int n,
                                 ract_error* err);

// Empties, in place, every row r whose keep[r] is 0 (the shape and the other rows stay), and
// gives the freed entries back (the arrays shrink to the new nnz).
void ract_csr_keep_rows(ract_csr* m, const uint8_t* keep);

// out = src with column c renamed to remap[c] (remap[c] < 0 drops the column); remap must
// be increasing over the kept columns, so rows stay sorted. out has new_cols columns.
ract_status ract_csr_remap_cols(ract_csr* out, const ract_csr* src, const int32_t* remap,
                                int new_cols, ract_error* err);

// Number of entries in row r.
static inline int ract_csr_row_nnz(const ract_csr* m, int r) {
  return (int)(m->ptr[r + 1] - m->ptr[r]);
}

// 1 if (r, c) is stored (binary search in the row), else 0.
int ract_csr_has(const ract_csr* m, int r, int32_t c);

// Fingerprint of the matrix's shape and entries (FNV-1a over rows, cols, ptr, idx).
uint64_t ract_csr_hash(const ract_csr* m);

// A non-owning view of the whole matrix.
ract_sparse ract_csr_view(const ract_csr* m);

// Releases the arrays and zeroes the struct; safe on a zeroed struct.
void ract_csr_free(ract_csr* m);

#endif  // RACT_DATA_CSR_H_
