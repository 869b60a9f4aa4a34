#include "ract/data/loader.h"

#include <doctest/doctest.h>

#include <string>

#include "ract/core/rng.h"
#include "tests/data/test_files.h"

namespace {

struct Loaded {
  ract_vocab users, items;
  ract_inter x = {};
  ract_error err = {};
  ract_status status;
  Loaded(const char* name, const std::string& text, ract_load_options opt) {
    ract_vocab_init(&users);
    ract_vocab_init(&items);
    std::string path = write_tmp(name, text);
    status = ract_load_file(&x, &users, &items, path.c_str(), &opt, &err);
  }
  Loaded(const char* name, const std::string& text)
      : Loaded(name, text, ract_load_options_default()) {}
  ~Loaded() {
    ract_inter_free(&x);
    ract_vocab_free(&users);
    ract_vocab_free(&items);
  }
  std::string user(int64_t i) const { return ract_vocab_token(&users, x.user[i]); }
  std::string item(int64_t i) const { return ract_vocab_token(&items, x.item[i]); }
  bool msg_has(const char* s) const { return std::string(err.msg).find(s) != std::string::npos; }
};

}  // namespace

TEST_CASE("loader: RecBole .inter with a typed header") {
  Loaded l("a.inter",
           "user_id:token\titem_id:token\trating:float\ttimestamp:float\n"
           "196\t242\t3\t881250949\n186\t302\t3.5\t891717742\n196\t377\t1\t878887116\n");
  REQUIRE(l.status == RACT_OK);
  CHECK(l.x.format == RACT_FORMAT_INTER);
  REQUIRE(l.x.n == 3);
  CHECK(l.user(0) == "196");
  CHECK(l.item(1) == "302");
  CHECK(l.x.user[2] == 0);  // 196 again: first-appearance ids
  CHECK(l.x.item[2] == 2);
  REQUIRE(l.x.rating != nullptr);
  CHECK(l.x.rating[1] == 3.5f);
  CHECK(l.users.n == 2);
}

TEST_CASE("loader: .inter without rating, columns in another order") {
  Loaded l("b.inter", "item_id:token\tuser_id:token\nA\tx\nB\ty\n");
  REQUIRE(l.status == RACT_OK);
  CHECK(l.x.rating == nullptr);
  CHECK(l.user(0) == "x");
  CHECK(l.item(1) == "B");
}

TEST_CASE("loader: MovieLens u.data (tab, no header) and ratings.dat (::)") {
  Loaded u("u.data", "196\t242\t3\t881250949\n186\t302\t4\t891717742\n");
  REQUIRE(u.status == RACT_OK);
  CHECK(u.x.format == RACT_FORMAT_TSV);
  REQUIRE(u.x.n == 2);
  CHECK(u.user(1) == "186");
  CHECK(u.x.rating[1] == 4.0f);
  ract_load_options o = ract_load_options_default();
  o.format = RACT_FORMAT_UDATA;
  Loaded u2("u2.data", "1\t2\t5\t0\n", o);
  REQUIRE(u2.status == RACT_OK);
  CHECK(u2.x.rating[0] == 5.0f);

  Loaded d("ratings.dat", "1::1193::5::978300760\r\n1::661::3::978302109\r\n");
  REQUIRE(d.status == RACT_OK);
  CHECK(d.x.format == RACT_FORMAT_DAT);
  REQUIRE(d.x.n == 2);
  CHECK(d.item(0) == "1193");
  CHECK(d.x.rating[1] == 3.0f);
}

TEST_CASE("loader: CSV with header (auto), columns by name and by position") {
  const std::string csv =
      "userId,movieId,rating,timestamp\n1,31,2.5,1260759144\n1,1029,3.0,1\n"
      "2,31,4.5,2\n";
  Loaded a("r.csv", csv);
  REQUIRE(a.status == RACT_OK);
  CHECK(a.x.format == RACT_FORMAT_CSV);
  REQUIRE(a.x.n == 3);
  CHECK(a.item(1) == "1029");
  CHECK(a.x.rating[2] == 4.5f);

  ract_load_options o = ract_load_options_default();
  o.user_col = "movieId";  // swap roles by name
  o.item_col = "userId";
  Loaded b("r2.csv", csv, o);
  REQUIRE(b.status == RACT_OK);
  CHECK(b.user(1) == "1029");
  CHECK(b.users.n == 2);

  o = ract_load_options_default();
  o.user_col = "1";
  o.item_col = "0";
  o.rating_col = "none";
  Loaded c("r3.csv", csv, o);
  REQUIRE(c.status == RACT_OK);
  CHECK(c.x.rating == nullptr);
  CHECK(c.user(0) == "31");
}

TEST_CASE("loader: a UTF-8 byte-order mark before the header is skipped") {
  Loaded a("bom.csv", "\xEF\xBB\xBFuserId,movieId,rating\n1,2,4\n");
  REQUIRE(a.status == RACT_OK);
  CHECK(a.user(0) == "1");
  CHECK(a.x.rating[0] == 4.0f);
}

TEST_CASE("loader: TSV without header; pre-split user_id/item_id files; blank lines") {
  Loaded a("x.tsv", "u1\ti1\nu2\ti2\n\nu1\ti3\n");
  REQUIRE(a.status == RACT_OK);
  REQUIRE(a.x.n == 3);
  CHECK(a.x.rating == nullptr);  // two columns: no rating
  CHECK(a.user(2) == "u1");
  Loaded b("train.tsv", "user_id\titem_id\n7\t616\n7\t182\n");
  REQUIRE(b.status == RACT_OK);
  REQUIRE(b.x.n == 2);
  CHECK(b.user(0) == "7");
  CHECK(b.item(1) == "182");
  // A header with unknown names: the non-numeric rating field marks it as a header.
  Loaded c("h.tsv", "a\tb\tc\n1\t2\t3\n");
  REQUIRE(c.status == RACT_OK);
  CHECK(c.x.n == 1);
  ract_load_options o = ract_load_options_default();
  o.header = 0;
  Loaded d("nh.csv", "user,item\n", o);  // forced: the line is data
  REQUIRE(d.status == RACT_OK);
  CHECK(d.user(0) == "user");
}

TEST_CASE("loader: bad input gives an error naming the file and line") {
  SUBCASE("empty file") {
    Loaded l("empty.tsv", "");
    CHECK(l.status == RACT_ERR_DATA);
    CHECK(l.msg_has("empty.tsv: empty file"));
    Loaded b("blank.tsv", "\n  \n");
    CHECK(b.status == RACT_ERR_DATA);
  }
  SUBCASE("header only") {
    Loaded l("hdr.inter", "user_id:token\titem_id:token\n");
    CHECK(l.status == RACT_ERR_DATA);
    CHECK(l.msg_has("hdr.inter: no interactions"));
  }
  SUBCASE("ragged row") {
    Loaded l("rag.tsv", "1\t2\t3\n4\t5\t6\n7\t8\n");
    CHECK(l.status == RACT_ERR_PARSE);
    CHECK(l.msg_has("rag.tsv:3: 2 field(s), expected 3"));
    CHECK(l.x.n == 0);
    CHECK(l.x.user == nullptr);
  }
  SUBCASE("non-numeric rating") {
    Loaded l("nn.csv", "userId,movieId,rating\n1,2,4.0\n1,3,good\n");
    CHECK(l.status == RACT_ERR_PARSE);
    CHECK(l.msg_has("nn.csv:3: rating 'good' is not a number"));
    Loaded m("nn2.inter", "user_id:token\titem_id:token\trating:float\n1\t2\t4e\n");
    CHECK(m.status == RACT_ERR_PARSE);
    CHECK(m.msg_has("nn2.inter:2:"));
  }
  SUBCASE("missing column by name / position / default") {
    ract_load_options o = ract_load_options_default();
    o.user_col = "customer";
    Loaded l("mc.csv", "userId,movieId\n1,2\n", o);
    CHECK(l.status == RACT_ERR_PARSE);
    CHECK(l.msg_has("mc.csv:1: no user column 'customer'"));
    CHECK(l.msg_has("userId, movieId"));
    o = ract_load_options_default();
    o.item_col = "5";
    Loaded p("mp.tsv", "1\t2\n", o);
    CHECK(p.status == RACT_ERR_PARSE);
    CHECK(p.msg_has("item column 5"));
    Loaded q("mq.inter", "user_id:token\trating:float\n1\t2\n");
    CHECK(q.status == RACT_ERR_PARSE);
    CHECK(q.msg_has("mq.inter:1: no item column"));
  }
  SUBCASE("empty id") {
    Loaded l("eid.csv", "1,2\n,3\n");
    CHECK(l.status == RACT_ERR_PARSE);
    CHECK(l.msg_has("eid.csv:2: empty user id"));
  }
  SUBCASE("no separator, unknown format name, missing file") {
    Loaded l("one.txt", "12345\n");
    CHECK(l.status == RACT_ERR_PARSE);
    CHECK(l.msg_has("one.txt:1: cannot detect the format"));
    ract_format f;
    ract_error err;
    CHECK(ract_format_parse("xml", &f, &err) == RACT_ERR_ARG);
    CHECK(ract_format_parse("dat", &f, &err) == RACT_OK);
    CHECK(f == RACT_FORMAT_DAT);
    ract_vocab u, i;
    ract_vocab_init(&u);
    ract_vocab_init(&i);
    ract_inter x;
    CHECK(ract_load_file(&x, &u, &i, "/nonexistent/file.tsv", nullptr, &err) == RACT_ERR_IO);
    CHECK(std::string(err.msg).find("/nonexistent/file.tsv: cannot open") != std::string::npos);
  }
}

TEST_CASE("loader: random delimited garbage never crashes, errors are statuses") {
  const char alphabet[] = "0123456789\t\t,,::\n\n\r .\"ae-+";
  ract_rng rng;
  ract_rng_seed(&rng, 99, 0);
  int ok = 0, bad = 0;
  for (int trial = 0; trial < 3000; trial++) {
    size_t n = ract_rng_below(&rng, 80);
    std::string s;
    for (size_t i = 0; i < n; i++) s += alphabet[ract_rng_below(&rng, sizeof(alphabet) - 1)];
    ract_vocab u, it;
    ract_vocab_init(&u);
    ract_vocab_init(&it);
    ract_inter x;
    ract_error err = {};
    ract_load_options o = ract_load_options_default();
    o.format = (ract_format)(trial % 6);
    ract_status st = ract_load_buffer(&x, &u, &it, "fuzz", s.data(), s.size(), &o, &err);
    if (st == RACT_OK) {
      ok++;
      CHECK(x.n > 0);
      for (int64_t i = 0; i < x.n; i++) {
        CHECK(x.user[i] < u.n);
        CHECK(x.item[i] < it.n);
      }
    } else {
      bad++;
      CHECK((st == RACT_ERR_PARSE || st == RACT_ERR_DATA || st == RACT_ERR_ARG));
      CHECK(std::string(err.msg).rfind("fuzz", 0) == 0);
      CHECK(x.user == nullptr);
    }
    ract_inter_free(&x);
    ract_vocab_free(&u);
    ract_vocab_free(&it);
  }
  CHECK(ok > 0);
  CHECK(bad > 0);
}
