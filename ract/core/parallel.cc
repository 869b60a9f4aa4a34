// The library-wide thread count (parallel.h).
#include "ract/core/parallel.h"

#include <atomic>

static std::atomic<int> g_threads{1};

void ract_set_threads(int threads) { g_threads.store(threads < 1 ? 1 : threads); }

int ract_threads(void) { return g_threads.load(std::memory_order_relaxed); }
