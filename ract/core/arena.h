// Bump allocator over one buffer: every tensor of the library lives in an arena.
//
// The caller either hands in a buffer (static array, flash-adjacent RAM, a slice of a
// bigger arena) and keeps owning it, or asks the arena to allocate one, which
// ract_arena_free then releases. Allocations are 64-byte aligned (cache line, AVX-512).
// A failed allocation returns NULL, leaves the arena unchanged, and records a sticky
// status plus the bytes the arena would have needed, so a caller can allocate a whole
// plan, check once, and report the exact size to ask for (as ggml_used_mem does).
// mark/reset releases per-step scratch in O(1). Not thread-safe: one arena per thread.
#ifndef RACT_CORE_ARENA_H_
#define RACT_CORE_ARENA_H_

#include <stddef.h>
#include <stdint.h>

#include "ract/core/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RACT_ARENA_ALIGN 64

typedef struct ract_arena {
  uint8_t* base;       // first usable byte, RACT_ARENA_ALIGN-aligned
  size_t size;         // usable bytes from base
  size_t used;         // bytes handed out, including alignment padding
  size_t peak;         // highest `used` ever reached
  size_t need;         // bytes that would have been needed (>= peak); > size after a failure
  void* owned;         // what ract_arena_free releases, or NULL for a caller's buffer
  ract_status status;  // RACT_OK, or RACT_ERR_NOMEM after any failed allocation
} ract_arena;

// Over a caller's buffer (any alignment; the head is skipped up to the alignment).
ract_status ract_arena_init(ract_arena* a, void* buffer, size_t bytes);
// Over a buffer the arena allocates itself (released by ract_arena_free).
ract_status ract_arena_create(ract_arena* a, size_t bytes, ract_error* err);
void ract_arena_free(ract_arena* a);

// `bytes` rounded up to the alignment; NULL (and a->status = RACT_ERR_NOMEM) on overflow.
void* ract_arena_alloc(ract_arena* a, size_t bytes);
// n floats, zeroed. NULL on overflow or if n*sizeof(float) overflows.
float* ract_arena_floats(ract_arena* a, size_t n);

// Scratch: remember the fill level, allocate, then go back to it.
size_t ract_arena_mark(const ract_arena* a);
void ract_arena_reset(ract_arena* a, size_t mark);

// Bytes in use now / at most so far / that a failed plan would have needed.
size_t ract_arena_used(const ract_arena* a);
size_t ract_arena_peak(const ract_arena* a);
size_t ract_arena_need(const ract_arena* a);

// The sticky status, with a message naming what was asked and what was available.
ract_status ract_arena_check(const ract_arena* a, const char* what, ract_error* err);

// Bytes one allocation of n bytes takes (n rounded up to the alignment); for *_bytes()
// queries that size an arena before creating it.
static inline size_t ract_arena_round(size_t n) {
  return (n + (RACT_ARENA_ALIGN - 1)) & ~(size_t)(RACT_ARENA_ALIGN - 1);
}

#ifdef __cplusplus
}  // extern "C"
#endif

#endif  // RACT_CORE_ARENA_H_
