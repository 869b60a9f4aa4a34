#include "ract/data/filter.h"

#include <doctest/doctest.h>
#include <math.h>

#include <string>
#include <vector>

namespace {

// An ract_inter over the given rows (owned by the vectors).
struct Rows {
  std::vector<int32_t> u, i;
  std::vector<float> r;
  ract_inter x = {};
  Rows(std::vector<int32_t> uu, std::vector<int32_t> ii, std::vector<float> rr = {})
      : u(uu), i(ii), r(rr) {
    x.n = (int64_t)u.size();
    x.cap = x.n;
    x.user = u.data();
    x.item = i.data();
    x.rating = r.empty() ? nullptr : r.data();
  }
};

}  // namespace

TEST_CASE("filter: intervals in RecBole's notation") {
  ract_interval iv;
  REQUIRE(ract_interval_parse("[5,inf)", &iv, nullptr) == RACT_OK);
  CHECK(!ract_interval_contains(iv, 4));
  CHECK(ract_interval_contains(iv, 5));
  CHECK(ract_interval_contains(iv, 1e9));
  CHECK(!ract_interval_is_all(iv));
  REQUIRE(ract_interval_parse("(0,3]", &iv, nullptr) == RACT_OK);
  CHECK(!ract_interval_contains(iv, 0));
  CHECK(ract_interval_contains(iv, 3));
  CHECK(!ract_interval_contains(iv, 4));
  REQUIRE(ract_interval_parse("10", &iv, nullptr) == RACT_OK);
  CHECK(ract_interval_contains(iv, 10));
  CHECK(!ract_interval_contains(iv, 9));
  REQUIRE(ract_interval_parse("[0, inf)", &iv, nullptr) == RACT_OK);
  CHECK(ract_interval_is_all(iv));
  CHECK(ract_interval_is_all(ract_interval_all()));
  ract_error err;
  CHECK(ract_interval_parse("[5,inf", &iv, &err) == RACT_ERR_ARG);
  CHECK(ract_interval_parse("[a,3]", &iv, &err) == RACT_ERR_ARG);
  CHECK(ract_interval_parse("[5,3]", &iv, &err) == RACT_ERR_ARG);
  CHECK(ract_interval_parse("", &iv, &err) == RACT_ERR_ARG);
}

TEST_CASE("filter: threshold keeps rating >= t") {
  Rows a({0, 0, 1, 1}, {0, 1, 0, 2}, {3.5f, 4.0f, 5.0f, 1.0f});
  REQUIRE(ract_filter_threshold(&a.x, 4.0f, nullptr) == RACT_OK);
  REQUIRE(a.x.n == 2);
  CHECK(a.x.item[0] == 1);
  CHECK(a.x.user[1] == 1);
  CHECK(a.x.rating[1] == 5.0f);
  Rows b({0}, {0});
  ract_error err;
  CHECK(ract_filter_threshold(&b.x, 4.0f, &err) == RACT_ERR_DATA);
}

TEST_CASE("filter: k-core iterates to a fixed point") {
  // Users 0,1,2 have 3 items each among items 0..2; user 3 has items 0 and 3; item 3 only
  // user 3. With users >= 3 and items >= 2: pass 1 drops user 3 (2 rows) and item 3;
  // then item 0 has 3 users (fine). Fixed point: users 0-2, items 0-2.
  Rows a({0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3}, {0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 3});
  ract_interval u3, i2;
  ract_interval_parse("[3,inf)", &u3, nullptr);
  ract_interval_parse("[2,inf)", &i2, nullptr);
  int rounds = 0;
  REQUIRE(ract_filter_kcore(&a.x, 4, 4, u3, i2, &rounds, nullptr) == RACT_OK);
  CHECK(a.x.n == 9);
  CHECK(rounds == 2);
  for (int64_t k = 0; k < a.x.n; k++) CHECK(a.x.user[k] < 3);

  // A cascade: dropping a user makes an item too rare, which makes another user too rare.
  // user 0: items 0,1; user 1: items 1,2; user 2: item 2 only. users >= 2, items >= 2.
  // Pass 1: user 2 (1 row) and item 0 (1 user) go. Pass 2: user 0 has 1 item left, goes;
  // item 2 has 1 user left, goes. Pass 3: user 1 has item 1 only, goes. Everything gone.
  Rows b({0, 0, 1, 1, 2}, {0, 1, 1, 2, 2});
  ract_interval two;
  ract_interval_parse("[2,inf)", &two, nullptr);
  REQUIRE(ract_filter_kcore(&b.x, 3, 3, two, two, &rounds, nullptr) == RACT_OK);
  CHECK(b.x.n == 0);
  CHECK(rounds == 4);

  // Upper bounds: items with more than 2 users are dropped.
  Rows c({0, 1, 2, 0, 1}, {0, 0, 0, 1, 1});
  ract_interval le2;
  ract_interval_parse("[0,2]", &le2, nullptr);
  REQUIRE(ract_filter_kcore(&c.x, 3, 2, ract_interval_all(), le2, &rounds, nullptr) == RACT_OK);
  CHECK(c.x.n == 2);
  CHECK(c.x.item[0] == 1);

  // No interval: nothing happens, no pass.
  Rows d({0, 1}, {0, 0});
  REQUIRE(ract_filter_kcore(&d.x, 2, 1, ract_interval_all(), ract_interval_all(), &rounds,
                            nullptr) == RACT_OK);
  CHECK(d.x.n == 2);
  CHECK(rounds == 0);
}
