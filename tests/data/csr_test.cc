#include "ract/data/csr.h"

#include <doctest/doctest.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "ract/core/rng.h"

TEST_CASE("csr: build sorts rows, merges duplicates (max value), round-trips the triples") {
  const int32_t row[] = {2, 0, 2, 0, 2, 1, 0};
  const int32_t col[] = {3, 4, 1, 0, 3, 2, 4};
  const float val[] = {1.f, 2.f, 3.f, 4.f, 5.f, 6.f, 0.5f};
  ract_csr m = {};
  ract_error err;
  REQUIRE(ract_csr_build(&m, 4, 5, 7, row, col, val, &err) == RACT_OK);
  CHECK(m.rows == 4);
  CHECK(m.cols == 5);
  CHECK(m.nnz == 5);
  const int64_t ptr[] = {0, 2, 3, 5, 5};
  const int32_t idx[] = {0, 4, 2, 1, 3};
  const float v[] = {4.f, 2.f, 6.f, 3.f, 5.f};
  for (int i = 0; i < 5; i++) CHECK(m.ptr[i] == ptr[i]);
  for (int i = 0; i < 5; i++) {
    CHECK(m.idx[i] == idx[i]);
    CHECK(m.val[i] == v[i]);
  }
  CHECK(ract_csr_has(&m, 2, 3));
  CHECK(!ract_csr_has(&m, 2, 2));
  CHECK(!ract_csr_has(&m, 3, 0));
  ract_sparse s = ract_csr_view(&m);
  CHECK(s.rows == 4);
  CHECK(s.ptr == m.ptr);
  CHECK(s.val == m.val);
  ract_sparse r = ract_sparse_rows(s, 2, 2);
  CHECK(r.ptr[0] == 3);
  CHECK(r.idx[r.ptr[0]] == 1);
  ract_csr_free(&m);
  CHECK(m.ptr == nullptr);
  ract_csr_free(&m);  // twice is fine
}

TEST_CASE("csr: random triples round-trip through a map, binary (no values)") {
  ract_rng rng;
  ract_rng_seed(&rng, 7, 0);
  std::vector<int32_t> row, col;
  std::map<std::pair<int, int>, int> want;
  for (int i = 0; i < 3000; i++) {
    int r = (int)ract_rng_below(&rng, 50), c = (int)ract_rng_below(&rng, 80);
    row.push_back(r);
    col.push_back(c);
    want[{r, c}] = 1;
  }
  ract_csr m = {};
  REQUIRE(ract_csr_build(&m, 50, 80, (int64_t)row.size(), row.data(), col.data(), nullptr,
                         nullptr) == RACT_OK);
  CHECK(m.val == nullptr);
  CHECK(m.nnz == (int64_t)want.size());
  std::map<std::pair<int, int>, int> got;
  for (int r = 0; r < m.rows; r++)
    for (int64_t i = m.ptr[r]; i < m.ptr[r + 1]; i++) {
      if (i > m.ptr[r]) CHECK(m.idx[i - 1] < m.idx[i]);
      got[{r, m.idx[i]}] = 1;
    }
  CHECK(got == want);

  // Copy, union with itself, row selection, column remap.
  ract_csr c = {}, u = {}, sel = {}, rm = {};
  REQUIRE(ract_csr_copy(&c, &m, nullptr) == RACT_OK);
  REQUIRE(ract_csr_union(&u, &m, &c, nullptr) == RACT_OK);
  CHECK(u.nnz == m.nnz);
  const int32_t rows[] = {49, 0};
  REQUIRE(ract_csr_select_rows(&sel, &m, rows, 2, nullptr) == RACT_OK);
  CHECK(sel.rows == 2);
  CHECK(ract_csr_row_nnz(&sel, 0) == ract_csr_row_nnz(&m, 49));
  CHECK(ract_csr_row_nnz(&sel, 1) == ract_csr_row_nnz(&m, 0));
  std::vector<int32_t> remap(80);
  for (int i = 0; i < 80; i++) remap[i] = i % 2 ? -1 : i / 2;  // keep even columns
  REQUIRE(ract_csr_remap_cols(&rm, &m, remap.data(), 40, nullptr) == RACT_OK);
  int64_t even = 0;
  for (auto& kv : want) even += kv.first.second % 2 == 0;
  CHECK(rm.nnz == even);
  CHECK(rm.cols == 40);
  ract_csr_free(&m);
  ract_csr_free(&c);
  ract_csr_free(&u);
  ract_csr_free(&sel);
  ract_csr_free(&rm);
}

TEST_CASE("csr: union merges rows; errors name the bad triple") {
  const int32_t r1[] = {0, 0, 1}, c1[] = {1, 3, 0};
  const int32_t r2[] = {0, 1, 1}, c2[] = {2, 0, 4};
  ract_csr a = {}, b = {}, u = {};
  REQUIRE(ract_csr_build(&a, 2, 5, 3, r1, c1, nullptr, nullptr) == RACT_OK);
  REQUIRE(ract_csr_build(&b, 2, 5, 3, r2, c2, nullptr, nullptr) == RACT_OK);
  REQUIRE(ract_csr_union(&u, &a, &b, nullptr) == RACT_OK);
  const int32_t want[] = {1, 2, 3, 0, 4};
  REQUIRE(u.nnz == 5);
  for (int i = 0; i < 5; i++) CHECK(u.idx[i] == want[i]);
  CHECK(u.ptr[1] == 3);

  ract_error err;
  ract_csr bad = {};
  const int32_t rr[] = {0, 2}, cc[] = {0, 1};
  CHECK(ract_csr_build(&bad, 2, 5, 2, rr, cc, nullptr, &err) == RACT_ERR_ARG);
  CHECK(std::string(err.msg).find("triple 1 (2, 1)") != std::string::npos);
  ract_csr e = {};
  REQUIRE(ract_csr_empty(&e, 3, 4, nullptr) == RACT_OK);
  CHECK(e.nnz == 0);
  CHECK(e.ptr[3] == 0);
  ract_csr_free(&e);
  ract_csr_free(&a);
  ract_csr_free(&b);
  ract_csr_free(&u);
}

TEST_CASE("csr: keep_rows empties the other rows in place and keeps the shape") {
  // Rows 0..3 with 2, 1, 2, 0 entries and values; keep rows 1 and 2.
  const int32_t row[] = {2, 0, 2, 0, 1};
  const int32_t col[] = {3, 4, 1, 0, 2};
  const float val[] = {1.f, 2.f, 3.f, 4.f, 5.f};
  ract_csr m = {};
  REQUIRE(ract_csr_build(&m, 4, 5, 5, row, col, val, nullptr) == RACT_OK);
  const uint8_t keep[] = {0, 1, 1, 0};
  ract_csr_keep_rows(&m, keep);
  CHECK(m.rows == 4);
  CHECK(m.cols == 5);
  CHECK(m.nnz == 3);
  const int64_t ptr[] = {0, 0, 1, 3, 3};
  for (int i = 0; i < 5; i++) CHECK(m.ptr[i] == ptr[i]);
  const int32_t idx[] = {2, 1, 3};
  const float v[] = {5.f, 3.f, 1.f};
  for (int i = 0; i < 3; i++) {
    CHECK(m.idx[i] == idx[i]);
    CHECK(m.val[i] == v[i]);
  }
  const uint8_t none[] = {0, 0, 0, 0};
  ract_csr_keep_rows(&m, none);
  CHECK(m.nnz == 0);
  CHECK(m.ptr[4] == 0);
  ract_csr_free(&m);
}
