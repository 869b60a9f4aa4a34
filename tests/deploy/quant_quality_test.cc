// Quantisation quality on real data (RACT_DATA_DIR, else skipped): trains a Mult-VAE (the
// actor's pretraining stage, recbole preset) on RecBole's split of ml-100k for a few epochs,
// exports fp32/fp16/int8 inference files, and evaluates each through the scorer with the
// project's evaluator. Checks (issue 5): fp32 file = the trainer's own evaluation, fp16
// within 0.001 and int8 within 0.003 of fp32's test NDCG@10. RACT_QUANT_DATASET=ml-1m and
// RACT_QUANT_EPOCHS=N run the same measurement on another split.
#include <doctest/doctest.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <string>
#include <vector>

#include "ract/core/arena.h"
#include "ract/core/rng.h"
#include "ract/data/dataset.h"
#include "ract/deploy/model_file.h"
#include "ract/deploy/model_file_write.h"
#include "ract/eval/evaluator.h"
#include "ract/eval/metrics.h"
#include "ract/model/actor.h"
#include "ract/ract.h"
#include "ract/train/adam.h"
#include "tests/data_dir.h"
#include "tests/deploy/actor_export.h"

namespace {

struct ScorerCtx {
  ract_scorer* s;
  std::vector<float> row;
};

ract_status scorer_fn(void* ctx, ract_sparse in, ract_tensor scores, ract_error* err) {
  ScorerCtx* c = (ScorerCtx*)ctx;
  for (int r = 0; r < in.rows; r++) {
    RACT_CHECK(ract_scorer_set_history(c->s, in.idx + in.ptr[r], (int)(in.ptr[r + 1] - in.ptr[r]),
                                       nullptr, err));
    RACT_CHECK(ract_scorer_full_sort_predict(c->s, scores.data + (size_t)r * scores.stride, err));
  }
  return RACT_OK;
}

struct ActorCtx {
  const ract_actor* a;
  ract_actor_acts* acts;
};

ract_status actor_fn(void* ctx, ract_sparse in, ract_tensor scores, ract_error* err) {
  ActorCtx* c = (ActorCtx*)ctx;
  // The evaluator hands a view with ptr[0] != 0; the actor wants ptr relative to idx.
  ract_sparse x = {in.rows, in.cols, in.ptr, in.idx, nullptr};
  RACT_CHECK(ract_actor_full_sort_predict(c->a, c->acts, x, c->acts->logits, err));
  for (int r = 0; r < in.rows; r++) {
    for (int j = 0; j < in.cols; j++) {
      scores.data[(size_t)r * scores.stride + j] = c->acts->logits[(size_t)r * in.cols + j];
    }
  }
  return RACT_OK;
}

double test_ndcg10(const ract_dataset& ds, ract_eval_model_fn fn, void* ctx, ract_arena* arena) {
  ract_metrics m;
  int ks[1] = {10};
  REQUIRE(ract_metrics_init(&m, ks, 1, nullptr) == RACT_OK);
  ract_error err{};
  const ract_eval_job job = ract_eval_job_make(&ds.test, ds.n_items, fn, ctx, 64);
  ract_status s = ract_eval_run(&m, &job, arena, &err);
  INFO(err.msg);
  REQUIRE(s == RACT_OK);
  return m.ndcg[0];
}

}  // namespace

TEST_CASE("quantised files keep the test NDCG@10 of a trained model (RACT_DATA_DIR)" *
          doctest::skip(!ract_test_have_data())) {
  const std::string dir = ract_test_data_dir();
  const char* name = getenv("RACT_QUANT_DATASET") ? getenv("RACT_QUANT_DATASET") : "ml-100k";
  int epochs = getenv("RACT_QUANT_EPOCHS") ? atoi(getenv("RACT_QUANT_EPOCHS")) : 12;
  std::string base = dir + "/" + name + "/recbole_split/";
  std::string f[3] = {base + "train.tsv", base + "valid.tsv", base + "test.tsv"};
  ract_data_options o = ract_data_options_default();
  o.train = f[0].c_str();
  o.valid = f[1].c_str();
  o.test = f[2].c_str();
  ract_dataset ds;
  ract_error err{};
  REQUIRE(ract_dataset_load(&ds, &o, &err) == RACT_OK);
  const int I = ds.n_items, B = 128;

  ract_hparams cfg;
  REQUIRE(ract_hparams_preset(&cfg, "recbole", nullptr) == RACT_OK);
  int64_t max_nnz = 0;
  for (int r0 = 0; r0 < ds.train.rows; r0 += B) {
    int r1 = r0 + B < ds.train.rows ? r0 + B : ds.train.rows;
    max_nnz = std::max(max_nnz, ds.train.ptr[r1] - ds.train.ptr[r0]);
  }
  for (const ract_eval_set* set : {&ds.valid, &ds.test}) {
    for (int r0 = 0; r0 < set->rows; r0 += 64) {
      int r1 = r0 + 64 < set->rows ? r0 + 64 : set->rows;
      max_nnz = std::max(max_nnz, set->input.ptr[r1] - set->input.ptr[r0]);
    }
  }
  ract_arena arena;
  REQUIRE(ract_arena_create(&arena,
                            ract_actor_bytes(&cfg, I) + ract_actor_acts_bytes(&cfg, I, B, max_nnz) +
                                ract_eval_bytes(I, 64, 10, 1) + (1 << 20),
                            &err) == RACT_OK);
  ract_actor a;
  REQUIRE(ract_actor_create(&a, &cfg, I, &arena, &err) == RACT_OK);
  ract_rng rng;
  ract_rng_seed(&rng, 2020, 0);
  ract_actor_init_params(&a, &rng);
  ract_actor_acts acts;
  REQUIRE(ract_actor_acts_create(&acts, &a, B, max_nnz, &arena, &err) == RACT_OK);
  size_t mark = ract_arena_mark(&arena);

  // Mult-VAE pretraining: mean(ce + beta*kl), Adam 1e-3, users in order.
  ract_adam opt = ract_adam_make(1e-3f);
  ract_sparse train = ract_csr_view(&ds.train);
  std::vector<float> dce(B), dkl(B);
  int64_t step = 0;
  float loss = 0;
  for (int e = 0; e < epochs; e++) {
    for (int r0 = 0; r0 < train.rows; r0 += B) {
      int n = train.rows - r0 < B ? train.rows - r0 : B;
      ract_sparse x = ract_sparse_rows(train, r0, n);
      float beta = ract_anneal_beta_at(&cfg, ++step);
      ract_params_zero_grad(&a.w);
      std::vector<int32_t> users(n);
      for (int b = 0; b < n; b++) users[b] = r0 + b;
      const ract_draws draws = {17, (uint64_t)e, users.data()};  // a fresh mask per epoch
      REQUIRE(ract_actor_forward(&a, &acts, x, RACT_MODE_TRAIN, &draws, &err) == RACT_OK);
      ract_actor_logits(&a, &acts, acts.logits, 1);
      loss = ract_actor_loss(&a, &acts, x, acts.logits, beta);
      for (int b = 0; b < n; b++) dce[b] = 1.0f / n, dkl[b] = beta / n;
      ract_actor_dlogits(&a, &acts, x, acts.logits, dce.data());
      REQUIRE(ract_actor_backward(&a, &acts, x, acts.logits, dkl.data(), &err) == RACT_OK);
      ract_adam_step(&opt, a.w.params, a.w.grads, a.w.m, a.w.v, a.w.n);
    }
  }
  REQUIRE(isfinite(loss));

  ActorCtx actx{&a, &acts};
  double trainer = test_ndcg10(ds, actor_fn, &actx, &arena);
  ract_arena_reset(&arena, mark);

  std::vector<const char*> tokens(I);
  for (int i = 0; i < I; i++) tokens[i] = ract_vocab_token(&ds.items, i);
  const char* tmp = getenv("TEST_TMPDIR");
  std::string out = std::string(tmp ? tmp : "/tmp") + "/quant_" + name;
  double ndcg[3];
  size_t bytes[3];
  for (int d = 0; d < 3; d++) {
    ract_file_dtype dt = (ract_file_dtype)d;
    std::string path = out + "." + ract_file_dtype_name(dt);
    REQUIRE(fixture_export_inference(path.c_str(), &a, RACT_PRESET_RECBOLE, tokens.data(), nullptr,
                                     0, dt, &err) == RACT_OK);
    void* blob;
    REQUIRE(ract_file_read(path.c_str(), &blob, &bytes[d], &err) == RACT_OK);
    ract_model w;
    REQUIRE(ract_model_load(&w, blob, bytes[d], &err) == RACT_OK);
    std::vector<uint8_t> sa(ract_scorer_arena_bytes(&w));
    ract_scorer s;
    REQUIRE(ract_scorer_init(&s, &w, sa.data(), sa.size(), &err) == RACT_OK);
    ScorerCtx sctx{&s, {}};
    ndcg[d] = test_ndcg10(ds, scorer_fn, &sctx, &arena);
    ract_arena_reset(&arena, mark);
    free(blob);
  }
  char line[512];
  snprintf(line, sizeof(line),
           "%s, %d epochs (loss %.2f): test ndcg@10 trainer %.6f | fp32 file %.6f (%zu B) | fp16 "
           "%.6f (%+.6f, %zu B) | int8 %.6f (%+.6f, %zu B, %.1f%%)",
           name, epochs, (double)loss, trainer, ndcg[0], bytes[0], ndcg[1], ndcg[1] - ndcg[0],
           bytes[1], ndcg[2], ndcg[2] - ndcg[0], bytes[2], 100.0 * bytes[2] / bytes[0]);
  MESSAGE(line);
  CHECK(ndcg[0] > 0.1);  // a trained model, not noise
  CHECK(fabs(ndcg[0] - trainer) <= 1e-6);
  CHECK(fabs(ndcg[1] - ndcg[0]) <= 0.001);
  CHECK(fabs(ndcg[2] - ndcg[0]) <= 0.003);
  CHECK((double)bytes[2] <= 0.27 * (double)bytes[0]);
  ract_arena_free(&arena);
  ract_dataset_free(&ds);
}
