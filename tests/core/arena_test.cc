#include "ract/core/arena.h"

#include <doctest/doctest.h>
#include <stdint.h>
#include <string.h>

#include <initializer_list>

#include "ract/core/tensor.h"

TEST_CASE("arena: allocations are 64-byte aligned, even over a misaligned buffer") {
  alignas(64) static uint8_t buf[4096 + 64];
  ract_arena a;
  REQUIRE(ract_arena_init(&a, buf + 3, 4096) == RACT_OK);
  for (size_t n : {1u, 7u, 64u, 65u, 100u}) {
    void* p = ract_arena_alloc(&a, n);
    REQUIRE(p != nullptr);
    CHECK((uintptr_t)p % RACT_ARENA_ALIGN == 0);
  }
  // 1 -> 64, 7 -> 64, 64 -> 64, 65 -> 128, 100 -> 128
  CHECK(ract_arena_used(&a) == 64 * 3 + 128 * 2);
  CHECK(a.base >= buf + 3);
  CHECK(a.size == 4096 - (size_t)(a.base - (buf + 3)));
}

TEST_CASE("arena: mark/reset reuses scratch and keeps the peak") {
  ract_arena a;
  REQUIRE(ract_arena_create(&a, 1024, nullptr) == RACT_OK);
  float* keep = ract_arena_floats(&a, 16);
  REQUIRE(keep != nullptr);
  size_t m = ract_arena_mark(&a);
  void* s1 = ract_arena_alloc(&a, 512);
  REQUIRE(s1 != nullptr);
  size_t peak = ract_arena_peak(&a);
  ract_arena_reset(&a, m);
  CHECK(ract_arena_used(&a) == m);
  void* s2 = ract_arena_alloc(&a, 256);
  CHECK(s2 == s1);  // the same memory again
  CHECK(ract_arena_peak(&a) == peak);
  CHECK(peak == 64 + 512);
  // reset to a mark above the fill level is ignored
  ract_arena_reset(&a, 1000);
  CHECK(ract_arena_used(&a) == m + 256);
  ract_arena_free(&a);
  CHECK(a.base == nullptr);
}

TEST_CASE("arena: overflow returns NULL, records the need, leaves the arena usable") {
  ract_arena a;
  REQUIRE(ract_arena_create(&a, 256, nullptr) == RACT_OK);
  CHECK(ract_arena_alloc(&a, 128) != nullptr);
  CHECK(ract_arena_alloc(&a, 200) == nullptr);
  CHECK(a.status == RACT_ERR_NOMEM);
  CHECK(ract_arena_need(&a) == 128 + 256);
  CHECK(ract_arena_used(&a) == 128);           // unchanged by the failure
  CHECK(ract_arena_alloc(&a, 64) != nullptr);  // what fits still works
  ract_error err;
  CHECK(ract_arena_check(&a, "model", &err) == RACT_ERR_NOMEM);
  CHECK(strstr(err.msg, "model") != nullptr);
  CHECK(strstr(err.msg, "384") != nullptr);  // says how much it needs
  // sizes that overflow size_t fail instead of wrapping around
  CHECK(ract_arena_alloc(&a, SIZE_MAX - 10) == nullptr);
  CHECK(ract_arena_floats(&a, SIZE_MAX / 2) == nullptr);
  ract_arena_free(&a);
}

TEST_CASE("arena: floats are zeroed; a zero-size arena fails every allocation") {
  ract_arena a;
  REQUIRE(ract_arena_create(&a, 256, nullptr) == RACT_OK);
  float* f = ract_arena_floats(&a, 10);
  REQUIRE(f != nullptr);
  for (int i = 0; i < 10; i++) CHECK(f[i] == 0.0f);
  ract_arena_free(&a);
  ract_arena z;
  REQUIRE(ract_arena_init(&z, nullptr, 0) == RACT_OK);
  CHECK(ract_arena_alloc(&z, 1) == nullptr);
  CHECK(ract_arena_init(&z, nullptr, 10) == RACT_ERR_ARG);
}

TEST_CASE("tensor: views, rows, copy and zero respect the stride") {
  ract_arena a;
  REQUIRE(ract_arena_create(&a, 4096, nullptr) == RACT_OK);
  ract_tensor t = ract_tensor_alloc(&a, 3, 4);
  REQUIRE(t.data != nullptr);
  for (int r = 0; r < 3; r++)
    for (int c = 0; c < 4; c++) ract_tensor_row(t, r)[c] = (float)(10 * r + c);
  ract_tensor rows = ract_tensor_rows(t, 1, 2);
  ract_tensor sub = {rows.data + 1, 2, 2, rows.stride};  // columns 1..2 of rows 1..2
  CHECK(sub.rows == 2);
  CHECK(sub.cols == 2);
  CHECK(sub.stride == 4);
  CHECK(ract_tensor_at(sub, 0, 0) == 11.0f);
  CHECK(ract_tensor_at(sub, 1, 1) == 22.0f);
  ract_tensor d = ract_tensor_alloc(&a, 2, 2);
  ract_tensor_copy(d, sub);
  CHECK(ract_tensor_at(d, 1, 0) == 21.0f);
  ract_tensor_zero(sub);
  CHECK(ract_tensor_at(t, 1, 1) == 0.0f);
  CHECK(ract_tensor_at(t, 1, 0) == 10.0f);  // outside the view: untouched
  CHECK(ract_tensor_at(t, 2, 3) == 23.0f);
  ract_tensor bad = ract_tensor_alloc(&a, 1 << 20, 1 << 20);
  CHECK(bad.data == nullptr);
  CHECK(a.status == RACT_ERR_NOMEM);
  ract_arena_free(&a);
}
