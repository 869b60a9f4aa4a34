#include "ract/data/split.h"

#include <doctest/doctest.h>
#include <stdlib.h>
#include <string.h>

#include <set>
#include <string>
#include <vector>

#include "ract/core/rng.h"
#include "tests/data/test_files.h"

namespace {

// users x items, user u has 1 + (u * 7) % 40 items.
ract_csr make_all(int users, int items) {
  std::vector<int32_t> r, c;
  for (int u = 0; u < users; u++) {
    int n = 1 + (u * 7) % 40;
    for (int k = 0; k < n; k++) r.push_back(u), c.push_back((u * 13 + k * 3) % items);
  }
  ract_csr m = {};
  ract_csr_build(&m, users, items, (int64_t)r.size(), r.data(), c.data(), nullptr, nullptr);
  return m;
}

bool same(const ract_csr& a, const ract_csr& b) {
  if (a.rows != b.rows || a.nnz != b.nnz) return false;
  for (int r = 0; r <= a.rows; r++)
    if (a.ptr[r] != b.ptr[r]) return false;
  for (int64_t i = 0; i < a.nnz; i++)
    if (a.idx[i] != b.idx[i]) return false;
  return true;
}

}  // namespace

TEST_CASE("split: RecBole's per-user part sizes") {
  const double r[3] = {0.8, 0.1, 0.1};
  int c[3];
  struct Case {
    int n, tr, va, te;
  } cases[] = {{0, 0, 0, 0},   {1, 1, 0, 0},   {2, 1, 0, 1},   {3, 1, 1, 1},
               {5, 3, 1, 1},   {9, 7, 1, 1},   {10, 8, 1, 1},  {19, 17, 1, 1},
               {20, 16, 2, 2}, {25, 21, 2, 2}, {30, 24, 3, 3}, {737, 591, 73, 73}};
  for (const Case& k : cases) {
    ract_split_ratio_counts(k.n, r, c);
    CAPTURE(k.n);
    CHECK(c[0] == k.tr);
    CHECK(c[1] == k.va);
    CHECK(c[2] == k.te);
  }
  const double unnorm[3] = {8, 1, 1};  // ratios are normalised
  ract_split_ratio_counts(30, unnorm, c);
  CHECK(c[1] == 3);
}

TEST_CASE("split: RS proportions, disjoint parts, determinism from the seed") {
  ract_csr all = make_all(200, 100);
  const double r[3] = {0.8, 0.1, 0.1};
  ract_csr tr = {}, va = {}, te = {}, tr2 = {}, va2 = {}, te2 = {}, tr3 = {}, va3 = {}, te3 = {};
  REQUIRE(ract_split_ratio(&tr, &va, &te, &all, r, 2020, nullptr) == RACT_OK);
  for (int u = 0; u < all.rows; u++) {
    int n = ract_csr_row_nnz(&all, u), c[3];
    ract_split_ratio_counts(n, r, c);
    CHECK(ract_csr_row_nnz(&tr, u) == c[0]);
    CHECK(ract_csr_row_nnz(&va, u) == c[1]);
    CHECK(ract_csr_row_nnz(&te, u) == c[2]);
    std::set<int> s;
    for (const ract_csr* m : {&tr, &va, &te})
      for (int64_t i = m->ptr[u]; i < m->ptr[u + 1]; i++) s.insert(m->idx[i]);
    CHECK((int)s.size() == n);  // disjoint and complete
    for (int64_t i = all.ptr[u]; i < all.ptr[u + 1]; i++) CHECK(s.count(all.idx[i]) == 1);
  }
  REQUIRE(ract_split_ratio(&tr2, &va2, &te2, &all, r, 2020, nullptr) == RACT_OK);
  CHECK(same(tr, tr2));
  CHECK(same(va, va2));
  CHECK(same(te, te2));
  REQUIRE(ract_split_ratio(&tr3, &va3, &te3, &all, r, 7, nullptr) == RACT_OK);
  CHECK(!same(va, va3));
  CHECK(va.nnz == va3.nnz);
  for (ract_csr* m : {&all, &tr, &va, &te, &tr2, &va2, &te2, &tr3, &va3, &te3}) ract_csr_free(m);
}

TEST_CASE("split: held-out users and fold-in/hidden") {
  int32_t *tr = nullptr, *va = nullptr, *te = nullptr, *tr2 = nullptr, *va2 = nullptr,
          *te2 = nullptr;
  int ntr = 0, ntr2 = 0;
  REQUIRE(ract_split_pick_users(&tr, &ntr, &va, &te, 100, 10, 10, 1, nullptr) == RACT_OK);
  CHECK(ntr == 80);
  std::set<int> s;
  for (int i = 0; i < ntr; i++) s.insert(tr[i]);
  for (int i = 0; i < 10; i++) s.insert(va[i]), s.insert(te[i]);
  CHECK(s.size() == 100);
  for (int i = 1; i < ntr; i++) CHECK(tr[i - 1] < tr[i]);
  REQUIRE(ract_split_pick_users(&tr2, &ntr2, &va2, &te2, 100, 10, 10, 2, nullptr) == RACT_OK);
  bool differ = false;
  for (int i = 0; i < 10; i++) differ |= va[i] != va2[i];
  CHECK(differ);
  ract_error err;
  int32_t *a, *b, *c;
  int n;
  CHECK(ract_split_pick_users(&a, &n, &b, &c, 10, 5, 5, 1, &err) == RACT_ERR_ARG);
  free(tr), free(va), free(te), free(tr2), free(va2), free(te2);

  ract_csr all = make_all(50, 100);
  ract_csr in = {}, hid = {}, in2 = {}, hid2 = {};
  REQUIRE(ract_split_holdout(&in, &hid, &all, 0.2, 5, 1, nullptr) == RACT_OK);
  for (int u = 0; u < all.rows; u++) {
    int n_all = ract_csr_row_nnz(&all, u);
    CHECK(ract_csr_row_nnz(&hid, u) == (int)(0.2 * n_all));
    CHECK(ract_csr_row_nnz(&in, u) + ract_csr_row_nnz(&hid, u) == n_all);
    for (int64_t i = hid.ptr[u]; i < hid.ptr[u + 1]; i++) {
      CHECK(!ract_csr_has(&in, u, hid.idx[i]));
      CHECK(ract_csr_has(&all, u, hid.idx[i]));
    }
  }
  REQUIRE(ract_split_holdout(&in2, &hid2, &all, 0.2, 5, 2, nullptr) == RACT_OK);
  CHECK(!same(hid, hid2));  // another stream, another draw
  CHECK(ract_split_holdout(&in2, &hid2, &all, 1.0, 5, 2, &err) == RACT_ERR_ARG);
  for (ract_csr* m : {&all, &in, &hid, &in2, &hid2}) ract_csr_free(m);
}

TEST_CASE("split: writing a TSV is atomic and uses raw tokens") {
  ract_vocab users, items;
  ract_vocab_init(&users);
  ract_vocab_init(&items);
  int32_t id;
  for (const char* t : {"alice", "bob"}) ract_vocab_add(&users, t, strlen(t), &id, nullptr);
  for (const char* t : {"x", "y", "z"}) ract_vocab_add(&items, t, strlen(t), &id, nullptr);
  const int32_t r[] = {0, 1, 1}, c[] = {2, 0, 1};
  ract_csr m = {};
  REQUIRE(ract_csr_build(&m, 2, 3, 3, r, c, nullptr, nullptr) == RACT_OK);
  std::string path = write_tmp("split_out.tsv", "old contents\n");
  REQUIRE(ract_split_write_tsv(path.c_str(), &m, nullptr, &users, &items, nullptr) == RACT_OK);
  CHECK(read_all(path) == "user_id\titem_id\nalice\tz\nbob\tx\nbob\ty\n");
  const int32_t row_users[] = {1, 0};
  REQUIRE(ract_split_write_tsv(path.c_str(), &m, row_users, &users, &items, nullptr) == RACT_OK);
  CHECK(read_all(path) == "user_id\titem_id\nbob\tz\nalice\tx\nalice\ty\n");
  ract_error err;
  CHECK(ract_split_write_tsv("/nonexistent/dir/x.tsv", &m, nullptr, &users, &items, &err) ==
        RACT_ERR_IO);
  CHECK(std::string(err.msg).find("/nonexistent/dir/x.tsv") != std::string::npos);
  ract_csr_free(&m);
  ract_vocab_free(&users);
  ract_vocab_free(&items);
}
