// No heap in the scorer: this binary replaces operator new/delete and (outside ASan, which
// owns malloc itself) malloc/calloc/realloc/free/aligned_alloc with counting versions, then
// loads a model and scores with counting switched on. A first check proves the counters
// are live, so the test can fail.
#include <doctest/doctest.h>
#include <stdlib.h>
#include <string.h>

#include <atomic>
#include <new>
#include <string>
#include <vector>

#include "ract/ract.h"
#include "tests/deploy/fixture.h"

namespace {
std::atomic<bool> g_counting{false};
std::atomic<long> g_allocs{0};
inline void count() {
  if (g_counting.load(std::memory_order_relaxed)) g_allocs.fetch_add(1);
}
}  // namespace

void* operator new(size_t n) {
  count();
  void* p = malloc(n == 0 ? 1 : n);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
void* operator new[](size_t n) { return operator new(n); }
void* operator new(size_t n, const std::nothrow_t&) noexcept {
  count();
  return malloc(n == 0 ? 1 : n);
}
void* operator new[](size_t n, const std::nothrow_t&) noexcept {
  return operator new(n, std::nothrow);
}
void operator delete(void* p) noexcept { free(p); }
void operator delete[](void* p) noexcept { free(p); }
void operator delete(void* p, size_t) noexcept { free(p); }
void operator delete[](void* p, size_t) noexcept { free(p); }

#if !defined(__SANITIZE_ADDRESS__)
#define RACT_COUNT_MALLOC 1
extern "C" {
void* __libc_malloc(size_t);
void* __libc_calloc(size_t, size_t);
void* __libc_realloc(void*, size_t);
void* __libc_memalign(size_t, size_t);
void __libc_free(void*);

void* malloc(size_t n) {
  count();
  return __libc_malloc(n);
}
void* calloc(size_t n, size_t m) {
  count();
  return __libc_calloc(n, m);
}
void* realloc(void* p, size_t n) {
  count();
  return __libc_realloc(p, n);
}
void* aligned_alloc(size_t a, size_t n) {
  count();
  return __libc_memalign(a, n);
}
int posix_memalign(void** out, size_t a, size_t n) {
  count();
  *out = __libc_memalign(a, n);
  return *out ? 0 : 12;  // ENOMEM
}
void free(void* p) { __libc_free(p); }
}
#endif

TEST_CASE("alloc: the counters see allocations") {
  // Through volatile pointers, so the compiler cannot elide the pairs.
  void* (*volatile do_malloc)(size_t) = malloc;
  void* (*volatile do_new)(size_t) = operator new;
  g_allocs = 0;
  g_counting = true;
  void* p = do_new(16);
  long after_new = g_allocs;
  void* q = do_malloc(10);
  long after_malloc = g_allocs;
  g_counting = false;
  operator delete(p);
  free(q);
  CHECK(after_new >= 1);
#ifdef RACT_COUNT_MALLOC
  CHECK(after_malloc == after_new + 1);
#else
  (void)after_malloc;
  MESSAGE("ASan build: malloc is ASan's; counting operator new only");
#endif
}

TEST_CASE("alloc: load, init and every scoring call allocate nothing") {
  for (ract_file_dtype dt : {RACT_FILE_F32, RACT_FILE_F16, RACT_FILE_I8}) {
    fixture::Model m = fixture::make_model(300, {24, 12}, 6, 0.5f, RACT_FILE_INFERENCE, 21);
    fixture::Blob b = fixture::write(m, RACT_FILE_INFERENCE, dt);
    std::vector<uint8_t> arena(1 << 16);
    const char* toks[] = {"1", "4", "nope", "898"};
    int32_t hist[] = {0, 1, 77, 299, 5000, -3};
    int32_t ask[] = {3, 2, 1};
    int32_t items[20];
    float scores[300];
    int n = 0, unknown = 0;
    ract_error err;
    long ok = 0;

    g_allocs = 0;
    g_counting = true;
    ract_model model;
    ok += ract_model_load(&model, b.data(), b.size, &err) == RACT_OK;
    ract_scorer s;
    ok += ract_scorer_init(&s, &model, arena.data(), arena.size(), &err) == RACT_OK;
    for (int rep = 0; rep < 3; rep++) {
      ok += ract_scorer_set_history(&s, hist, 6, &unknown, &err) == RACT_OK;
      ok += ract_scorer_full_sort_predict(&s, scores, &err) == RACT_OK;
      ok += ract_scorer_predict(&s, ask, 3, scores, &err) == RACT_OK;
      ok += ract_scorer_topk(&s, 20, 1, items, scores, &n, &err) == RACT_OK;
      ok += ract_scorer_set_history_tokens(&s, toks, 4, &unknown, &err) == RACT_OK;
      ok += ract_scorer_topk(&s, 10, 0, items, scores, &n, &err) == RACT_OK;
      ok += ract_model_item_index(&model, "898") == 299;
      // Error paths format a message into err; that allocates nothing either.
      ok += ract_scorer_init(&s, &model, arena.data(), 10, &err) == RACT_ERR_NOMEM;
      ok += ract_scorer_init(&s, &model, arena.data(), arena.size(), &err) == RACT_OK;
      ok += ract_model_load(&model, b.data(), b.size - 1, &err) == RACT_ERR_FILE_TRUNCATED;
      ok += ract_model_load(&model, b.data(), b.size, &err) == RACT_OK;
    }
    g_counting = false;

    CAPTURE(ract_file_dtype_name(dt));
    CHECK(ok == 2 + 3 * 11);
    CHECK(g_allocs == 0);
  }
}
