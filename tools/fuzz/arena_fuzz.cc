// Fuzzes the arena with random programs of allocations, marks and resets, against a model
// of what it must do: every block 64-byte aligned, inside the buffer, right after the
// previous one, writable in full (ASan checks); failures leave the arena unchanged and
// sticky; peak and need bound what was used and asked for.
//
// Input: 2 bytes buffer size (bit 15: the arena allocates it), 1 byte misalignment of a
// caller's buffer, then ops of 2 bytes each (op, argument).
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ract/core/arena.h"
#include "tools/fuzz/fuzz_check.h"

namespace {

// Rounded size of a request, saturating as the arena does.
size_t rounded(size_t n) {
  size_t r = ract_arena_round(n);
  return r < n ? SIZE_MAX : r;
}

size_t sat_add(size_t a, size_t b) { return a + b < a ? SIZE_MAX : a + b; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3) return 0;
  const size_t bytes = (size_t)(data[0] | (data[1] & 0x3f) << 8);  // up to 16 KiB
  const bool owned = (data[1] & 0x80) != 0;
  const size_t shift = data[2] % RACT_ARENA_ALIGN;
  data += 3;
  size -= 3;

  ract_arena a;
  uint8_t* buffer = nullptr;
  if (owned) {
    FUZZ_CHECK(ract_arena_create(&a, bytes, nullptr) == RACT_OK);
    FUZZ_CHECK(a.size >= bytes);
  } else {
    // Exactly bytes + shift, so ASan flags any write past the end.
    buffer = (uint8_t*)malloc(bytes + shift);
    FUZZ_CHECK(buffer != nullptr || bytes + shift == 0);
    FUZZ_CHECK(ract_arena_init(&a, buffer ? buffer + shift : nullptr, bytes) == RACT_OK);
    if (a.size > 0) {
      FUZZ_CHECK(a.base >= buffer + shift && a.base < buffer + shift + RACT_ARENA_ALIGN);
      FUZZ_CHECK(a.base + a.size <= buffer + shift + bytes);
    }
  }
  FUZZ_CHECK(((uintptr_t)a.base & (RACT_ARENA_ALIGN - 1)) == 0);

  size_t used = 0, peak = 0, need = 0;
  bool failed = false;
  size_t marks[16];
  int nmarks = 0;
  size_t history[64];  // every mark ever taken, for stale resets
  int nhistory = 0;

  for (size_t i = 0; i + 1 < size; i += 2) {
    const uint8_t op = data[i] % 7;
    const uint8_t arg = data[i + 1];
    if (op <= 3) {
      // 0: small, 1: large, 2: floats, 3: absurd request (overflow paths).
      size_t n = op == 0 ? arg : op == 1 ? (size_t)arg * 97 : op == 2 ? arg : SIZE_MAX - arg;
      bool floats = op == 2 || (op == 3 && (arg & 1));
      size_t asked =
          floats ? (n > SIZE_MAX / sizeof(float) ? SIZE_MAX : rounded(n * 4)) : rounded(n);
      uint8_t* p = floats ? (uint8_t*)ract_arena_floats(&a, n) : (uint8_t*)ract_arena_alloc(&a, n);
      size_t want = sat_add(used, asked);
      if (want > need) need = want;
      if (want <= a.size) {
        FUZZ_CHECK(p == a.base + used);
        FUZZ_CHECK(((uintptr_t)p & (RACT_ARENA_ALIGN - 1)) == 0);
        if (floats) {
          for (size_t j = 0; j < n * sizeof(float); j++) FUZZ_CHECK(p[j] == 0);
        }
        memset(p, 0xa5, asked);  // the padding belongs to the block too
        used = want;
        if (used > peak) peak = used;
      } else {
        FUZZ_CHECK(p == nullptr);
        failed = true;
      }
    } else if (op == 4) {
      size_t m = ract_arena_mark(&a);
      FUZZ_CHECK(m == used);
      if (nmarks < 16) marks[nmarks++] = m;
      if (nhistory < 64) history[nhistory++] = m;
    } else if (op == 5) {
      if (nmarks > 0) {
        ract_arena_reset(&a, marks[--nmarks]);
        used = marks[nmarks];
      }
    } else {
      // A stale mark: taken before an earlier reset, possibly above the fill level now.
      if (nhistory > 0) {
        size_t m = history[arg % nhistory];
        ract_arena_reset(&a, m);
        if (m <= used) used = m;
        while (nmarks > 0 && marks[nmarks - 1] > used) nmarks--;
      }
    }
    FUZZ_CHECK(ract_arena_used(&a) == used);
    FUZZ_CHECK(ract_arena_peak(&a) == peak);
    FUZZ_CHECK(ract_arena_need(&a) >= peak);
    FUZZ_CHECK(ract_arena_need(&a) >= need);
    FUZZ_CHECK(used <= a.size);
    FUZZ_CHECK((a.status == RACT_OK) == !failed);
  }

  ract_error err;
  memset(&err, 0, sizeof(err));
  ract_status s = ract_arena_check(&a, "fuzz plan", &err);
  if (failed) {
    FUZZ_CHECK(s == RACT_ERR_NOMEM && err.status == RACT_ERR_NOMEM);
    FUZZ_CHECK(strstr(err.msg, "fuzz plan") != nullptr);
  } else {
    FUZZ_CHECK(s == RACT_OK);
  }
  if (owned) {
    ract_arena_free(&a);
  } else {
    free(buffer);
  }
  return 0;
}
