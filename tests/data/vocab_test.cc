#include "ract/data/vocab.h"

#include <doctest/doctest.h>
#include <stdio.h>
#include <string.h>

#include <string>

TEST_CASE("vocab: first-insertion order, lookups, growth past many table sizes") {
  ract_vocab v;
  ract_vocab_init(&v);
  CHECK(ract_vocab_find(&v, "a", 1) == -1);
  for (int i = 0; i < 100000; i++) {
    char tok[32];
    int n = snprintf(tok, sizeof(tok), "u%d", i * 7);
    int32_t id = -5;
    REQUIRE(ract_vocab_add(&v, tok, (size_t)n, &id, nullptr) == RACT_OK);
    REQUIRE(id == i);
  }
  CHECK(v.n == 100000);
  int32_t id;
  REQUIRE(ract_vocab_add(&v, "u7", 2, &id, nullptr) == RACT_OK);
  CHECK(id == 1);
  CHECK(v.n == 100000);
  CHECK(ract_vocab_find(&v, "u699993", 7) == 99999);
  CHECK(ract_vocab_find(&v, "u6", 2) == -1);
  CHECK(ract_vocab_find(&v, "u", 1) == -1);
  CHECK(ract_vocab_find(&v, "u70", 2) == 1);  // length-limited: "u7"
  CHECK(std::string(ract_vocab_token(&v, 3)) == "u21");

  // Tokens are bytes: prefixes and empty strings are distinct tokens.
  ract_vocab w;
  ract_vocab_init(&w);
  REQUIRE(ract_vocab_add(&w, "ab", 2, &id, nullptr) == RACT_OK);
  REQUIRE(ract_vocab_add(&w, "a", 1, &id, nullptr) == RACT_OK);
  CHECK(id == 1);
  REQUIRE(ract_vocab_add(&w, "", 0, &id, nullptr) == RACT_OK);
  CHECK(id == 2);

  const int32_t order[] = {3, 0};
  ract_vocab s;
  REQUIRE(ract_vocab_subset(&s, &v, order, 2, nullptr) == RACT_OK);
  CHECK(s.n == 2);
  CHECK(std::string(ract_vocab_token(&s, 0)) == "u21");
  CHECK(ract_vocab_find(&s, "u0", 2) == 1);
  const int32_t bad[] = {100000};
  ract_error err;
  ract_vocab s2;
  CHECK(ract_vocab_subset(&s2, &v, bad, 1, &err) == RACT_ERR_ARG);
  ract_vocab_free(&s);
  ract_vocab_free(&w);
  ract_vocab_free(&v);
}
