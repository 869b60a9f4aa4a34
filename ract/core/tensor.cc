// Tensor views: allocation from an arena, zero, copy.
#include "ract/core/tensor.h"

#include <string.h>

ract_tensor ract_tensor_alloc(ract_arena* a, int rows, int cols) {
  ract_tensor t = {nullptr, rows, cols, cols};
  if (rows < 0 || cols < 0) {
    a->status = RACT_ERR_NOMEM;
    return t;
  }
  t.data = ract_arena_floats(a, (size_t)rows * (size_t)cols);
  return t;
}

void ract_tensor_zero(ract_tensor t) {
  if (t.stride == t.cols) {
    memset(t.data, 0, sizeof(float) * (size_t)t.rows * (size_t)t.cols);
    return;
  }
  for (int r = 0; r < t.rows; r++) memset(ract_tensor_row(t, r), 0, sizeof(float) * t.cols);
}

void ract_tensor_copy(ract_tensor dst, ract_tensor src) {
  for (int r = 0; r < src.rows; r++) {
    memcpy(ract_tensor_row(dst, r), ract_tensor_row(src, r), sizeof(float) * src.cols);
  }
}
