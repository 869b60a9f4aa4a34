// The float kernels of the sparse first layer (ract_sparse_linear_forward/backward in
// ops.h): x is a CSR batch (B rows over I items, values x.val or 1), w an I x O item-major
// weight. The columns are cut into blocks of about 64 (a block of w stays in L2) split over
// the library's threads; within a block each output element adds its terms in entry order,
// so the sums are the same for any thread count.
#ifndef RACT_MATH_SPARSE_H_
#define RACT_MATH_SPARSE_H_

#include "ract/core/tensor.h"

// out (B,O) += x @ w: out[r] += sum_{e in row r} val_e * w[idx_e].
void ract_sparse_gather(float* out, ract_sparse x, const float* w, int O);
// dw (I,O) += x^T @ dout: dw[idx_e] += val_e * dout[r], for the stored entries only.
void ract_sparse_scatter(float* dw, const float* dout, ract_sparse x, int O);

#endif  // RACT_MATH_SPARSE_H_
