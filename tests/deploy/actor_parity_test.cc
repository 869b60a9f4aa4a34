// The scorer against the trainer's own evaluation forward (ract_actor_full_sort_predict)
// on actors exported with ract/deploy/export.h: both presets, one and two hidden layers.
// fp32 logits agree within 1e-5; fp16/int8 files keep the ranking close.
#include <doctest/doctest.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <string>
#include <vector>

#include "ract/core/arena.h"
#include "ract/core/rng.h"
#include "ract/deploy/model_file.h"
#include "ract/deploy/model_file_write.h"
#include "ract/model/actor.h"
#include "ract/ract.h"
#include "tests/deploy/actor_export.h"

namespace {

struct Case {
  const char* preset;
  std::vector<int> hidden;
};

}  // namespace

TEST_CASE("export: the fp32 scorer equals ract_actor_full_sort_predict within 1e-5") {
  const int I = 257, B = 6;
  // Histories (distinct items per row), as a CSR batch.
  std::vector<std::vector<int32_t>> hist = {
      {0}, {1, 50, 172}, {3, 4, 5, 6, 7, 8, 9, 10, 11, 200, 256}, {}, {100, 99}, {255}};
  std::vector<int64_t> ptr = {0};
  std::vector<int32_t> idx;
  for (auto& h : hist) {
    idx.insert(idx.end(), h.begin(), h.end());
    ptr.push_back((int64_t)idx.size());
  }
  ract_sparse x = {B, I, ptr.data(), idx.data(), nullptr};
  const char* tmp = getenv("TEST_TMPDIR");
  std::string dir = tmp ? tmp : "/tmp";

  for (const Case& c : {Case{"recbole", {40}}, Case{"paper", {40}}, Case{"paper", {30, 20}},
                        Case{"recbole", {24, 16}}}) {
    CAPTURE(c.preset);
    CAPTURE(c.hidden.size());
    ract_hparams cfg;
    REQUIRE(ract_hparams_preset(&cfg, c.preset, nullptr) == RACT_OK);
    cfg.n_hidden = (int)c.hidden.size();
    for (size_t j = 0; j < c.hidden.size(); j++) cfg.mlp_hidden_size[j] = c.hidden[j];
    cfg.latent_dimension = 16;
    ract_arena arena;
    REQUIRE(ract_arena_create(
                &arena,
                ract_actor_bytes(&cfg, I) + ract_actor_acts_bytes(&cfg, I, B, 64) + (1 << 16),
                nullptr) == RACT_OK);
    ract_actor a;
    ract_error err{};
    REQUIRE(ract_actor_create(&a, &cfg, I, &arena, &err) == RACT_OK);
    ract_rng rng;
    ract_rng_seed(&rng, 3, 0);
    ract_actor_init_params(&a, &rng);
    // Non-zero biases (both inits may start them at or near zero) so they are tested too.
    for (size_t i = 0; i < a.w.n; i++) a.w.params[i] += 0.05f * (float)ract_rng_normal(&rng);
    ract_actor_acts acts;
    REQUIRE(ract_actor_acts_create(&acts, &a, B, 64, &arena, &err) == RACT_OK);
    REQUIRE(ract_actor_full_sort_predict(&a, &acts, x, acts.logits, &err) == RACT_OK);

    std::vector<std::string> toks;
    std::vector<const char*> tp;
    for (int i = 0; i < I; i++) toks.push_back("item" + std::to_string(i));
    for (auto& t : toks) tp.push_back(t.c_str());
    ract_file_kv meta[] = {{"dataset", "parity"}};
    std::string path = dir + "/actor_" + c.preset + std::to_string(c.hidden.size()) + ".ract";
    for (ract_file_dtype dt : {RACT_FILE_F32, RACT_FILE_F16, RACT_FILE_I8}) {
      CAPTURE(ract_file_dtype_name(dt));
      REQUIRE(fixture_export_inference(
                  path.c_str(), &a,
                  strcmp(c.preset, "paper") == 0 ? RACT_PRESET_PAPER : RACT_PRESET_RECBOLE,
                  tp.data(), meta, 1, dt, &err) == RACT_OK);
      void* blob = nullptr;
      size_t len = 0;
      REQUIRE(ract_file_read(path.c_str(), &blob, &len, &err) == RACT_OK);
      ract_model w;
      REQUIRE(ract_model_load(&w, blob, len, &err) == RACT_OK);
      CHECK(w.input_scale == ract_hparams_eval_scale(&cfg));
      CHECK(w.latent == a.latent);
      std::vector<uint8_t> sa(ract_scorer_arena_bytes(&w));
      ract_scorer s;
      REQUIRE(ract_scorer_init(&s, &w, sa.data(), sa.size(), &err) == RACT_OK);
      double worst = 0, spread = 0;
      int top1_same = 0;
      for (int b = 0; b < B; b++) {
        std::vector<float> got(I);
        REQUIRE(ract_scorer_set_history(&s, hist[b].data(), (int)hist[b].size(), nullptr,
                                        nullptr) == RACT_OK);
        REQUIRE(ract_scorer_full_sort_predict(&s, got.data(), nullptr) == RACT_OK);
        const float* want = acts.logits + (size_t)b * I;
        int best_got = 0, best_want = 0;
        for (int i = 0; i < I; i++) {
          worst = fmax(worst, fabs((double)got[i] - want[i]));
          spread = fmax(spread, fabs((double)want[i]));
          if (got[i] > got[best_got]) best_got = i;
          if (want[i] > want[best_want]) best_want = i;
        }
        top1_same += best_got == best_want;
      }
      MESSAGE(std::string(c.preset)
              << " k=" << c.hidden.size() << " " << std::string(ract_file_dtype_name(dt))
              << ": max |scorer - actor| = " << worst << " (logits up to " << spread << ")");
      if (dt == RACT_FILE_F32) {
        CHECK(worst <= 1e-5);
        CHECK(top1_same == B);
      } else {
        CHECK(worst <= (dt == RACT_FILE_F16 ? 2e-3 : 3e-2) * spread);
      }
      free(blob);
    }
    ract_arena_free(&arena);
  }
}

TEST_CASE("export: checkpoint tensors with a prefix, and names that do not fit") {
  ract_hparams cfg;
  REQUIRE(ract_hparams_preset(&cfg, "recbole", nullptr) == RACT_OK);
  cfg.mlp_hidden_size[0] = 8;
  cfg.latent_dimension = 4;
  ract_arena arena;
  REQUIRE(ract_arena_create(&arena, ract_actor_bytes(&cfg, 10) + 4096, nullptr) == RACT_OK);
  ract_actor a;
  REQUIRE(ract_actor_create(&a, &cfg, 10, &arena, nullptr) == RACT_OK);
  fixture_export_tensors ex;
  REQUIRE(fixture_export_actor_tensors(&ex, &a, a.w.m, RACT_FILE_CHECKPOINT, "adam.m.", nullptr) ==
          RACT_OK);
  REQUIRE(ex.n == 8);
  CHECK(std::string(ex.t[2].name) == "adam.m.enc.head.w");
  CHECK(ex.t[2].dims[0] == 4);  // 2L, L = 2
  CHECK(ex.t[2].dims[1] == 8);
  CHECK(ex.t[3].n_dims == 1);
  CHECK(ex.t[0].data == a.w.m);
  fixture_export_tensors inf;
  REQUIRE(fixture_export_actor_tensors(&inf, &a, a.w.params, RACT_FILE_INFERENCE, nullptr,
                                       nullptr) == RACT_OK);
  CHECK(std::string(inf.t[2].name) == "mu.w");
  CHECK(inf.t[2].dims[0] == 2);
  ract_error err{};
  std::string longp(60, 'p');
  CHECK(fixture_export_actor_tensors(&ex, &a, a.w.m, RACT_FILE_CHECKPOINT, longp.c_str(), &err) ==
        RACT_ERR_ARG);
  ract_arena_free(&arena);
}
