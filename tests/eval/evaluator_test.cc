#include "ract/eval/evaluator.h"

#include <doctest/doctest.h>
#include <math.h>
#include <string.h>

#include <string>
#include <vector>

#include "ract/eval/popularity.h"
#include "tests/data_dir.h"

namespace {

// One evaluation set through ract_eval_run (a job with no block and no offset).
ract_status eval_set(ract_metrics* m, const ract_eval_set* set, int n_items, ract_eval_model_fn fn,
                     void* ctx, int batch, ract_arena* scratch, ract_error* err) {
  const ract_eval_job job = ract_eval_job_make(set, n_items, fn, ctx, batch);
  return ract_eval_run(m, &job, scratch, err);
}

// Scores [1, 3, 3, 2, 0, 3] for every row (ties!), plus 10 on the row's input items.
struct FakeModel {
  int calls = 0;
  int rows_seen = 0;
  int fail_at = -1;
};

ract_status fake_score(void* ctx, ract_sparse in, ract_tensor scores, ract_error* err) {
  FakeModel* m = (FakeModel*)ctx;
  if (m->calls++ == m->fail_at) return ract_fail(err, RACT_ERR_NUMERIC, "fake: NaN in batch");
  const float base[6] = {1, 3, 3, 2, 0, 3};
  for (int r = 0; r < scores.rows; r++) {
    float* row = ract_tensor_row(scores, r);
    memcpy(row, base, sizeof(base));
    for (int64_t i = in.ptr[r]; i < in.ptr[r + 1]; i++) row[in.idx[i]] += 10;
  }
  m->rows_seen += in.rows;
  return RACT_OK;
}

// The same scores with a per-item offset left out (as a model that defers its output bias).
const float kOffset[6] = {5, -1, 0, 2, 0.5f, -3};
ract_status unbiased_score(void* ctx, ract_sparse in, ract_tensor scores, ract_error* err) {
  RACT_CHECK(fake_score(ctx, in, scores, err));
  for (int r = 0; r < scores.rows; r++) {
    for (int i = 0; i < 6; i++) ract_tensor_row(scores, r)[i] -= kOffset[i];
  }
  return RACT_OK;
}

ract_csr csr(int rows, const std::vector<std::vector<int>>& items) {
  std::vector<int32_t> r, c;
  for (int i = 0; i < rows; i++)
    for (int j : items[i]) r.push_back(i), c.push_back(j);
  ract_csr m = {};
  ract_csr_build(&m, rows, 6, (int64_t)r.size(), r.data(), c.data(), nullptr, nullptr);
  return m;
}

}  // namespace

TEST_CASE("evaluator: masking, ties by lower index, input rows, any batch size") {
  ract_eval_set set = {};
  set.rows = 3;
  int32_t users[3] = {7, 8, 9};
  set.users = users;
  set.input = csr(3, {{}, {0}, {4}});
  set.mask = csr(3, {{1}, {0}, {}});
  set.truth = csr(3, {{5, 0}, {}, {4}});
  // Row 0: 1 masked, ranking 2 5 3 0 4 (2 before 5 by index): hits at ranks 2 and 4.
  // Row 1: no truth, not averaged. Row 2: input 4 boosted to the top: hit at rank 1.
  ract_arena arena;
  REQUIRE(ract_arena_create(&arena, ract_eval_bytes(6, 3, 4, 1), nullptr) == RACT_OK);
  for (int batch = 1; batch <= 4; batch++) {
    CAPTURE(batch);
    ract_metrics m;
    const int ks[] = {2, 4};
    REQUIRE(ract_metrics_init(&m, ks, 2, nullptr) == RACT_OK);
    FakeModel model;
    size_t used = ract_arena_used(&arena);
    REQUIRE(eval_set(&m, &set, 6, fake_score, &model, batch > 3 ? 3 : batch, &arena, nullptr) ==
            RACT_OK);
    CHECK(ract_arena_used(&arena) == used);  // scratch released
    CHECK(model.rows_seen == 3);
    CHECK(m.users == 2);
    CHECK(m.recall[0] == doctest::Approx(0.75));
    CHECK(m.recall[1] == doctest::Approx(1.0));
    CHECK(m.ndcg[0] == doctest::Approx(0.6934264036172708));
    CHECK(m.ndcg[1] == doctest::Approx(0.8254604649035663));
    CHECK(m.mrr[0] == doctest::Approx(0.75));
    CHECK(m.hit[1] == doctest::Approx(1.0));
    CHECK(m.precision[0] == doctest::Approx(0.5));
    CHECK(m.precision[1] == doctest::Approx(0.375));
  }

  // A model that leaves an offset out of its block: added back before ranking, the same
  // metrics; left out, others.
  {
    const int ks[] = {2, 4};
    ract_metrics a, b, c;
    REQUIRE(ract_metrics_init(&a, ks, 2, nullptr) == RACT_OK);
    b = a;
    c = a;
    std::vector<float> block(3 * 6);
    FakeModel m1, m2, m3;
    REQUIRE(eval_set(&a, &set, 6, fake_score, &m1, 2, &arena, nullptr) == RACT_OK);
    ract_eval_job job = ract_eval_job_make(&set, 6, unbiased_score, &m2, 2);
    job.block = block.data();
    job.offset = kOffset;
    REQUIRE(ract_eval_run(&b, &job, &arena, nullptr) == RACT_OK);
    job.ctx = &m3;
    job.offset = nullptr;
    REQUIRE(ract_eval_run(&c, &job, &arena, nullptr) == RACT_OK);
    for (int j = 0; j < 2; j++) {
      CHECK(b.ndcg[j] == a.ndcg[j]);
      CHECK(b.recall[j] == a.recall[j]);
      CHECK(b.mrr[j] == a.mrr[j]);
    }
    CHECK(c.ndcg[0] != a.ndcg[0]);
  }

  // K larger than the item count: the list holds all 6 items (masked ones last).
  ract_metrics big;
  const int k100[] = {100};
  REQUIRE(ract_metrics_init(&big, k100, 1, nullptr) == RACT_OK);
  FakeModel model;
  REQUIRE(eval_set(&big, &set, 6, fake_score, &model, 2, &arena, nullptr) == RACT_OK);
  CHECK(big.recall[0] == doctest::Approx(1.0));
  CHECK(big.precision[0] == doctest::Approx((2.0 / 100 + 1.0 / 100) / 2));

  // Errors: the model's error propagates; a small arena; wrong width.
  ract_error err;
  FakeModel failing;
  failing.fail_at = 1;
  ract_metrics m;
  ract_metrics_init_default(&m);
  CHECK(eval_set(&m, &set, 6, fake_score, &failing, 1, &arena, &err) == RACT_ERR_NUMERIC);
  CHECK(std::string(err.msg) == "fake: NaN in batch");
  CHECK(eval_set(&m, &set, 7, fake_score, &model, 1, &arena, &err) == RACT_ERR_SHAPE);
  ract_arena tiny;
  REQUIRE(ract_arena_create(&tiny, 64, nullptr) == RACT_OK);
  CHECK(eval_set(&m, &set, 6, fake_score, &model, 3, &tiny, &err) == RACT_ERR_NOMEM);
  ract_arena_free(&tiny);
  ract_arena_free(&arena);
  ract_csr_free(&set.input);
  ract_csr_free(&set.mask);
  ract_csr_free(&set.truth);
}

TEST_CASE("popularity: train counts as scores, same row for every user") {
  ract_csr train = csr(3, {{0, 1}, {1, 2}, {1, 5}});
  ract_popularity p;
  REQUIRE(ract_popularity_init(&p, &train, nullptr) == RACT_OK);
  CHECK(p.n_items == 6);
  const float want[6] = {1, 3, 1, 0, 0, 1};
  for (int i = 0; i < 6; i++) CHECK(p.counts[i] == want[i]);
  float buf[12];
  ract_tensor t = ract_tensor_make(buf, 2, 6);
  ract_sparse in = ract_sparse_rows(ract_csr_view(&train), 1, 2);
  REQUIRE(ract_popularity_score(&p, in, t, nullptr) == RACT_OK);
  for (int i = 0; i < 6; i++) CHECK(buf[6 + i] == want[i]);
  ract_tensor wrong = ract_tensor_make(buf, 2, 5);
  ract_error err;
  CHECK(ract_popularity_score(&p, in, wrong, &err) == RACT_ERR_SHAPE);

  // Through the evaluator: valid truth {2} for user 0 (items 0, 1 masked): ranking 2 5 3 4
  // (counts 1, 1, 0, 0; ties by index) -> hit at rank 1.
  ract_eval_set set = {};
  set.rows = 1;
  set.input = csr(1, {{0, 1}});
  set.mask = csr(1, {{0, 1}});
  set.truth = csr(1, {{2}});
  ract_arena arena;
  REQUIRE(ract_arena_create(&arena, ract_eval_bytes(6, 8, 10, 1), nullptr) == RACT_OK);
  ract_metrics m;
  ract_metrics_init_default(&m);
  REQUIRE(eval_set(&m, &set, 6, ract_popularity_score, &p, 8, &arena, nullptr) == RACT_OK);
  CHECK(m.mrr[0] == 1.0);
  CHECK(m.ndcg[0] == doctest::Approx(1.0));
  ract_arena_free(&arena);
  ract_csr_free(&set.input);
  ract_csr_free(&set.mask);
  ract_csr_free(&set.truth);
  ract_popularity_free(&p);
  ract_csr_free(&train);
}

TEST_CASE("popularity baseline on RecBole's ml-100k split (RACT_DATA_DIR)" *
          doctest::skip(!ract_test_have_data())) {
  const std::string d = ract_test_data_dir();
  std::string f[3];
  const char* names[3] = {"train", "valid", "test"};
  for (int k = 0; k < 3; k++) f[k] = d + "/ml-100k/recbole_split/" + names[k] + ".tsv";
  ract_data_options o = ract_data_options_default();
  o.train = f[0].c_str();
  o.valid = f[1].c_str();
  o.test = f[2].c_str();
  ract_dataset ds;
  REQUIRE(ract_dataset_load(&ds, &o, nullptr) == RACT_OK);
  ract_popularity p;
  REQUIRE(ract_popularity_init(&p, &ds.train, nullptr) == RACT_OK);
  ract_arena arena;
  REQUIRE(ract_arena_create(&arena, ract_eval_bytes(ds.n_items, 128, 100, 1), nullptr) == RACT_OK);
  ract_metrics m;
  ract_metrics_init_default(&m);
  REQUIRE(eval_set(&m, &ds.test, ds.n_items, ract_popularity_score, &p, 128, &arena, nullptr) ==
          RACT_OK);
  // Cross-checked with an independent Python computation over the same files.
  CHECK(m.users == 943);
  CHECK(m.recall[0] == doctest::Approx(0.1275).epsilon(0.0005));
  CHECK(m.mrr[0] == doctest::Approx(0.2676).epsilon(0.0005));
  CHECK(m.ndcg[0] == doctest::Approx(0.1419).epsilon(0.0005));
  CHECK(m.hit[0] == doctest::Approx(0.5769).epsilon(0.0005));
  CHECK(m.precision[0] == doctest::Approx(0.1031).epsilon(0.0005));
  ract_arena_free(&arena);
  ract_popularity_free(&p);
  ract_dataset_free(&ds);
}
