#include "ract/math/topk.h"

#include <doctest/doctest.h>
#include <math.h>

#include <algorithm>
#include <numeric>
#include <vector>

#include "ract/core/rng.h"
#include "ract/math/topk_row.h"

TEST_CASE("topk: equals a full stable sort on random rows with many ties") {
  ract_rng r;
  ract_rng_seed(&r, 21, 0);
  for (int trial = 0; trial < 200; trial++) {
    int n = 1 + (int)ract_rng_below(&r, 300);
    int k = 1 + (int)ract_rng_below(&r, 120);
    std::vector<float> s(n);
    for (float& x : s) x = (float)ract_rng_below(&r, 20);  // ties everywhere
    if (trial % 3 == 0) s[ract_rng_below(&r, n)] = -INFINITY;
    std::vector<int> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return s[a] > s[b]; });
    std::vector<int> idx(k);
    std::vector<float> val(k);
    int got = ract_topk_row(s.data(), n, k, idx.data(), val.data());
    REQUIRE(got == std::min(k, n));
    for (int i = 0; i < got; i++) {
      CHECK(idx[i] == order[i]);
      CHECK(val[i] == s[order[i]]);
    }
  }
}

TEST_CASE("topk: ties by lower index, NaN last, -inf before NaN, k = 0") {
  const float s[] = {1.0f, NAN, 3.0f, 3.0f, -INFINITY, 1.0f};
  int idx[6];
  float val[6];
  REQUIRE(ract_topk_row(s, 6, 6, idx, val) == 6);
  const int want[] = {2, 3, 0, 5, 4, 1};
  for (int i = 0; i < 6; i++) CHECK(idx[i] == want[i]);
  CHECK(ract_topk_row(s, 6, 0, idx, val) == 0);
  ract_topk t;  // k = 0 with no buffers at all: pushes are no-ops
  ract_topk_init(&t, 0, nullptr, nullptr);
  ract_topk_push(&t, 3, 1.0f);
  CHECK(ract_topk_finish(&t) == 0);
}

TEST_CASE("topk: streaming pushes give the same result as a row") {
  ract_rng r;
  ract_rng_seed(&r, 22, 0);
  std::vector<float> s(1000);
  for (float& x : s) x = ract_rng_uniform(&r);
  int idx[10], idx2[10];
  float val[10], val2[10];
  ract_topk t;
  ract_topk_init(&t, 10, idx, val);
  for (int i = 999; i >= 0; i--) ract_topk_push(&t, i, s[i]);  // any order
  CHECK(ract_topk_finish(&t) == 10);
  ract_topk_row(s.data(), 1000, 10, idx2, val2);
  for (int i = 0; i < 10; i++) CHECK(idx[i] == idx2[i]);
  for (int i = 1; i < 10; i++) CHECK(val[i - 1] >= val[i]);
}

// Rows long enough for the threshold path (n >= 4 * round16(k)), against a stable sort.
static void check_row(const std::vector<float>& s, int k) {
  const int n = (int)s.size();
  std::vector<int> order(n);
  std::iota(order.begin(), order.end(), 0);
  // NaN last (in index order), else higher first, ties by lower index.
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
    if (s[a] != s[a]) return false;
    if (s[b] != s[b]) return true;
    return s[a] > s[b];
  });
  std::vector<int> idx(k);
  std::vector<float> val(k);
  int got = ract_topk_row(s.data(), n, k, idx.data(), val.data());
  REQUIRE(got == std::min(k, n));
  for (int i = 0; i < got; i++) {
    if (s[order[i]] != s[order[i]]) {  // NaN among the k: any NaN may fill the slot
      CHECK(val[i] != val[i]);
      continue;
    }
    CHECK(idx[i] == order[i]);
    CHECK(val[i] == s[order[i]]);
  }
}

TEST_CASE("topk: long rows (threshold path) equal a stable sort: ties, masks, sorted, NaN") {
  ract_rng r;
  ract_rng_seed(&r, 23, 0);
  for (int trial = 0; trial < 80; trial++) {
    const int n = 400 + (int)ract_rng_below(&r, 5000);
    const int k = 1 + (int)ract_rng_below(&r, 120);
    std::vector<float> s(n);
    const int kind = trial % 8;
    for (int i = 0; i < n; i++) {
      switch (kind) {
        case 0:  // continuous
          s[i] = ract_rng_uniform(&r);
          break;
        case 1:  // many ties
          s[i] = (float)ract_rng_below(&r, 7);
          break;
        case 2:  // increasing: every entry beats the current K-th
          s[i] = (float)i;
          break;
        case 3:  // decreasing
          s[i] = (float)(n - i);
          break;
        case 4:  // all equal
          s[i] = 1.5f;
          break;
        case 6:  // a range of a few subnormals: the bucket scale would overflow
          s[i] = (float)ract_rng_below(&r, 3) * 1e-45f;
          break;
        case 5: {  // signed zeros tie with each other; negatives
          const float z[] = {-0.0f, 0.0f, -1.0f, -2.5f, 0.0f, -0.0f, -3.0f, -1e-30f};
          s[i] = z[ract_rng_below(&r, 8)];
          break;
        }
        default:  // logits with masked items
          s[i] = ract_rng_uniform(&r) < 0.3f ? -INFINITY : (float)ract_rng_normal(&r);
      }
    }
    if (trial % 4 == 1) s[ract_rng_below(&r, n)] = NAN;
    if (trial % 8 == 3) s[0] = NAN;  // a NaN lane start: falls back to the heap
    check_row(s, k);
  }
  // Nearly all masked: fewer finite scores than k.
  std::vector<float> s(2000, -INFINITY);
  s[1500] = 2.0f;
  s[10] = 1.0f;
  check_row(s, 100);
}
