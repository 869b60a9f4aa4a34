#include "ract/data/dataset.h"

#include <doctest/doctest.h>
#include <stdlib.h>
#include <string.h>

#include <set>
#include <string>

#include "tests/data/test_files.h"
#include "tests/data_dir.h"

namespace {

int32_t uid(const ract_dataset& ds, const char* tok) {
  return ract_vocab_find(&ds.users, tok, strlen(tok));
}
int32_t iid(const ract_dataset& ds, const char* tok) {
  return ract_vocab_find(&ds.items, tok, strlen(tok));
}

// Row of user u in an eval set, or -1.
int row_of(const ract_eval_set& s, int32_t u) {
  for (int r = 0; r < s.rows; r++)
    if (s.users[r] == u) return r;
  return -1;
}

}  // namespace

TEST_CASE("dataset: pre-split files; valid/test-only items widen the model, cold users") {
  std::string tr = write_tmp("ps_train.tsv", "user_id\titem_id\nA\t1\nA\t2\nB\t2\nB\t3\n");
  std::string va = write_tmp("ps_valid.tsv", "user_id\titem_id\nA\t3\nB\t9\n");
  std::string te = write_tmp("ps_test.tsv", "user_id\titem_id\nA\t4\nC\t1\nB\t2\n");
  ract_data_options o = ract_data_options_default();
  o.train = tr.c_str();
  o.valid = va.c_str();
  o.test = te.c_str();
  ract_dataset ds;
  ract_error err;
  REQUIRE(ract_dataset_load(&ds, &o, &err) == RACT_OK);
  CHECK(ds.split == RACT_SPLIT_FILES);
  CHECK(ds.n_users == 3);
  CHECK(ds.n_items == 5);    // 1 2 3 from train, 9 from valid, 4 from test
  CHECK(iid(ds, "9") == 3);  // order: train, then valid, then test
  CHECK(iid(ds, "4") == 4);
  CHECK(ds.train.rows == 3);
  CHECK(ds.train.nnz == 4);
  CHECK(ract_csr_row_nnz(&ds.train, uid(ds, "C")) == 0);
  CHECK(ds.counts.cold_users == 1);
  CHECK(ds.counts.overlap == 1);  // (B, 2) in train and test
  // Valid: A and B; input = mask = train items.
  REQUIRE(ds.valid.rows == 2);
  int ra = row_of(ds.valid, uid(ds, "A"));
  REQUIRE(ra >= 0);
  CHECK(ract_csr_row_nnz(&ds.valid.input, ra) == 2);
  CHECK(ract_csr_has(&ds.valid.truth, ra, iid(ds, "3")));
  // Test: A, B and C; A's mask = train + valid.
  REQUIRE(ds.test.rows == 3);
  ra = row_of(ds.test, uid(ds, "A"));
  CHECK(ract_csr_row_nnz(&ds.test.mask, ra) == 3);
  CHECK(ract_csr_row_nnz(&ds.test.input, ra) == 2);
  int rc = row_of(ds.test, uid(ds, "C"));
  CHECK(ract_csr_row_nnz(&ds.test.input, rc) == 0);
  std::string tmp = getenv("TEST_TMPDIR");
  size_t slash = tmp.rfind('/', tmp.rfind('/') - 1);
  CHECK(std::string(ds.name) == tmp.substr(slash + 1));  // the last two folders
  ract_dataset_free(&ds);

  o.valid = nullptr;
  CHECK(ract_dataset_load(&ds, &o, &err) == RACT_ERR_ARG);
  o.valid = va.c_str();
  o.use_threshold = 1;
  CHECK(ract_dataset_load(&ds, &o, &err) == RACT_ERR_ARG);
  CHECK(std::string(err.msg).find("--data only") != std::string::npos);
}

TEST_CASE("dataset: one file, RS split, threshold and k-core, write and reload the split") {
  std::string text = "user,item,rating\n";
  // 30 users x 20 items (user u rates items u..u+19 mod 40), ratings 1..5; a duplicate row.
  for (int u = 0; u < 30; u++)
    for (int k = 0; k < 20; k++)
      text += "u" + std::to_string(u) + ",i" + std::to_string((u + k) % 40) + "," +
              std::to_string(1 + (u + k) % 5) + "\n";
  text += "u0,i0,5\n";
  std::string path = write_tmp("rs.csv", text);
  ract_data_options o = ract_data_options_default();
  o.data = path.c_str();
  ract_dataset ds;
  ract_error err;
  REQUIRE(ract_dataset_load(&ds, &o, &err) == RACT_OK);
  CHECK(std::string(ds.name) == "rs.csv");
  CHECK(ds.n_users == 30);
  CHECK(ds.counts.loaded_rows == 601);
  CHECK(ds.counts.duplicates == 1);
  // 20 items per user: 16/2/2.
  CHECK(ds.train.nnz == 30 * 16);
  CHECK(ds.valid.truth.nnz == 30 * 2);
  CHECK(ds.test.truth.nnz == 30 * 2);
  CHECK(ds.valid.rows == 30);
  for (int r = 0; r < ds.test.rows; r++) {
    CHECK(ract_csr_row_nnz(&ds.test.mask, r) == 18);
    CHECK(ract_csr_row_nnz(&ds.test.input, r) == 16);
  }
  std::string dir = std::string(getenv("TEST_TMPDIR")) + "/rs/split";  // parents created
  REQUIRE(ract_dataset_write_split(&ds, dir.c_str(), &err) == RACT_OK);
  ract_data_options o2 = ract_data_options_default();
  std::string f[3] = {dir + "/train.tsv", dir + "/valid.tsv", dir + "/test.tsv"};
  o2.train = f[0].c_str();
  o2.valid = f[1].c_str();
  o2.test = f[2].c_str();
  ract_dataset re;
  REQUIRE(ract_dataset_load(&re, &o2, &err) == RACT_OK);
  CHECK(re.n_users == ds.n_users);
  CHECK(re.n_items == ds.n_items);
  CHECK(re.train.nnz == ds.train.nnz);
  CHECK(re.test.truth.nnz == ds.test.truth.nnz);
  // Same pairs, by raw tokens.
  for (int r = 0; r < ds.test.rows; r++) {
    const char* ut = ract_vocab_token(&ds.users, ds.test.users[r]);
    int r2 = row_of(re.test, uid(re, ut));
    REQUIRE(r2 >= 0);
    for (int64_t i = ds.test.truth.ptr[r]; i < ds.test.truth.ptr[r + 1]; i++)
      CHECK(ract_csr_has(&re.test.truth, r2,
                         iid(re, ract_vocab_token(&ds.items, ds.test.truth.idx[i]))));
  }
  ract_dataset_free(&re);

  // Same seed, same split; another seed, another split.
  ract_dataset again, other;
  REQUIRE(ract_dataset_load(&again, &o, &err) == RACT_OK);
  CHECK(memcmp(again.valid.truth.idx, ds.valid.truth.idx, (size_t)ds.valid.truth.nnz * 4) == 0);
  o.seed = 1;
  REQUIRE(ract_dataset_load(&other, &o, &err) == RACT_OK);
  CHECK(memcmp(other.valid.truth.idx, ds.valid.truth.idx, (size_t)ds.valid.truth.nnz * 4) != 0);
  ract_dataset_free(&again);
  ract_dataset_free(&other);
  ract_dataset_free(&ds);

  // Threshold 4 keeps ratings 4 and 5 (8 per user, 9 for u0 through its duplicate row);
  // k-core on users >= 10 then removes everything.
  o.use_threshold = 1;
  o.threshold = 4;
  REQUIRE(ract_dataset_load(&ds, &o, &err) == RACT_OK);
  CHECK(ds.counts.kept_rows == 30 * 8 + 1);
  ract_dataset_free(&ds);
  ract_interval_parse("[10,inf)", &o.user_inter_num, nullptr);
  CHECK(ract_dataset_load(&ds, &o, &err) == RACT_ERR_DATA);
  CHECK(std::string(err.msg).find("no interaction left") != std::string::npos);
  // A threshold on a file without ratings.
  std::string nr = write_tmp("nr.tsv", "a\tb\nc\td\n");
  ract_data_options o3 = ract_data_options_default();
  o3.data = nr.c_str();
  o3.use_threshold = 1;
  o3.threshold = 4;
  CHECK(ract_dataset_load(&ds, &o3, &err) == RACT_ERR_DATA);
  CHECK(std::string(err.msg).find("nr.tsv: --threshold needs a rating column") !=
        std::string::npos);
}

TEST_CASE("dataset: paper protocol on the shipped ml-latest-small") {
  ract_data_options o = ract_data_options_default();
  o.data = "third_party/ml-latest-small/ratings.csv";
  ract_data_options_set_paper(&o);
  ract_dataset ds;
  ract_error err = {};
  REQUIRE_MESSAGE(ract_dataset_load(&ds, &o, &err) == RACT_OK, err.msg);
  // Mult-VAE binarisation: 603 users, 6,298 items, 48,562 interactions.
  CHECK(ds.counts.loaded_rows == 100836);
  CHECK(ds.counts.kept_rows == 48562);
  CHECK(ds.n_users == 603);
  CHECK(ds.valid.rows + ds.test.rows <= 120);
  CHECK(ds.train.rows == 603 - 120);
  CHECK(ds.n_items + ds.counts.dropped_items == 6298);
  // Held-out users are not train users; fold-in and hidden are disjoint, 20% hidden.
  std::set<int> train_users(ds.train_users, ds.train_users + ds.train.rows);
  for (const ract_eval_set* s : {&ds.valid, &ds.test})
    for (int r = 0; r < s->rows; r++) {
      CHECK(train_users.count(s->users[r]) == 0);
      int n_in = ract_csr_row_nnz(&s->input, r), n_hid = ract_csr_row_nnz(&s->truth, r);
      CHECK(n_hid == (int)(0.2 * (n_in + n_hid)));
      CHECK(ract_csr_row_nnz(&s->mask, r) == n_in);
      for (int64_t i = s->truth.ptr[r]; i < s->truth.ptr[r + 1]; i++)
        CHECK(!ract_csr_has(&s->input, r, s->truth.idx[i]));
    }
  std::string dir = std::string(getenv("TEST_TMPDIR")) + "/paper_split";
  REQUIRE(ract_dataset_write_split(&ds, dir.c_str(), &err) == RACT_OK);
  std::string te = read_all(dir + "/test_te.tsv");
  CHECK(te.rfind("user_id\titem_id\n", 0) == 0);
  ract_dataset_free(&ds);
}

TEST_CASE("dataset: RecBole's ml-100k and ml-1m splits (RACT_DATA_DIR)" *
          doctest::skip(!ract_test_have_data())) {
  std::string d = ract_test_data_dir();
  struct Case {
    const char* folder;
    int users, items;
    int64_t train, valid, test;
  } cases[] = {{"ml-100k", 943, 1682, 80808, 9596, 9596},
               {"ml-1m", 6040, 3706, 805443, 97383, 97383}};
  for (const Case& c : cases) {
    std::string f[3];
    const char* names[3] = {"train", "valid", "test"};
    for (int k = 0; k < 3; k++) f[k] = d + "/" + c.folder + "/recbole_split/" + names[k] + ".tsv";
    ract_data_options o = ract_data_options_default();
    o.train = f[0].c_str();
    o.valid = f[1].c_str();
    o.test = f[2].c_str();
    ract_dataset ds;
    ract_error err = {};
    CAPTURE(c.folder);
    REQUIRE_MESSAGE(ract_dataset_load(&ds, &o, &err) == RACT_OK, err.msg);
    CHECK(ds.n_users == c.users);
    CHECK(ds.n_items == c.items);  // RecBole's n_items minus [PAD]
    CHECK(ds.train.nnz == c.train);
    CHECK(ds.counts.valid_pairs == c.valid);
    CHECK(ds.counts.test_pairs == c.test);
    CHECK(ds.valid.rows == c.users);
    CHECK(ds.test.rows == c.users);
    CHECK(ds.counts.cold_users == 0);
    CHECK(ds.counts.overlap == 0);
    CHECK(ds.test.mask.nnz == c.train + c.valid);
    ract_dataset_free(&ds);
  }
}

// How long the load takes is measured by tools/bench (its report's dataset.load_seconds),
// not asserted here: a unit test runs under the sanitizers and on a loaded machine.
TEST_CASE("dataset: ml-1m ratings.tsv and ml-100k.inter load with their sizes (RACT_DATA_DIR)" *
          doctest::skip(!ract_test_have_data())) {
  std::string d = ract_test_data_dir();
  std::string path = d + "/ml-1m/ratings.tsv";
  ract_vocab users, items;
  ract_vocab_init(&users);
  ract_vocab_init(&items);
  ract_inter x;
  ract_csr m = {};
  REQUIRE(ract_load_file(&x, &users, &items, path.c_str(), nullptr, nullptr) == RACT_OK);
  REQUIRE(ract_csr_build(&m, users.n, items.n, x.n, x.user, x.item, nullptr, nullptr) == RACT_OK);
  CHECK(x.n == 1000209);
  CHECK(users.n == 6040);
  CHECK(items.n == 3706);
  CHECK(m.nnz == 1000209);
  ract_csr_free(&m);
  ract_inter_free(&x);
  ract_vocab_free(&users);
  ract_vocab_free(&items);

  // The full RS pipeline on ml-100k.inter: 943 users, 1,682 items, 100,000 rows.
  std::string inter = d + "/ml-100k/ml-100k.inter";
  ract_data_options o = ract_data_options_default();
  o.data = inter.c_str();
  ract_dataset ds;
  REQUIRE(ract_dataset_load(&ds, &o, nullptr) == RACT_OK);
  CHECK(ds.n_users == 943);
  CHECK(ds.n_items == 1682);
  CHECK(ds.train.nnz + ds.counts.valid_pairs + ds.counts.test_pairs == 100000);
  CHECK(ds.train.nnz == 80808);  // RecBole's per-user counts give the same sizes
  ract_dataset_free(&ds);
}
