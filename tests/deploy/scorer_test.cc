// The scorer (ract/ract.h) against the plain-loop reference forward of fixture.cc, for
// every dtype; top-K, predict and full sort agree; unknown ids; arena sizing; threads.
#include <doctest/doctest.h>
#include <math.h>
#include <string.h>

#include <string>
#include <thread>
#include <vector>

#include "ract/math/topk_row.h"
#include "ract/ract.h"
#include "tests/deploy/fixture.h"

using fixture::Blob;

namespace {

struct Loaded {
  Blob blob;
  ract_model model{};
  std::vector<uint8_t> arena;
  ract_scorer scorer{};
};

void load(Loaded* L, Blob blob) {
  L->blob = std::move(blob);
  ract_error err{};
  ract_status s = ract_model_load(&L->model, L->blob.data(), L->blob.size, &err);
  INFO(err.msg);
  REQUIRE(s == RACT_OK);
  L->arena.assign(ract_scorer_arena_bytes(&L->model), 0);
  s = ract_scorer_init(&L->scorer, &L->model, L->arena.data(), L->arena.size(), &err);
  INFO(err.msg);
  REQUIRE(s == RACT_OK);
}

std::vector<float> full_scores(ract_scorer* s, const std::vector<int32_t>& hist, int* unknown) {
  REQUIRE(ract_scorer_set_history(s, hist.data(), (int)hist.size(), unknown, nullptr) == RACT_OK);
  std::vector<float> out(s->model->n_items);
  REQUIRE(ract_scorer_full_sort_predict(s, out.data(), nullptr) == RACT_OK);
  return out;
}

double max_abs_diff(const std::vector<float>& a, const std::vector<double>& b) {
  REQUIRE(a.size() == b.size());
  double m = 0;
  for (size_t i = 0; i < a.size(); i++) m = fmax(m, fabs((double)a[i] - b[i]));
  return m;
}

const std::vector<std::vector<int32_t>> kHistories = {
    {0}, {1, 50, 172}, {5, 5, 9, 200, 3, 77}, {}, {12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22}};

}  // namespace

TEST_CASE("scorer: fp32 equals the reference forward, one and two hidden layers") {
  for (auto hidden : {std::vector<int>{24}, std::vector<int>{20, 12}}) {
    fixture::Model m = fixture::make_model(251, hidden, 7, 0.5f, RACT_FILE_INFERENCE, 11);
    Loaded L;
    load(&L, fixture::write(m, RACT_FILE_INFERENCE, RACT_FILE_F32));
    auto w = fixture::weights_of(m);
    for (const auto& h : kHistories) {
      auto ref = fixture::reference_scores(m.dims, w, h);
      auto got = full_scores(&L.scorer, h, nullptr);
      double d = max_abs_diff(got, ref);
      CAPTURE(h.size());
      CHECK(d <= 1e-5);
    }
  }
}

TEST_CASE("scorer: fp16 and int8 equal the reference on their dequantised weights") {
  fixture::Model m = fixture::make_model(300, {32}, 8, 1.0f, RACT_FILE_INFERENCE, 12);
  auto w32 = fixture::weights_of(m);
  for (ract_file_dtype dt : {RACT_FILE_F16, RACT_FILE_I8}) {
    CAPTURE(ract_file_dtype_name(dt));
    Loaded L;
    load(&L, fixture::write(m, RACT_FILE_INFERENCE, dt));
    CHECK(L.model.dtype == dt);
    ract_file f;
    REQUIRE(ract_file_open(&f, L.blob.data(), L.blob.size, nullptr) == RACT_OK);
    auto wq = fixture::weights_of(f);
    for (const auto& h : kHistories) {
      auto got = full_scores(&L.scorer, h, nullptr);
      // Same weights as the scorer sees: only float rounding differs for fp16. int8 also
      // quantises the output layer's input to int8 (per-vector scale, max|x|/127): each logit
      // moves by at most sum_c |w_c| * max|x| / 254, well under 1% of the logits' spread.
      auto refq = fixture::reference_scores(m.dims, wq, h);
      double spread_q = 0;
      for (double v : refq) spread_q = fmax(spread_q, fabs(v));
      CHECK(max_abs_diff(got, refq) <= (dt == RACT_FILE_I8 ? 1e-2 * spread_q : 1e-5));
      // Against the fp32 model: the quantisation error, relative to the logits' spread.
      auto ref32 = fixture::reference_scores(m.dims, w32, h);
      double spread = 0;
      for (double v : ref32) spread = fmax(spread, fabs(v));
      double tol = dt == RACT_FILE_F16 ? 2e-3 : 4e-2;
      CHECK(max_abs_diff(got, ref32) <= tol * spread);
    }
  }
}

TEST_CASE("scorer: top-K equals the reference top-K with the history masked, every dtype") {
  fixture::Model m = fixture::make_model(211, {16}, 5, 0.5f, RACT_FILE_INFERENCE, 13);
  for (ract_file_dtype dt : {RACT_FILE_F32, RACT_FILE_F16, RACT_FILE_I8}) {
    CAPTURE(ract_file_dtype_name(dt));
    Loaded L;
    load(&L, fixture::write(m, RACT_FILE_INFERENCE, dt));
    ract_file f;
    REQUIRE(ract_file_open(&f, L.blob.data(), L.blob.size, nullptr) == RACT_OK);
    auto w = fixture::weights_of(f);
    for (const auto& h : kHistories) {
      for (int k : {1, 10, 64, 65, 250}) {
        auto ref = fixture::reference_scores(m.dims, w, h);
        auto want = fixture::reference_topk(ref, h, k);
        // int8: the activation quantisation of the output layer (see above).
        double tol = 1e-5;
        if (dt == RACT_FILE_I8) {
          double spread = 0;
          for (double v : ref) spread = fmax(spread, fabs(v));
          tol = 1e-2 * spread;
        }
        std::vector<int32_t> items(k);
        std::vector<float> scores(k);
        int n = -1;
        REQUIRE(ract_scorer_set_history(&L.scorer, h.data(), (int)h.size(), nullptr, nullptr) ==
                RACT_OK);
        REQUIRE(ract_scorer_topk(&L.scorer, k, 1, items.data(), scores.data(), &n, nullptr) ==
                RACT_OK);
        REQUIRE(n == (int)want.size());
        for (int j = 0; j < n; j++) {
          CAPTURE(j);
          // Same item, or a near-tie the float rounding may order differently.
          if (items[j] != want[j]) CHECK(fabs(ref[items[j]] - ref[want[j]]) <= 2 * tol);
          CHECK(fabs(scores[j] - ref[items[j]]) <= tol);
          for (int32_t i : h) CHECK(items[j] != i);
        }
        // Top-K over the stored full scores gives the same items and bit-equal scores.
        std::vector<float> full(m.dims.n_items);
        REQUIRE(ract_scorer_full_sort_predict(&L.scorer, full.data(), nullptr) == RACT_OK);
        for (int32_t i : h) full[i] = -INFINITY;
        std::vector<int> idx2(k);
        std::vector<float> val2(k);
        int n2 = ract_topk_row(full.data(), m.dims.n_items, k, idx2.data(), val2.data());
        REQUIRE(n2 >= n);
        for (int j = 0; j < n; j++) {
          CHECK(items[j] == idx2[j]);
          CHECK(scores[j] == val2[j]);
        }
      }
    }
  }
}

TEST_CASE("scorer: predict gives the full-sort scores of the asked items; bad index is an error") {
  fixture::Model m = fixture::make_model(100, {12}, 4, 0.5f, RACT_FILE_INFERENCE, 14);
  Loaded L;
  load(&L, fixture::write(m, RACT_FILE_INFERENCE, RACT_FILE_I8));
  auto full = full_scores(&L.scorer, {3, 4, 99}, nullptr);
  std::vector<int32_t> ask = {0, 99, 4, 4, 57};
  std::vector<float> got(ask.size());
  REQUIRE(ract_scorer_predict(&L.scorer, ask.data(), (int)ask.size(), got.data(), nullptr) ==
          RACT_OK);
  for (size_t j = 0; j < ask.size(); j++) CHECK(got[j] == full[ask[j]]);
  ract_error err{};
  std::vector<int32_t> bad = {1, 100};
  CHECK(ract_scorer_predict(&L.scorer, bad.data(), 2, got.data(), &err) == RACT_ERR_ARG);
  CHECK(std::string(err.msg).find("100") != std::string::npos);
}

TEST_CASE("scorer: unknown ids are skipped and counted; duplicates count once; tokens") {
  fixture::Model m = fixture::make_model(60, {10}, 3, 0.5f, RACT_FILE_INFERENCE, 15);
  Loaded L;
  load(&L, fixture::write(m, RACT_FILE_INFERENCE, RACT_FILE_F32));
  int unknown = -1;
  auto clean = full_scores(&L.scorer, {2, 7, 30}, &unknown);
  CHECK(unknown == 0);
  CHECK(L.scorer.n_history == 3);
  auto noisy = full_scores(&L.scorer, {-1, 2, 60, 7, 7, 1000000, 30, 2}, &unknown);
  CHECK(unknown == 3);
  CHECK(L.scorer.n_history == 3);
  CHECK(noisy == clean);
  // The same history by the app's tokens: item i is token "3i+1".
  const char* toks[] = {"7", "nope", "22", "", "91", "7", "22 "};
  REQUIRE(ract_scorer_set_history_tokens(&L.scorer, toks, 7, &unknown, nullptr) == RACT_OK);
  CHECK(unknown == 3);
  std::vector<float> by_token(60);
  REQUIRE(ract_scorer_full_sort_predict(&L.scorer, by_token.data(), nullptr) == RACT_OK);
  CHECK(by_token == clean);
  // Look-ups both ways.
  CHECK(ract_model_n_items(&L.model) == 60);
  for (int32_t i = 0; i < 60; i++) {
    std::string t = std::to_string(3 * i + 1);
    CHECK(std::string(ract_model_item_token(&L.model, i)) == t);
    CHECK(ract_model_item_index(&L.model, t.c_str()) == i);
  }
  CHECK(ract_model_item_index_n(&L.model, "1000", 2) == 3);  // "10" = item 3
  CHECK(ract_model_item_index(&L.model, "2") == -1);
  CHECK(ract_model_item_index(&L.model, "") == -1);
  CHECK(ract_model_item_token(&L.model, 60) == nullptr);
  CHECK(ract_model_item_token(&L.model, -1) == nullptr);
  CHECK(std::string(ract_model_meta(&L.model, "dataset")) == "synthetic");
  CHECK(ract_model_meta(&L.model, "nope") == nullptr);
}

TEST_CASE("scorer: a history must be set first; k = 0, k > items, no mask") {
  fixture::Model m = fixture::make_model(20, {6}, 2, 1.0f, RACT_FILE_INFERENCE, 16);
  Loaded L;
  load(&L, fixture::write(m, RACT_FILE_INFERENCE, RACT_FILE_F32));
  std::vector<float> s(20);
  int32_t items[40];
  float scores[40];
  int n = -1;
  ract_error err{};
  CHECK(ract_scorer_full_sort_predict(&L.scorer, s.data(), &err) == RACT_ERR_ARG);
  CHECK(ract_scorer_topk(&L.scorer, 5, 1, items, scores, &n, nullptr) == RACT_ERR_ARG);
  int32_t h[] = {1, 2, 3};
  REQUIRE(ract_scorer_set_history(&L.scorer, h, 3, nullptr, nullptr) == RACT_OK);
  CHECK(ract_scorer_topk(&L.scorer, 0, 1, nullptr, nullptr, &n, nullptr) == RACT_OK);
  CHECK(n == 0);
  CHECK(ract_scorer_topk(&L.scorer, -1, 1, items, scores, &n, nullptr) == RACT_ERR_ARG);
  CHECK(ract_scorer_topk(&L.scorer, 40, 1, items, scores, &n, nullptr) == RACT_OK);
  CHECK(n == 17);
  CHECK(ract_scorer_topk(&L.scorer, 40, 0, items, scores, &n, nullptr) == RACT_OK);
  CHECK(n == 20);
  for (int j = 1; j < n; j++) CHECK(scores[j - 1] >= scores[j]);
}

TEST_CASE("scorer: the arena size query is exact enough and checked, any alignment") {
  fixture::Model m = fixture::make_model(77, {9, 5}, 3, 0.5f, RACT_FILE_INFERENCE, 17);
  Blob b = fixture::write(m, RACT_FILE_INFERENCE, RACT_FILE_F16);
  ract_model model;
  REQUIRE(ract_model_load(&model, b.data(), b.size, nullptr) == RACT_OK);
  size_t need = ract_scorer_arena_bytes(&model);
  CHECK(need > 0);
  std::vector<uint8_t> arena(need + 64);
  ract_scorer s;
  ract_error err{};
  for (size_t shift = 0; shift < 64; shift += 7) {
    CHECK(ract_scorer_init(&s, &model, arena.data() + shift, need, &err) == RACT_OK);
  }
  CHECK(ract_scorer_init(&s, &model, arena.data(), need - 64 - 1, &err) == RACT_ERR_NOMEM);
  CHECK(std::string(err.msg).find(std::to_string(need)) != std::string::npos);
  CHECK(ract_scorer_init(&s, &model, nullptr, 100, &err) == RACT_ERR_ARG);
}

TEST_CASE("scorer: state stays in its arena slice, outputs in their slots, the blob unchanged") {
  // The arena slice [3 + kPad, 3 + kPad + need) of a bigger buffer whose other bytes hold a
  // position-dependent canary; the output arrays carry canary slots past what the call may
  // write. The slice itself starts as 0xFF bytes (NaN as floats): the results must equal
  // those of a scorer on a zeroed arena, so nothing is read before it is written.
  const size_t kPad = 256;
  const int kGuard = 16;
  auto canary = [](size_t i) { return (uint8_t)(0x5A ^ (i * 131) ^ (i >> 8)); };
  fixture::Model m = fixture::make_model(77, {9, 5}, 3, 0.5f, RACT_FILE_INFERENCE, 17);
  for (ract_file_dtype dt : {RACT_FILE_F32, RACT_FILE_F16, RACT_FILE_I8}) {
    CAPTURE(ract_file_dtype_name(dt));
    Blob b = fixture::write(m, RACT_FILE_INFERENCE, dt);
    const std::vector<uint8_t> blob_before(b.data(), b.data() + b.size);
    ract_model model;
    REQUIRE(ract_model_load(&model, b.data(), b.size, nullptr) == RACT_OK);
    const size_t need = ract_scorer_arena_bytes(&model);
    const size_t lo = kPad + 3, hi = lo + need;
    std::vector<uint8_t> buf(hi + kPad);
    for (size_t i = 0; i < buf.size(); i++) buf[i] = canary(i);
    memset(buf.data() + lo, 0xFF, need);
    ract_scorer s;
    REQUIRE(ract_scorer_init(&s, &model, buf.data() + lo, need, nullptr) == RACT_OK);
    // Every piece of state the scorer laid out lies inside the slice.
    auto inside = [&](const void* p, size_t bytes) {
      const uint8_t* q = (const uint8_t*)p;
      return q >= buf.data() + lo && q + bytes <= buf.data() + hi;
    };
    CHECK(inside(s.history_bits, sizeof(uint32_t) * ((77 + 31) / 32)));
    for (int j = 0; j < model.n_hidden; j++) {
      CHECK(inside(s.enc_act[j], sizeof(float) * model.hidden[j]));
      CHECK(inside(s.dec_act[j], sizeof(float) * model.hidden[model.n_hidden - 1 - j]));
    }
    CHECK(inside(s.mu, sizeof(float) * model.latent));
    CHECK(inside(s.block, sizeof(float) * RACT_SCORER_BLOCK));

    // The same calls on a second scorer with a zeroed arena give the reference answers.
    std::vector<uint8_t> zero(need, 0);
    ract_scorer z;
    REQUIRE(ract_scorer_init(&z, &model, zero.data(), need, nullptr) == RACT_OK);

    const int32_t h[] = {4, 8, 60, 8};
    const char* const toks[] = {"13", "181", "nope"};  // items 4 and 60 (token 3i + 1)
    const int32_t pick[] = {0, 13, 76};
    const int k = 10;
    for (int round = 0; round < 2; round++) {
      CAPTURE(round);
      ract_scorer* both[2] = {&s, &z};
      std::vector<int32_t> items[2];
      std::vector<float> scores[2], pred[2], full[2];
      for (int w = 0; w < 2; w++) {
        int unknown = -1;
        if (round == 0) {
          REQUIRE(ract_scorer_set_history(both[w], h, 4, &unknown, nullptr) == RACT_OK);
        } else {
          REQUIRE(ract_scorer_set_history_tokens(both[w], toks, 3, &unknown, nullptr) == RACT_OK);
        }
        CHECK(unknown == round);
        items[w].assign(k + kGuard, -7);
        scores[w].assign(k + kGuard, -7.0f);
        pred[w].assign(3 + kGuard, -7.0f);
        full[w].assign(77 + kGuard, -7.0f);
        int n = 0;
        REQUIRE(ract_scorer_topk(both[w], k, 1, items[w].data(), scores[w].data(), &n, nullptr) ==
                RACT_OK);
        CHECK(n == k);
        REQUIRE(ract_scorer_predict(both[w], pick, 3, pred[w].data(), nullptr) == RACT_OK);
        REQUIRE(ract_scorer_full_sort_predict(both[w], full[w].data(), nullptr) == RACT_OK);
        for (int g = 0; g < kGuard; g++) {
          CHECK(items[w][k + g] == -7);
          CHECK(scores[w][k + g] == -7.0f);
          CHECK(pred[w][3 + g] == -7.0f);
          CHECK(full[w][77 + g] == -7.0f);
        }
      }
      CHECK(items[0] == items[1]);
      CHECK(memcmp(scores[0].data(), scores[1].data(), sizeof(float) * k) == 0);
      CHECK(memcmp(pred[0].data(), pred[1].data(), sizeof(float) * 3) == 0);
      CHECK(memcmp(full[0].data(), full[1].data(), sizeof(float) * 77) == 0);
    }

    size_t bad = 0;
    for (size_t i = 0; i < buf.size(); i++) {
      if ((i < lo || i >= hi) && buf[i] != canary(i)) bad++;
    }
    CHECK_MESSAGE(bad == 0, bad << " canary bytes around the arena slice were written");
    CHECK(std::vector<uint8_t>(b.data(), b.data() + b.size) == blob_before);
  }
}

TEST_CASE("scorer: a checkpoint is refused with RACT_ERR_FILE_KIND") {
  fixture::Model m = fixture::make_model(30, {8}, 3, 0.5f, RACT_FILE_CHECKPOINT, 18);
  Blob b = fixture::write(m, RACT_FILE_CHECKPOINT, RACT_FILE_F32);
  ract_model model;
  ract_error err{};
  CHECK(ract_model_load(&model, b.data(), b.size, &err) == RACT_ERR_FILE_KIND);
  CHECK(std::string(err.msg).find("checkpoint") != std::string::npos);
}

TEST_CASE("scorer: one shared model, one scorer and arena per thread, same answers") {
  fixture::Model m = fixture::make_model(500, {40}, 10, 0.5f, RACT_FILE_INFERENCE, 19);
  Blob b = fixture::write(m, RACT_FILE_INFERENCE, RACT_FILE_I8);
  ract_model model;
  REQUIRE(ract_model_load(&model, b.data(), b.size, nullptr) == RACT_OK);
  auto run = [&](int user, std::vector<int32_t>* out) {
    std::vector<uint8_t> arena(ract_scorer_arena_bytes(&model));
    ract_scorer s;
    if (ract_scorer_init(&s, &model, arena.data(), arena.size(), nullptr) != RACT_OK) return;
    for (int rep = 0; rep < 50; rep++) {
      int32_t h[3] = {user, (user * 7 + rep) % 500, (user * 13) % 500};
      int32_t items[10];
      float scores[10];
      int n = 0;
      ract_scorer_set_history(&s, h, 3, nullptr, nullptr);
      ract_scorer_topk(&s, 10, 1, items, scores, &n, nullptr);
      out->insert(out->end(), items, items + n);
    }
  };
  std::vector<int32_t> serial[4], parallel[4];
  for (int t = 0; t < 4; t++) run(t * 31, &serial[t]);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; t++) threads.emplace_back(run, t * 31, &parallel[t]);
  for (auto& th : threads) th.join();
  for (int t = 0; t < 4; t++) {
    CHECK(serial[t].size() == 500);
    CHECK(serial[t] == parallel[t]);
  }
}
