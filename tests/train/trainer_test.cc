// The trainer end to end on small synthetic data with planted structure: it must beat the
// popularity baseline, be deterministic, keep the best weights, stop early, and its weight
// files must reproduce its own evaluation forward through the on-device scorer.
#include "ract/train/trainer.h"

#include <doctest/doctest.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <string>
#include <vector>

#include "ract/core/arena.h"
#include "ract/core/parallel.h"
#include "ract/core/rng.h"
#include "ract/deploy/model_file_write.h"
#include "ract/eval/evaluator.h"
#include "ract/eval/popularity.h"
#include "ract/math/gemm.h"
#include "ract/ract.h"
#include "ract/train/export.h"

namespace {

// One evaluation set through ract_eval_run (a job with no block and no offset).
ract_status eval_set(ract_metrics* m, const ract_eval_set* set, int n_items, ract_eval_model_fn fn,
                     void* ctx, int batch, ract_arena* scratch, ract_error* err) {
  const ract_eval_job job = ract_eval_job_make(set, n_items, fn, ctx, batch);
  return ract_eval_run(m, &job, scratch, err);
}

std::string tmp_path(const char* name) {
  const char* d = getenv("TEST_TMPDIR");
  return std::string(d ? d : "/tmp") + "/" + name;
}

// 400 users in 4 taste groups over 80 items: a user of group g holds 6..13 items of the 20
// of group g and 0..1 popular items outside it (items 0..4 are popular with everyone, so
// popularity is a real baseline). Written as a TSV "user item".
std::string planted_file() {
  std::string path = tmp_path("planted.tsv");
  FILE* f = fopen(path.c_str(), "w");
  REQUIRE(f != nullptr);
  ract_rng r;
  ract_rng_seed(&r, 99, 0);
  for (int u = 0; u < 400; u++) {
    int g = u % 4;
    int n = 6 + (int)ract_rng_below(&r, 8);
    std::vector<int> items;
    while ((int)items.size() < n) {
      int it = g * 20 + (int)ract_rng_below(&r, 20);
      bool dup = false;
      for (int x : items) dup |= x == it;
      if (!dup) items.push_back(it);
    }
    if (ract_rng_below(&r, 2) == 0) items.push_back(80 + (int)ract_rng_below(&r, 5));
    for (int it : items) fprintf(f, "u%d\ti%d\n", u, it);
  }
  fclose(f);
  return path;
}

struct Fixture {
  ract_dataset ds;
  ract_train_config cfg;
  Fixture(const char* preset) {
    static std::string path = planted_file();
    ract_data_options o = ract_data_options_default();
    o.data = path.c_str();
    o.load.format = RACT_FORMAT_TSV;
    o.seed = 7;
    ract_error err;
    REQUIRE_MESSAGE(ract_dataset_load(&ds, &o, &err) == RACT_OK, err.msg);
    REQUIRE(ract_train_config_preset(&cfg, preset, &err) == RACT_OK);
    cfg.model.n_hidden = 1;
    cfg.model.mlp_hidden_size[0] = 32;
    cfg.model.latent_dimension = 16;
    cfg.model.total_anneal_steps = 200;
    cfg.train_batch_size = 64;
    cfg.eval_batch = 100;
    cfg.stage_epochs[0] = 60;
    cfg.stage_epochs[1] = 10;
    cfg.stage_epochs[2] = 5;
    cfg.stage_lr[2] = 1e-5f;
    cfg.seed = 11;
  }
  ~Fixture() { ract_dataset_free(&ds); }
};

double popularity_ndcg10(const ract_dataset* ds) {
  ract_popularity pop;
  REQUIRE(ract_popularity_init(&pop, &ds->train, nullptr) == RACT_OK);
  ract_metrics m;
  ract_metrics_init_default(&m);
  ract_arena a;
  REQUIRE(ract_arena_create(&a, ract_eval_bytes(ds->n_items, 64, 100, 1), nullptr) == RACT_OK);
  REQUIRE(eval_set(&m, &ds->test, ds->n_items, ract_popularity_score, &pop, 64, &a, nullptr) ==
          RACT_OK);
  ract_arena_free(&a);
  ract_popularity_free(&pop);
  return ract_metrics_get(&m, "ndcg@10");
}

}  // namespace

TEST_CASE("trainer: both presets learn the planted groups and beat popularity") {
  for (const char* preset : {"paper", "recbole"}) {
    Fixture fx(preset);
    ract_trainer t;
    ract_error err;
    REQUIRE_MESSAGE(ract_trainer_create(&t, &fx.cfg, &fx.ds, nullptr, 0, &err) == RACT_OK, err.msg);
    REQUIRE_MESSAGE(ract_trainer_run(&t, nullptr, &err) == RACT_OK, err.msg);
    ract_metrics test;
    REQUIRE(ract_trainer_evaluate(&t, &fx.ds.test, &test, &err) == RACT_OK);
    // The trainer ranks with the output bias added in the evaluator's pass: the same metrics,
    // bit for bit, as ranking the actor's complete logits.
    ract_metrics direct;
    REQUIRE(ract_metrics_init(&direct, fx.cfg.topk, fx.cfg.n_topk, nullptr) == RACT_OK);
    ract_actor_scorer sc = {&t.actor, &t.aacts, 1};
    ract_arena scratch;
    REQUIRE(ract_arena_create(&scratch, ract_eval_bytes(fx.ds.n_items, 16, 100, 1), nullptr) ==
            RACT_OK);
    REQUIRE(eval_set(&direct, &fx.ds.test, fx.ds.n_items, ract_actor_score, &sc, 16, &scratch,
                     &err) == RACT_OK);
    ract_arena_free(&scratch);
    for (int j = 0; j < test.n_k; j++) {
      CHECK(direct.ndcg[j] == test.ndcg[j]);
      CHECK(direct.recall[j] == test.recall[j]);
      CHECK(direct.mrr[j] == test.mrr[j]);
    }
    double pop = popularity_ndcg10(&fx.ds);
    double got = ract_metrics_get(&test, "ndcg@10");
    MESSAGE(std::string(preset) << ": test ndcg@10 " << got << " vs popularity " << pop);
    CHECK(got > pop + 0.1);
    // Every stage ran its epochs (no early stop at this lr), the logs are complete.
    CHECK(t.stage[0].epochs == 60);
    CHECK(t.stage[1].epochs == 10);
    CHECK(t.stage[2].ran == 1);
    CHECK(t.n_log == t.stage[0].epochs + t.stage[1].epochs + t.stage[2].epochs);
    // The critic learned something: its loss fell over its stage.
    double first = NAN, last = NAN;
    for (int i = 0; i < t.n_log; i++) {
      if (t.log[i].stage != RACT_STAGE_CRITIC_PRETRAIN) continue;
      if (isnan(first)) first = t.log[i].loss;
      last = t.log[i].loss;
    }
    CHECK(last < first);
    ract_trainer_free(&t);
  }
}

TEST_CASE("trainer: the same seed gives identical weights; another seed does not") {
  Fixture fx("paper");
  fx.cfg.stage_epochs[0] = 5;
  fx.cfg.stage_epochs[1] = 2;
  fx.cfg.stage_epochs[2] = 2;
  std::vector<float> w[3];
  for (int run = 0; run < 3; run++) {
    ract_train_config c = fx.cfg;
    if (run == 2) c.seed = 12;
    ract_trainer t;
    REQUIRE(ract_trainer_create(&t, &c, &fx.ds, nullptr, 0, nullptr) == RACT_OK);
    REQUIRE(ract_trainer_run(&t, nullptr, nullptr) == RACT_OK);
    w[run].assign(t.actor.w.params, t.actor.w.params + t.actor.w.n);
    w[run].insert(w[run].end(), t.critic.w.params, t.critic.w.params + t.critic.w.n);
    ract_trainer_free(&t);
  }
  CHECK(w[0] == w[1]);
  CHECK(w[0] != w[2]);
}

TEST_CASE("trainer: early stopping keeps the best weights (recbole's patience rule)") {
  Fixture fx("recbole");
  fx.cfg.stage_epochs[0] = 30;
  fx.cfg.stage_epochs[1] = 2;
  fx.cfg.stage_epochs[2] = 40;
  fx.cfg.stage_lr[2] = 0.05f;  // far too large: finetune makes the actor worse
  fx.cfg.stopping_step = 3;
  ract_trainer t;
  ract_error err;
  REQUIRE(ract_trainer_create(&t, &fx.cfg, &fx.ds, nullptr, 0, &err) == RACT_OK);
  REQUIRE(ract_trainer_run_stage(&t, RACT_STAGE_ACTOR_PRETRAIN, nullptr, &err) == RACT_OK);
  REQUIRE(ract_trainer_run_stage(&t, RACT_STAGE_CRITIC_PRETRAIN, nullptr, &err) == RACT_OK);
  REQUIRE(ract_trainer_run_stage(&t, RACT_STAGE_FINETUNE, nullptr, &err) == RACT_OK);
  const ract_stage_summary* s = &t.stage[RACT_STAGE_FINETUNE];
  CHECK(s->epochs < 40);
  CHECK(s->epochs == s->best_epoch + 1 + 4);  // 4 = stopping_step + 1 epochs without gain
  // The weights in place are the best epoch's: validation gives its number again.
  ract_metrics v;
  REQUIRE(ract_trainer_evaluate(&t, &fx.ds.valid, &v, &err) == RACT_OK);
  CHECK(ract_metrics_get(&v, "mrr@10") == ract_metrics_get(&s->best_valid, "mrr@10"));
  double best = -1;
  for (int i = 0; i < t.n_log; i++) {
    if (t.log[i].stage == RACT_STAGE_FINETUNE) best = fmax(best, t.log[i].valid);
  }
  CHECK(ract_metrics_get(&v, "mrr@10") == best);
  ract_trainer_free(&t);
}

TEST_CASE("trainer: a non-finite loss stops training with the stage, epoch and batch") {
  Fixture fx("paper");
  fx.cfg.stage_epochs[0] = 50;
  fx.cfg.stage_lr[0] = 1e30f;
  ract_trainer t;
  ract_error err;
  REQUIRE(ract_trainer_create(&t, &fx.cfg, &fx.ds, nullptr, 0, &err) == RACT_OK);
  ract_status s = ract_trainer_run(&t, nullptr, &err);
  CHECK(s == RACT_ERR_NUMERIC);
  CHECK(std::string(err.msg).find("actor_pretrain") != std::string::npos);
  CHECK(std::string(err.msg).find("epoch") != std::string::npos);
  CHECK(std::string(err.msg).find("batch") != std::string::npos);
  MESSAGE(err.msg);
  ract_trainer_free(&t);
}

TEST_CASE("trainer: bad configurations are refused with a message") {
  Fixture fx("paper");
  ract_trainer t;
  ract_error err;
  ract_train_config c = fx.cfg;
  snprintf(c.valid_metric, sizeof(c.valid_metric), "ndcg@50");  // 50 is not a cut-off
  CHECK(ract_trainer_create(&t, &c, &fx.ds, nullptr, 0, &err) == RACT_ERR_ARG);
  CHECK(std::string(err.msg).find("ndcg@50") != std::string::npos);
  ract_trainer_free(&t);
  c = fx.cfg;
  c.train_batch_size = 0;
  CHECK(ract_trainer_create(&t, &c, &fx.ds, nullptr, 0, &err) == RACT_ERR_ARG);
  ract_trainer_free(&t);
  // The data-free part of those checks on its own (tools check flags before loading data).
  CHECK(ract_train_config_check(&fx.cfg, &err) == RACT_OK);
  c = fx.cfg;
  c.stage_lr[1] = NAN;
  CHECK(ract_train_config_check(&c, &err) == RACT_ERR_ARG);
  CHECK(std::string(err.msg).find("critic_pretrain") != std::string::npos);
  c = fx.cfg;
  c.stage_lr[0] = -1e-3f;
  CHECK(ract_train_config_check(&c, &err) == RACT_ERR_ARG);
  c = fx.cfg;
  c.stopping_step = -1;
  CHECK(ract_train_config_check(&c, &err) == RACT_ERR_ARG);
  c = fx.cfg;
  c.threads = 0;
  CHECK(ract_train_config_check(&c, &err) == RACT_ERR_ARG);
  c = fx.cfg;
  c.model.eps_std = INFINITY;
  CHECK(ract_train_config_check(&c, &err) == RACT_ERR_ARG);
  CHECK(ract_trainer_create(&t, &c, &fx.ds, nullptr, 0, &err) == RACT_ERR_ARG);
  ract_trainer_free(&t);
}

TEST_CASE("export: the fp32 scorer reproduces the trainer's evaluation forward") {
  for (const char* preset : {"paper", "recbole"}) {
    Fixture fx(preset);
    fx.cfg.stage_epochs[0] = 8;
    fx.cfg.stage_epochs[1] = 1;
    fx.cfg.stage_epochs[2] = 1;
    ract_trainer t;
    ract_error err;
    REQUIRE(ract_trainer_create(&t, &fx.cfg, &fx.ds, nullptr, 0, &err) == RACT_OK);
    REQUIRE(ract_trainer_run(&t, nullptr, &err) == RACT_OK);
    std::string path = tmp_path("model.ract");
    REQUIRE_MESSAGE(ract_export_inference(path.c_str(), &t, RACT_FILE_F32, nullptr, 0, nullptr, 0,
                                          &err) == RACT_OK,
                    err.msg);
    void* blob;
    size_t len;
    REQUIRE(ract_file_read(path.c_str(), &blob, &len, &err) == RACT_OK);
    ract_model model;
    REQUIRE_MESSAGE(ract_model_load(&model, blob, len, &err) == RACT_OK, err.msg);
    std::vector<uint8_t> arena(ract_scorer_arena_bytes(&model));
    ract_scorer sc;
    REQUIRE(ract_scorer_init(&sc, &model, arena.data(), arena.size(), &err) == RACT_OK);
    // The trainer's evaluation forward on the test users' inputs.
    const int rows = 50;
    ract_sparse x = ract_sparse_rows(ract_csr_view(&fx.ds.test.input), 0, rows);
    x.val = nullptr;
    REQUIRE(ract_actor_full_sort_predict(&t.actor, &t.aacts, x, t.aacts.logits, &err) == RACT_OK);
    const int I = fx.ds.n_items;
    std::vector<float> scores(I);
    float max_diff = 0;
    for (int r = 0; r < rows; r++) {
      std::vector<int32_t> hist(x.idx + x.ptr[r], x.idx + x.ptr[r + 1]);
      REQUIRE(ract_scorer_set_history(&sc, hist.data(), (int)hist.size(), nullptr, &err) ==
              RACT_OK);
      REQUIRE(ract_scorer_full_sort_predict(&sc, scores.data(), &err) == RACT_OK);
      for (int i = 0; i < I; i++) {
        max_diff = fmaxf(max_diff, fabsf(scores[i] - t.aacts.logits[(size_t)r * I + i]));
      }
    }
    MESSAGE(std::string(preset) << ": max |scorer - trainer| over " << rows
                                << " users: " << max_diff);
    CHECK(max_diff <= 1e-5f);
    CHECK(ract_model_n_items(&model) == I);
    CHECK(std::string(ract_model_item_token(&model, 0)) == ract_vocab_token(&fx.ds.items, 0));
    free(blob);
    ract_trainer_free(&t);
  }
}

TEST_CASE("export: a checkpoint restores every parameter, moment and counter") {
  Fixture fx("recbole");
  fx.cfg.stage_epochs[0] = 3;
  fx.cfg.stage_epochs[1] = 2;
  fx.cfg.stage_epochs[2] = 0;
  ract_trainer a, b;
  ract_error err;
  REQUIRE(ract_trainer_create(&a, &fx.cfg, &fx.ds, nullptr, 0, &err) == RACT_OK);
  REQUIRE(ract_trainer_run(&a, nullptr, &err) == RACT_OK);
  std::string path = tmp_path("ckpt.ract");
  REQUIRE_MESSAGE(ract_export_checkpoint(path.c_str(), &a, nullptr, 0, &err) == RACT_OK, err.msg);
  ract_train_config other = fx.cfg;
  other.seed = 999;  // different initial weights: all must come from the file
  REQUIRE(ract_trainer_create(&b, &other, &fx.ds, nullptr, 0, &err) == RACT_OK);
  ract_train_state st;
  REQUIRE_MESSAGE(ract_export_restore(&b, path.c_str(), 1, &st, &err) == RACT_OK, err.msg);
  CHECK(st.cur.stage == RACT_STAGES);  // all stages done
  CHECK(memcmp(a.actor.w.params, b.actor.w.params, sizeof(float) * a.actor.w.n) == 0);
  CHECK(memcmp(a.actor.w.m, b.actor.w.m, sizeof(float) * a.actor.w.n) == 0);
  CHECK(memcmp(a.actor.w.v, b.actor.w.v, sizeof(float) * a.actor.w.n) == 0);
  CHECK(memcmp(a.critic.w.params, b.critic.w.params, sizeof(float) * a.critic.w.n) == 0);
  CHECK(memcmp(a.critic.bn_mean, b.critic.bn_mean, sizeof(a.critic.bn_mean)) == 0);
  CHECK(memcmp(a.rng.s, b.rng.s, sizeof(a.rng.s)) == 0);
  CHECK(a.anneal.steps == b.anneal.steps);
  CHECK(a.adam_critic.t == b.adam_critic.t);
  // An inference file is not a checkpoint.
  std::string inf = tmp_path("inf.ract");
  REQUIRE(ract_export_inference(inf.c_str(), &a, RACT_FILE_F32, nullptr, 0, nullptr, 0, &err) ==
          RACT_OK);
  CHECK(ract_export_restore(&b, inf.c_str(), 1, nullptr, &err) == RACT_ERR_FILE_KIND);
  ract_trainer_free(&a);
  ract_trainer_free(&b);
}

TEST_CASE("trainer: two runs on 2 threads give identical weights (every pass threaded)") {
  ract_parallel_set_grain(1);  // even these tiny passes split over the threads
  for (const char* preset : {"recbole", "paper"}) {
    Fixture fx(preset);
    fx.cfg.stage_epochs[0] = 4;
    fx.cfg.stage_epochs[1] = 2;
    fx.cfg.stage_epochs[2] = 2;
    std::vector<float> w[3];
    ract_metrics valid[3];
    for (int run = 0; run < 3; run++) {
      ract_train_config c = fx.cfg;
      c.threads = run < 2 ? 2 : 1;
      ract_trainer t;
      REQUIRE(ract_trainer_create(&t, &c, &fx.ds, nullptr, 0, nullptr) == RACT_OK);
      REQUIRE(ract_parallel_threads() == c.threads);
      REQUIRE(ract_trainer_run(&t, nullptr, nullptr) == RACT_OK);
      REQUIRE(ract_trainer_evaluate(&t, &fx.ds.valid, &valid[run], nullptr) == RACT_OK);
      w[run].assign(t.actor.w.params, t.actor.w.params + t.actor.w.n);
      w[run].insert(w[run].end(), t.critic.w.params, t.critic.w.params + t.critic.w.n);
      ract_trainer_free(&t);
    }
    CHECK(w[0] == w[1]);
    CHECK(ract_metrics_get(&valid[0], "ndcg@10") == ract_metrics_get(&valid[1], "ndcg@10"));
    // Not promised (BLIS may split its sums differently), but the library's own passes are
    // thread-count independent: report whether 1 and 2 threads agreed.
    MESSAGE(std::string(preset) << ": 1 thread and 2 threads give "
                                << std::string(w[0] == w[2] ? "the same" : "different")
                                << " weights");
  }
  ract_parallel_set_grain(32768);
  ract_gemm_set_threads(1);
}

namespace {

struct StopAfter {
  int batches;  // stop once this many batches have run
  int seen;
  volatile int flag;
};

void count_batch(void* ctx, int, int, int, int, const ract_step_stats*) {
  StopAfter* s = (StopAfter*)ctx;
  if (++s->seen >= s->batches) s->flag = 1;
}

}  // namespace

TEST_CASE("resume: interrupted anywhere, a run continues to the same weights, bit for bit") {
  for (const char* preset : {"paper", "recbole"}) {
    Fixture fx(preset);
    fx.cfg.train_batch_size = 96;  // several batches per epoch
    fx.cfg.stage_epochs[0] = 4;
    fx.cfg.stage_epochs[1] = 3;
    fx.cfg.stage_epochs[2] = 3;
    fx.cfg.stage_lr[2] = 1e-4f;
    ract_error err;
    ract_trainer ref;
    REQUIRE(ract_trainer_create(&ref, &fx.cfg, &fx.ds, nullptr, 0, &err) == RACT_OK);
    REQUIRE(ract_trainer_run(&ref, nullptr, &err) == RACT_OK);
    // 4 batches per epoch with recbole (kept remainder), 3 with paper; stop mid-epoch, at an
    // epoch's end, at a stage boundary, in the last stage, twice in one run.
    for (int cut : {1, 3, 4, 12, 14, 27, 33}) {
      ract_trainer a;
      REQUIRE(ract_trainer_create(&a, &fx.cfg, &fx.ds, nullptr, 0, &err) == RACT_OK);
      StopAfter stop = {cut, 0, 0};
      a.stop = &stop.flag;
      ract_train_callbacks cb = {&stop, count_batch, nullptr, nullptr};
      ract_status s = ract_trainer_run(&a, &cb, &err);
      std::string path = tmp_path("resume.ckpt");
      int total = stop.seen;
      for (int round = 0; s == RACT_ERR_INTERRUPTED && round < 3; round++) {
        REQUIRE(ract_export_checkpoint(path.c_str(), &a, nullptr, 0, &err) == RACT_OK);
        ract_trainer_free(&a);
        ract_train_state st;
        REQUIRE(ract_export_read_state(path.c_str(), &st, &err) == RACT_OK);
        REQUIRE(ract_trainer_create(&a, &st.cfg, &fx.ds, nullptr, 0, &err) == RACT_OK);
        REQUIRE_MESSAGE(ract_export_restore(&a, path.c_str(), 1, nullptr, &err) == RACT_OK,
                        err.msg);
        stop = {round == 0 ? cut : 1 << 30, 0, 0};  // interrupt once more, then finish
        a.stop = &stop.flag;
        s = ract_trainer_run(&a, &cb, &err);
        total += stop.seen;
      }
      REQUIRE_MESSAGE(s == RACT_OK, err.msg);
      INFO(preset << " cut after " << cut << " batches, " << total << " batches in all");
      CHECK(memcmp(a.actor.w.params, ref.actor.w.params, sizeof(float) * a.actor.w.n) == 0);
      CHECK(memcmp(a.critic.w.params, ref.critic.w.params, sizeof(float) * a.critic.w.n) == 0);
      CHECK(a.n_log == ref.n_log);
      for (int k = 0; k < RACT_STAGES; k++) {
        CHECK(a.stage[k].epochs == ref.stage[k].epochs);
        CHECK(a.stage[k].best_epoch == ref.stage[k].best_epoch);
      }
      ract_trainer_free(&a);
    }
    ract_trainer_free(&ref);
  }
}

TEST_CASE("resume: other data is refused") {
  Fixture fx("paper");
  fx.cfg.stage_epochs[0] = 1;
  fx.cfg.stage_epochs[1] = 0;
  fx.cfg.stage_epochs[2] = 0;
  ract_error err;
  ract_trainer a;
  REQUIRE(ract_trainer_create(&a, &fx.cfg, &fx.ds, nullptr, 0, &err) == RACT_OK);
  REQUIRE(ract_trainer_run(&a, nullptr, &err) == RACT_OK);
  std::string path = tmp_path("other.ckpt");
  REQUIRE(ract_export_checkpoint(path.c_str(), &a, nullptr, 0, &err) == RACT_OK);
  ract_trainer_free(&a);
  // The same file split with another seed: same shape, other rows.
  static std::string data = planted_file();
  ract_data_options o = ract_data_options_default();
  o.data = data.c_str();
  o.load.format = RACT_FORMAT_TSV;
  o.seed = 8;
  ract_dataset other;
  REQUIRE(ract_dataset_load(&other, &o, &err) == RACT_OK);
  REQUIRE(ract_trainer_create(&a, &fx.cfg, &other, nullptr, 0, &err) == RACT_OK);
  CHECK(ract_export_restore(&a, path.c_str(), 1, nullptr, &err) == RACT_ERR_DATA);
  CHECK(std::string(err.msg).find("other data") != std::string::npos);
  ract_trainer_free(&a);
  ract_dataset_free(&other);
}
