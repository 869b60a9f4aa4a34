// Resource limits and fuzz regressions of the data side (issue 7 items 5 and 7): inputs
// that once crashed a fuzz target (inline, byte for byte), and inputs whose sizes are
// absurd. Interaction files carry no counts: every array the loaders, filters and splits
// allocate is sized from rows actually read, so an absurd file is at worst a slow one; the
// cases here pin that down.
#include <doctest/doctest.h>
#include <math.h>
#include <string.h>

#include <string>

#include "ract/data/dataset.h"
#include "ract/data/loader.h"
#include "ract/data/split.h"
#include "ract/data/vocab.h"
#include "tests/data/test_files.h"

namespace {

struct Buf {
  ract_vocab users, items;
  ract_inter x = {};
  ract_error err = {};
  ract_status status;
  Buf(const std::string& text, ract_format format, int header) {
    ract_vocab_init(&users);
    ract_vocab_init(&items);
    ract_load_options o = ract_load_options_default();
    o.format = format;
    o.header = header;
    status = ract_load_buffer(&x, &users, &items, "fuzz.csv", text.data(), text.size(), &o, &err);
  }
  ~Buf() {
    ract_inter_free(&x);
    ract_vocab_free(&users);
    ract_vocab_free(&items);
  }
};

}  // namespace

// Found by //tools/fuzz:loader (corpus file nul_in_token): "b\0\0..." was stored as the
// token "b" (tokens are NUL-terminated), so two different ids aliased one dense index and
// a vocabulary lookup of its own token failed.
TEST_CASE("fuzz regression: a NUL byte inside an id is a parse error naming the line") {
  const char raw[] = "a,x\nb\0\0\0\0\0\0\0\0\0\0\0\0\0,y\nc,x\n";
  Buf b(std::string(raw, sizeof(raw) - 1), RACT_FORMAT_CSV, 0);
  CHECK(b.status == RACT_ERR_PARSE);
  CHECK(std::string(b.err.msg).find("fuzz.csv:2") != std::string::npos);
  CHECK(std::string(b.err.msg).find("NUL byte in the user id") != std::string::npos);
  // The same in the item column.
  const char raw2[] = "u,i\n1,2\n3,4\0z\n";
  Buf c(std::string(raw2, sizeof(raw2) - 1), RACT_FORMAT_CSV, 1);
  CHECK(c.status == RACT_ERR_PARSE);
  CHECK(std::string(c.err.msg).find("fuzz.csv:3: NUL byte in the item id") != std::string::npos);
}

TEST_CASE("vocab: a token holding a NUL byte is refused, it would alias its prefix") {
  ract_vocab v;
  ract_vocab_init(&v);
  int32_t id = -1;
  ract_error err = {};
  REQUIRE(ract_vocab_add(&v, "b", 1, &id, &err) == RACT_OK);
  CHECK(ract_vocab_add(&v, "b\0c", 3, &id, &err) == RACT_ERR_ARG);
  CHECK(std::string(err.msg).find("NUL") != std::string::npos);
  CHECK(v.n == 1);
  ract_vocab_free(&v);
}

TEST_CASE("limits: 100,000 distinct 60-digit ids load; memory follows the rows read") {
  std::string text = "user,item\n";
  char line[160];
  for (int r = 0; r < 100000; r++) {
    snprintf(line, sizeof line, "%060d,9%059d\n", r, r * 7);
    text += line;
  }
  Buf b(text, RACT_FORMAT_AUTO, -1);
  REQUIRE_MESSAGE(b.status == RACT_OK, b.err.msg);
  CHECK(b.x.n == 100000);
  CHECK(b.users.n == 100000);
  CHECK(b.items.n == 100000);
  CHECK(b.x.cap <= 2 * 100000 + 4096);  // doubled growth, nothing sized from the values
  CHECK(strlen(ract_vocab_token(&b.users, 99999)) == 60);
}

TEST_CASE("limits: a line of 200,000 fields is a ragged-row error, not an overflow") {
  std::string text = "1,2\n";
  for (int i = 0; i < 200000; i++) text += i ? ",7" : "3";
  text += "\n";
  Buf b(text, RACT_FORMAT_CSV, 0);
  CHECK(b.status == RACT_ERR_PARSE);
  CHECK(std::string(b.err.msg).find("fuzz.csv:2: 200000 field(s), expected 2") !=
        std::string::npos);
}

TEST_CASE("limits: a huge id number is a token, never an index or a size") {
  // Ids are tokens: 2^31, 2^63 and 10^40 allocate nothing in proportion.
  Buf b("u,i\n2147483648,18446744073709551615\n10000000000000000000000000000000000000000,-1\n",
        RACT_FORMAT_CSV, 1);
  REQUIRE_MESSAGE(b.status == RACT_OK, b.err.msg);
  CHECK(b.users.n == 2);
  CHECK(b.items.n == 2);
  CHECK(b.x.item[1] == 1);
}

TEST_CASE("limits: a file of a single 4 MiB line without a newline is one bad row") {
  std::string text(4 << 20, 'x');
  Buf b(text, RACT_FORMAT_CSV, 0);
  CHECK(b.status != RACT_OK);
  CHECK(b.err.msg[0] != '\0');
}

TEST_CASE("limits: split ratios must sum to a finite number (inf/inf would be NaN, cast UB)") {
  ract_csr all = {};
  int32_t r[4] = {0, 0, 1, 1}, c[4] = {0, 1, 0, 1};
  ract_error err = {};
  REQUIRE(ract_csr_build(&all, 2, 2, 4, r, c, nullptr, &err) == RACT_OK);
  const double bad[][3] = {{INFINITY, 1, 1}, {1e308, 1e308, 1}, {NAN, 1, 1}, {0, 0, 0}};
  for (const auto& ratio : bad) {
    ract_csr tr = {}, va = {}, te = {};
    CHECK(ract_split_ratio(&tr, &va, &te, &all, ratio, 1, &err) == RACT_ERR_ARG);
    CHECK(std::string(err.msg).find("finite non-negative") != std::string::npos);
  }
  ract_csr_free(&all);
}

// Found by //tools/fuzz:pipeline (corpus file tab_in_csv_id_write_back): a CSV id holding a
// tab was written into train.tsv as is, and the split could not be loaded back (a row of 3
// fields under a 2-field header).
TEST_CASE("fuzz regression: a split whose ids would not read back from TSV is refused") {
  std::string text = "u,i\n";
  for (int k = 0; k < 10; k++)
    text += "a\tb,i" + std::to_string(k) + "\nc,i" + std::to_string(k) + "\n";
  std::string path = write_tmp("tab_id.csv", text);
  ract_data_options o = ract_data_options_default();
  o.data = path.c_str();
  o.load.format = RACT_FORMAT_CSV;
  ract_dataset ds;
  ract_error err = {};
  REQUIRE_MESSAGE(ract_dataset_load(&ds, &o, &err) == RACT_OK, err.msg);
  std::string dir = write_tmp("tab_split_probe", "") + "_dir";
  CHECK(ract_dataset_write_split(&ds, dir.c_str(), &err) == RACT_ERR_DATA);
  CHECK(std::string(err.msg).find("user id 'a\tb' holds a tab") != std::string::npos);
  CHECK(read_all(dir + "/train.tsv").empty());  // nothing written
  ract_dataset_free(&ds);

  // Each kind of token that the loader would read back as another one.
  const char* bad[] = {"x\ny", " lead", "trail ", "\"quoted\"", ""};
  for (const char* tok : bad) {
    CAPTURE(tok);
    ract_vocab users, items;
    ract_vocab_init(&users);
    ract_vocab_init(&items);
    int32_t id;
    REQUIRE(ract_vocab_add(&users, "u", 1, &id, &err) == RACT_OK);
    REQUIRE(ract_vocab_add(&items, tok, strlen(tok), &id, &err) == RACT_OK);
    ract_csr m = {};
    int32_t r = 0, c = 0;
    REQUIRE(ract_csr_build(&m, 1, 1, 1, &r, &c, nullptr, &err) == RACT_OK);
    std::string out = write_tmp("bad_tok.tsv", "old");
    CHECK(ract_split_write_tsv(out.c_str(), &m, nullptr, &users, &items, &err) == RACT_ERR_DATA);
    CHECK(std::string(err.msg).find("cannot be written as TSV") != std::string::npos);
    CHECK(read_all(out) == "old");
    ract_csr_free(&m);
    ract_vocab_free(&users);
    ract_vocab_free(&items);
  }
}
