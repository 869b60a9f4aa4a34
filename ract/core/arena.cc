// Bump allocator: see arena.h.
#include "ract/core/arena.h"

#if defined(__linux__)
#include <sys/mman.h>
#endif

#include <stdlib.h>
#include <string.h>

extern "C" {

static void arena_set(ract_arena* a, void* buffer, size_t bytes) {
  uintptr_t p = (uintptr_t)buffer;
  uintptr_t aligned = (p + (RACT_ARENA_ALIGN - 1)) & ~(uintptr_t)(RACT_ARENA_ALIGN - 1);
  size_t skip = (size_t)(aligned - p);
  a->base = (uint8_t*)aligned;
  a->size = bytes > skip ? bytes - skip : 0;
  a->used = 0;
  a->peak = 0;
  a->need = 0;
  a->owned = nullptr;
  a->status = RACT_OK;
}

ract_status ract_arena_init(ract_arena* a, void* buffer, size_t bytes) {
  if (a == nullptr) return RACT_ERR_ARG;
  if (buffer == nullptr && bytes != 0) return RACT_ERR_ARG;
  arena_set(a, buffer, bytes);
  return RACT_OK;
}

ract_status ract_arena_create(ract_arena* a, size_t bytes, ract_error* err) {
  if (a == nullptr) return ract_fail(err, RACT_ERR_ARG, "arena: null arena");
  memset(a, 0, sizeof(*a));
  bytes = ract_arena_round(bytes);
  if (bytes == 0) bytes = RACT_ARENA_ALIGN;
  void* p = nullptr;
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  // Big arenas (a trainer's weights and activations) on transparent huge pages where the
  // kernel offers them on request: the sparse first layer touches one row of an item-major
  // weight matrix per history entry, and with 4 KB pages nearly every row is a TLB miss.
  const size_t huge = (size_t)2 << 20;
  if (bytes >= 4 * huge) {
    const size_t rounded = (bytes + huge - 1) / huge * huge;
    p = aligned_alloc(huge, rounded);
    if (p != nullptr) madvise(p, rounded, MADV_HUGEPAGE);  // advice only: failure is harmless
  }
#endif
  if (p == nullptr) p = aligned_alloc(RACT_ARENA_ALIGN, bytes);
  if (p == nullptr) {
    return ract_fail(err, RACT_ERR_NOMEM, "arena: cannot allocate %zu bytes", bytes);
  }
  arena_set(a, p, bytes);
  a->owned = p;
  return RACT_OK;
}

void ract_arena_free(ract_arena* a) {
  if (a == nullptr) return;
  free(a->owned);
  memset(a, 0, sizeof(*a));
}

void* ract_arena_alloc(ract_arena* a, size_t bytes) {
  size_t n = ract_arena_round(bytes);
  if (n < bytes) n = SIZE_MAX;  // rounding overflowed
  size_t want = a->used + n;
  if (want < a->used) want = SIZE_MAX;
  if (want > a->need) a->need = want;
  if (want > a->size) {
    a->status = RACT_ERR_NOMEM;
    return nullptr;
  }
  void* p = a->base + a->used;
  a->used = want;
  if (a->used > a->peak) a->peak = a->used;
  return p;
}

float* ract_arena_floats(ract_arena* a, size_t n) {
  if (n > SIZE_MAX / sizeof(float)) {
    a->status = RACT_ERR_NOMEM;
    a->need = SIZE_MAX;
    return nullptr;
  }
  float* p = (float*)ract_arena_alloc(a, n * sizeof(float));
  if (p != nullptr) memset(p, 0, n * sizeof(float));
  return p;
}

size_t ract_arena_mark(const ract_arena* a) { return a->used; }

void ract_arena_reset(ract_arena* a, size_t mark) {
  if (mark <= a->used) a->used = mark;
}

size_t ract_arena_used(const ract_arena* a) { return a->used; }
size_t ract_arena_peak(const ract_arena* a) { return a->peak; }
size_t ract_arena_need(const ract_arena* a) { return a->need > a->peak ? a->need : a->peak; }

ract_status ract_arena_check(const ract_arena* a, const char* what, ract_error* err) {
  if (a->status == RACT_OK) return RACT_OK;
  return ract_fail(err, RACT_ERR_NOMEM, "%s: arena of %zu bytes is too small, needs %zu",
                   what ? what : "arena", a->size, ract_arena_need(a));
}

}  // extern "C"
