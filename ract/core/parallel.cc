// The library-wide thread count (parallel.h).
#include "ract/core/parallel.h"

#include <atomic>

static std::atomic<int> g_threads{1};

void ract_parallel_set_threads(int threads) { g_threads.store(threads < 1 ? 1 : threads); }

int ract_parallel_threads(void) { return g_threads.load(std::memory_order_relaxed); }

static std::atomic<size_t> g_grain{32768};

void ract_parallel_set_grain(size_t work) { g_grain.store(work); }

int ract_parallel_threads_for(size_t work) {
  return work >= g_grain.load(std::memory_order_relaxed) ? ract_parallel_threads() : 1;
}
