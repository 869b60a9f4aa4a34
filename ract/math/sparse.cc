// The sparse layer's float kernels (see sparse.h): column blocks of the item-major weight,
// a row's vectors kept in registers across its entries.
#include "ract/math/sparse.h"

#include <omp.h>

#include "ract/core/parallel.h"
#include "ract/math/simd.h"
#include "ract/math/vec.h"

using namespace ract_simd;

namespace {

inline float sparse_val(ract_sparse x, int64_t e) { return x.val ? x.val[e] : 1.0f; }

// f(c0, width) over the column blocks of the sparse linear, split over the threads: widths a
// multiple of 16 floats, about 64 wide (a block of the item-major weight then stays in L2),
// as many blocks as a multiple of the thread count.
template <typename F>
void for_col_blocks(ract_sparse x, int O, F f) {
  const int nt = ract_parallel_threads_for((size_t)(x.ptr[x.rows] - x.ptr[0]) * O);
  int n = (O + 63) / 64;
  if (nt > 1) n = (n + nt - 1) / nt * nt;
  const int w = ((O + n - 1) / n + 15) / 16 * 16;
  const int nb = (O + w - 1) / w;
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
  for (int k = 0; k < nb; k++) f(k * w, k * w + w <= O ? w : O - k * w);
}

// The weight rows of the sparse layer are random rows of an items x O matrix: the next
// rows are fetched kAhead entries early (the hardware cannot guess them), 20% faster here.
constexpr int kAhead = 32;
RACT_INLINE void prefetch_row(const float* p, int nv, int write) {
  for (int v = 0; v < nv; v++) {
    if (write) {
      __builtin_prefetch(p + 16 * v, 1);
    } else {
      __builtin_prefetch(p + 16 * v, 0);
    }
  }
}

// out[r, c0..c0+w) += sum_{e in row r} val_e * w[idx_e, c0..c0+w), every row of x, each
// element adding its terms in entry order. NV 16-float vectors of a row stay in registers
// across the row's entries (w = 16 NV), one load and one FMA per vector and entry.
template <int NV>
RACT_INLINE void gather_rows(float* out, ract_sparse x, const float* w, int O, int c0) {
  const int64_t last = x.ptr[x.rows] - kAhead;
  for (int r = 0; r < x.rows; r++) {
    float* o = out + (size_t)r * O + c0;
    vf16 acc[NV];
    for (int v = 0; v < NV; v++) acc[v] = load16(o + 16 * v);
    for (int64_t e = x.ptr[r]; e < x.ptr[r + 1]; e++) {
      if (e < last) prefetch_row(w + (size_t)x.idx[e + kAhead] * O + c0, NV, 0);
      const float* wr = w + (size_t)x.idx[e] * O + c0;
      const float a = sparse_val(x, e);
      for (int v = 0; v < NV; v++) acc[v] += a * load16(wr + 16 * v);
    }
    for (int v = 0; v < NV; v++) store16(o + 16 * v, acc[v]);
  }
}

RACT_CLONES
void gather_block(float* out, ract_sparse x, const float* w, int O, int c0, int width) {
  int done = 0;
  for (; width - done >= 64; done += 64) gather_rows<4>(out, x, w, O, c0 + done);
  for (; width - done >= 16; done += 16) gather_rows<1>(out, x, w, O, c0 + done);
  if (done == width) return;
  for (int r = 0; r < x.rows; r++) {
    float* o = out + (size_t)r * O + c0 + done;
    for (int64_t e = x.ptr[r]; e < x.ptr[r + 1]; e++) {
      ract_vec_axpy(o, w + (size_t)x.idx[e] * O + c0 + done, sparse_val(x, e), width - done);
    }
  }
}

// dw[idx_e, c0..c0+w) += val_e * dout[r, c0..c0+w) for every entry, in entry order; the
// row's NV vectors of dout stay in registers.
template <int NV>
RACT_INLINE void scatter_rows(float* dw, const float* dout, ract_sparse x, int O, int c0) {
  const int64_t last = x.ptr[x.rows] - kAhead;
  for (int r = 0; r < x.rows; r++) {
    const float* d = dout + (size_t)r * O + c0;
    vf16 dv[NV];
    for (int v = 0; v < NV; v++) dv[v] = load16(d + 16 * v);
    for (int64_t e = x.ptr[r]; e < x.ptr[r + 1]; e++) {
      if (e < last) prefetch_row(dw + (size_t)x.idx[e + kAhead] * O + c0, NV, 1);
      float* g = dw + (size_t)x.idx[e] * O + c0;
      const float a = sparse_val(x, e);
      for (int v = 0; v < NV; v++) store16(g + 16 * v, load16(g + 16 * v) + a * dv[v]);
    }
  }
}

RACT_CLONES
void scatter_block(float* dw, const float* dout, ract_sparse x, int O, int c0, int width) {
  int done = 0;
  for (; width - done >= 64; done += 64) scatter_rows<4>(dw, dout, x, O, c0 + done);
  for (; width - done >= 16; done += 16) scatter_rows<1>(dw, dout, x, O, c0 + done);
  if (done == width) return;
  for (int r = 0; r < x.rows; r++) {
    const float* d = dout + (size_t)r * O + c0 + done;
    for (int64_t e = x.ptr[r]; e < x.ptr[r + 1]; e++) {
      ract_vec_axpy(dw + (size_t)x.idx[e] * O + c0 + done, d, sparse_val(x, e), width - done);
    }
  }
}

}  // namespace

void ract_sparse_gather(float* out, ract_sparse x, const float* w, int O) {
  for_col_blocks(x, O, [&](int c0, int width) { gather_block(out, x, w, O, c0, width); });
}

void ract_sparse_scatter(float* dw, const float* dout, ract_sparse x, int O) {
  for_col_blocks(x, O, [&](int c0, int width) { scatter_block(dw, dout, x, O, c0, width); });
}
