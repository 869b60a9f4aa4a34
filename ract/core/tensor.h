// A non-owning 2-D float view: row-major, `stride` floats between row starts
// (stride >= cols). Tensors are values; the memory belongs to an arena or the caller.
#ifndef RACT_CORE_TENSOR_H_
#define RACT_CORE_TENSOR_H_

#include <stddef.h>
#include <stdint.h>

#include "ract/core/arena.h"

typedef struct ract_tensor {
  float* data;
  int rows;
  int cols;
  int stride;
} ract_tensor;

// A non-owning view of rows of a sparse matrix in CSR form: row r holds the column
// indices idx[ptr[r] .. ptr[r+1]) and, when val is not NULL, their values (else 1).
// ptr[0] need not be 0: a view of rows [r0, r0+n) of a bigger matrix is ptr + r0 with
// the same idx/val. Used for the model's input batch and sparse targets.
typedef struct ract_sparse {
  int rows;
  int cols;
  const int64_t* ptr;  // rows + 1 entries
  const int32_t* idx;
  const float* val;  // NULL: every stored value is 1
} ract_sparse;

static inline ract_sparse ract_sparse_rows(ract_sparse s, int r0, int n) {
  ract_sparse v = {n, s.cols, s.ptr + r0, s.idx, s.val};
  return v;
}

// A dense view: stride == cols.
static inline ract_tensor ract_tensor_make(float* data, int rows, int cols) {
  ract_tensor t = {data, rows, cols, cols};
  return t;
}

static inline float* ract_tensor_row(ract_tensor t, int r) {
  return t.data + (size_t)r * (size_t)t.stride;
}

static inline float ract_tensor_at(ract_tensor t, int r, int c) {
  return t.data[(size_t)r * (size_t)t.stride + c];
}

// Rows [r0, r0 + n) of t, sharing its memory.
static inline ract_tensor ract_tensor_rows(ract_tensor t, int r0, int n) {
  ract_tensor s = {t.data + (size_t)r0 * (size_t)t.stride, n, t.cols, t.stride};
  return s;
}

// A zeroed dense rows x cols tensor from the arena; data == NULL on overflow (the arena
// records the status).
ract_tensor ract_tensor_alloc(ract_arena* a, int rows, int cols);

// Sets every element of the view to zero / copies src into dst (same shape).
void ract_tensor_zero(ract_tensor t);
void ract_tensor_copy(ract_tensor dst, ract_tensor src);

#endif  // RACT_CORE_TENSOR_H_
