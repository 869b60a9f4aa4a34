// The library's thread count for its own parallel passes (element-wise ops, per-user rows,
// top-K, Adam). BLIS has its own setting; ract_gemm_set_threads (ract/math/gemm.h) sets both.
// Default 1: nothing runs on more threads than the caller asked for.
//
// Every parallel pass splits its work into static, thread-count-independent pieces (rows,
// column blocks) or reduces in a fixed order, so the same inputs and thread count give the
// same bits; most passes give the same bits for any thread count.
#ifndef RACT_CORE_PARALLEL_H_
#define RACT_CORE_PARALLEL_H_

#include <stddef.h>

// Upper bound of per-thread scratch slots a module reserves (threads beyond it are unused
// by passes that need per-thread scratch).
#define RACT_MAX_THREADS 8

void ract_parallel_set_threads(int threads);  // clamped to >= 1
int ract_parallel_threads(void);

// Threads a pass of `work` elements uses: ract_parallel_threads(), or 1 below the grain (waking the
// threads costs more than a small pass). Default grain 32768; tests set 1 to run every pass
// on every thread.
void ract_parallel_set_grain(size_t work);
int ract_parallel_threads_for(size_t work);

#endif  // RACT_CORE_PARALLEL_H_
