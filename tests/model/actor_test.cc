// The actor: whole-model gradient checks in double (every parameter), forward against
// hand-derived and plain-loop values for each preset, the tensor table, the annealing
// counters, predict/full_sort_predict, error paths, determinism.
#include "ract/model/actor.h"

#include <doctest/doctest.h>
#include <math.h>
#include <string.h>

#include <vector>

#include "ract/model/hparams.h"
#include "ract/train/adam.h"
#include "tests/model/model_test_util.h"

namespace {

ract_hparams tiny_config(const char* preset, bool deep) {
  ract_hparams c;
  REQUIRE(ract_hparams_preset(&c, preset, nullptr) == RACT_OK);
  c.n_hidden = deep ? 2 : 1;
  c.mlp_hidden_size[0] = 5;
  c.mlp_hidden_size[1] = 4;
  c.latent_dimension = c.head == RACT_HEAD_SPLIT ? 6 : 3;  // L = 3 either way
  c.n_critic_layers = 2;
  c.critic_layers[0] = 4;
  c.critic_layers[1] = 3;
  c.metrics_k = 3;
  c.total_anneal_steps = 10;
  return c;
}

// Plain-loop forward of one user from the named tensors (dense maths, no ops). The model
// stores its input values t in float, hence the 1e-7 tolerances against these references.
std::vector<double> ref_logits(const ract_actor_t<double>& a, const TinyBatch& tb, int b,
                               const uint8_t* keep, const double* eps) {
  const ract_hparams& c = a.cfg;
  const int I = a.n_items, L = a.latent, k = c.n_hidden;
  const int* h = c.mlp_hidden_size;
  const int64_t n = tb.ptr[b + 1] - tb.ptr[b];
  double s;
  if (!keep) {
    s = c.dropout_style == RACT_DROPOUT_KEEP ? 1.0 - c.dropout_prob : 1.0;
  } else {
    s = c.dropout_style == RACT_DROPOUT_KEEP ? 1.0 : 1.0 / (1.0 - c.dropout_prob);
  }
  std::vector<double> x(I, 0.0);
  for (int64_t e = tb.ptr[b]; e < tb.ptr[b + 1]; e++) {
    if (!keep || keep[e]) x[tb.idx[e]] = s / sqrt((double)n);
  }
  std::vector<double> cur(h[0]);
  for (int j = 0; j < h[0]; j++) {
    double v = a.p.enc_b[0][j];
    for (int i = 0; i < I; i++) v += x[i] * a.p.enc_w[0][i * h[0] + j];
    cur[j] = tanh(v);
  }
  for (int l = 1; l < k; l++) {
    std::vector<double> nx(h[l]);
    for (int o = 0; o < h[l]; o++) {
      double v = a.p.enc_b[l][o];
      for (int i = 0; i < h[l - 1]; i++) v += a.p.enc_w[l][o * h[l - 1] + i] * cur[i];
      nx[o] = tanh(v);
    }
    cur = nx;
  }
  std::vector<double> head(2 * L);
  for (int o = 0; o < 2 * L; o++) {
    double v = a.p.head_b[o];
    for (int i = 0; i < h[k - 1]; i++) v += a.p.head_w[o * h[k - 1] + i] * cur[i];
    head[o] = v;
  }
  std::vector<double> z(L);
  for (int j = 0; j < L; j++) z[j] = head[j] + (eps ? eps[b * L + j] * exp(0.5 * head[L + j]) : 0);
  cur = z;
  int din = L;
  for (int l = 0; l < k; l++) {
    const int dout = h[k - 1 - l];
    std::vector<double> nx(dout);
    for (int o = 0; o < dout; o++) {
      double v = a.p.dec_b[l][o];
      for (int i = 0; i < din; i++) v += a.p.dec_w[l][o * din + i] * cur[i];
      nx[o] = tanh(v);
    }
    cur = nx;
    din = dout;
  }
  std::vector<double> out(I);
  for (int i = 0; i < I; i++) {
    double v = a.p.out_b[i];
    for (int j = 0; j < h[0]; j++) v += a.p.out_w[i * h[0] + j] * cur[j];
    out[i] = v;
  }
  return out;
}

// Randomises every parameter (biases too, so bias gradients are exercised).
template <typename T>
void randomise(ract_actor_t<T>* a, uint64_t seed) {
  ract_rng r;
  ract_rng_seed(&r, seed, 0);
  for (size_t i = 0; i < a->w.n; i++) a->w.params[i] = (T)(0.6 * ract_rng_normal(&r));
}

}  // namespace

TEST_CASE("actor: presets and config checks") {
  ract_hparams c;
  REQUIRE(ract_hparams_preset(&c, "recbole", nullptr) == RACT_OK);
  CHECK(c.mlp_hidden_size[0] == 600);
  CHECK(c.latent_dimension == 256);
  CHECK(ract_hparams_latent(&c) == 128);
  CHECK(ract_hparams_eval_scale(&c) == 0.5f);
  CHECK(c.eps_std == 0.01f);
  CHECK(c.critic_loss_with_kl == 1);
  CHECK(c.bn_mode == RACT_BN_BATCH);
  CHECK(c.ndcg_gain_sqrt == 1);
  REQUIRE(ract_hparams_preset(&c, "paper", nullptr) == RACT_OK);
  CHECK(ract_hparams_latent(&c) == 200);
  CHECK(ract_hparams_eval_scale(&c) == 1.0f);
  CHECK(c.eps_std == 1.0f);
  CHECK(c.critic_l2 == 1e-4f);
  CHECK(c.critic_layers[2] == 10);
  ract_error e;
  CHECK(ract_hparams_preset(&c, "tf", &e) == RACT_ERR_ARG);
  CHECK(strstr(e.msg, "tf") != nullptr);
  REQUIRE(ract_hparams_preset(&c, "recbole", nullptr) == RACT_OK);
  c.latent_dimension = 7;
  CHECK(ract_hparams_check(&c, &e) == RACT_ERR_ARG);
  CHECK(strstr(e.msg, "latent_dimension") != nullptr);
  c.latent_dimension = 8;
  c.dropout_prob = 1.0f;
  CHECK(ract_hparams_check(&c, &e) == RACT_ERR_ARG);
  CHECK(strstr(e.msg, "dropout_prob") != nullptr);
  c.dropout_prob = 0.5f;
  c.mlp_hidden_size[0] = 0;
  CHECK(ract_hparams_check(&c, &e) == RACT_ERR_ARG);
  CHECK(strstr(e.msg, "mlp_hidden_size[0]") != nullptr);
}

TEST_CASE("actor: annealing counters of both presets") {
  ract_hparams c = tiny_config("recbole", false);  // total 10, cap 0.2
  ract_anneal an = {0};
  ract_anneal_stage_begin(&c, &an);
  CHECK(ract_anneal_next(&c, &an, 1) == doctest::Approx(0.1));  // update += 1 first
  CHECK(ract_anneal_next(&c, &an, 0) == doctest::Approx(0.2));  // every loss evaluation counts
  CHECK(ract_anneal_next(&c, &an, 1) == doctest::Approx(0.2));  // capped
  CHECK(an.steps == 3);
  ract_anneal_stage_begin(&c, &an);  // restarts in every stage
  CHECK(an.steps == 0);
  CHECK(ract_anneal_next(&c, &an, 0) == doctest::Approx(0.1));

  ract_hparams p = tiny_config("paper", false);
  ract_anneal ap = {0};
  ract_anneal_stage_begin(&p, &ap);
  CHECK(ract_anneal_next(&p, &ap, 1) == 0.0f);  // beta(steps), then count the batch
  CHECK(ract_anneal_next(&p, &ap, 1) == doctest::Approx(0.1));
  CHECK(ract_anneal_next(&p, &ap, 0) == doctest::Approx(0.2));  // not an actor batch
  CHECK(ap.steps == 2);
  ract_anneal_stage_begin(&p, &ap);  // never reset
  CHECK(ap.steps == 2);
  p.total_anneal_steps = 0;
  CHECK(ract_anneal_beta_at(&p, 5) == 0.2f);
  p.total_anneal_steps = 200000;
  CHECK(ract_anneal_beta_at(&p, 20000) == doctest::Approx(0.1));
}

TEST_CASE("actor: tensor table follows ract/deploy/FORMAT.md") {
  for (int deep = 0; deep < 2; deep++) {
    ract_hparams c = tiny_config("recbole", deep);
    OwnedArena ar(ract_actor_bytes(&c, 7));
    ract_actor a;
    REQUIRE(ract_actor_create(&a, &c, 7, &ar.a, nullptr) == RACT_OK);
    const int n = a.w.table.n;
    CHECK(n == (deep ? 12 : 8));
    struct {
      const char* name;
      int rows, cols;
    } want1[] = {{"enc.0.w", 7, 5}, {"enc.0.b", 5, 1}, {"enc.head.w", 6, 5}, {"enc.head.b", 6, 1},
                 {"dec.0.w", 5, 3}, {"dec.0.b", 5, 1}, {"dec.out.w", 7, 5},  {"dec.out.b", 7, 1}},
      want2[] = {{"enc.0.w", 7, 5}, {"enc.0.b", 5, 1},    {"enc.1.w", 4, 5},
                 {"enc.1.b", 4, 1}, {"enc.head.w", 6, 4}, {"enc.head.b", 6, 1},
                 {"dec.0.w", 4, 3}, {"dec.0.b", 4, 1},    {"dec.1.w", 5, 4},
                 {"dec.1.b", 5, 1}, {"dec.out.w", 7, 5},  {"dec.out.b", 7, 1}};
    size_t end = 0;
    for (int i = 0; i < n; i++) {
      ract_param_info info = ract_table_info(&a.w.table, i);
      CHECK(std::string(info.name) == (deep ? want2 : want1)[i].name);
      CHECK(info.rows == (deep ? want2 : want1)[i].rows);
      CHECK(info.cols == (deep ? want2 : want1)[i].cols);
      CHECK(info.offset % 16 == 0);
      CHECK(info.offset >= end);
      end = info.offset + (size_t)info.rows * info.cols;
    }
    CHECK(end <= a.w.n);
    CHECK(a.p.enc_w[0] == a.w.params);
    CHECK(a.p.out_b == a.w.params + ract_table_info(&a.w.table, n - 1).offset);
    CHECK(a.g.out_b == a.w.grads + ract_table_info(&a.w.table, n - 1).offset);
    CHECK(ract_table_info(&a.w.table, n).name[0] == 0);
  }
}

TEST_CASE("actor: forward by hand on a tiny input, both presets") {
  // I = 3, one hidden unit, L = 1. enc.0.w = [1,2,3]^T, head mu = h, logvar = 0,
  // dec.0 = identity, dec.out.w = [1,-1,2]^T, dec.out.b = [0,0,0.5]. History {0, 2}.
  const int64_t ptr[] = {0, 2};
  const int32_t idx[] = {0, 2};
  ract_sparse x = {1, 3, ptr, idx, nullptr};
  for (int paper = 0; paper < 2; paper++) {
    ract_hparams c;
    REQUIRE(ract_hparams_preset(&c, paper ? "paper" : "recbole", nullptr) == RACT_OK);
    c.mlp_hidden_size[0] = 1;
    c.latent_dimension = paper ? 1 : 2;
    OwnedArena ar(1 << 16);
    ract_actor_t<double> a;
    REQUIRE(ract_actor_create(&a, &c, 3, &ar.a, nullptr) == RACT_OK);
    a.p.enc_w[0][0] = 1;
    a.p.enc_w[0][1] = 2;
    a.p.enc_w[0][2] = 3;
    a.p.head_w[0] = 1;  // mu = h; logvar row and all biases stay 0
    a.p.dec_w[0][0] = 1;
    a.p.out_w[0] = 1;
    a.p.out_w[1] = -1;
    a.p.out_w[2] = 2;
    a.p.out_b[2] = 0.5;
    ract_actor_acts_t<double> acts;
    REQUIRE(ract_actor_acts_create(&acts, &a, 1, 2, &ar.a, nullptr) == RACT_OK);
    REQUIRE(ract_actor_full_sort_predict(&a, &acts, x, acts.logits, nullptr) == RACT_OK);
    // recbole: t = 0.5/sqrt(2) per item, h = tanh(4 * 0.5/sqrt(2)) = tanh(sqrt(2));
    // paper: t = 1/sqrt(2), h = tanh(2 sqrt(2)).
    const double hh = tanh(paper ? 2 * sqrt(2.0) : sqrt(2.0));
    const double d = tanh(hh);
    CHECK(acts.head[0] == doctest::Approx(hh).epsilon(1e-7));
    CHECK(acts.logits[0] == doctest::Approx(d).epsilon(1e-7));
    CHECK(acts.logits[1] == doctest::Approx(-d).epsilon(1e-7));
    CHECK(acts.logits[2] == doctest::Approx(2 * d + 0.5).epsilon(1e-7));
    // Loss: CE over items 0 and 2, KL = mu^2 / 2 (logvar = 0).
    const double lse = log(exp(d) + exp(-d) + exp(2 * d + 0.5));
    const double ce = -(d - lse) - (2 * d + 0.5 - lse);
    double mean = ract_actor_loss(&a, &acts, x, acts.logits, 0.2f);
    CHECK(acts.ce[0] == doctest::Approx(ce).epsilon(1e-7));
    CHECK(acts.kl[0] == doctest::Approx(0.5 * hh * hh).epsilon(1e-7));
    CHECK(mean == doctest::Approx(ce + 0.2 * 0.5 * hh * hh).epsilon(1e-6));
    // Train mode with a kept mask {1, 0}: recbole keeps t, paper t / (1 - p) = 2t.
    ract_rng r;
    ract_rng_seed(&r, 1, 0);
    REQUIRE(forward_logits(&a, &acts, x, RACT_MODE_TRAIN, &r, nullptr) == RACT_OK);
    acts.keep[0] = 1;
    acts.keep[1] = 0;
    acts.eps[0] = 0.0;
    REQUIRE(forward_logits(&a, &acts, x, RACT_MODE_TRAIN_REPLAY, nullptr, nullptr) == RACT_OK);
    const double ht = tanh((paper ? 2.0 : 1.0) / sqrt(2.0));
    CHECK(acts.head[0] == doctest::Approx(ht).epsilon(1e-7));
    CHECK(acts.seen[0] == 1);
    CHECK(acts.unseen[0] == 1);
    // eps = 0.5: z = mu + 0.5 * exp(0) = mu + 0.5
    acts.eps[0] = 0.5;
    REQUIRE(forward_logits(&a, &acts, x, RACT_MODE_TRAIN_REPLAY, nullptr, nullptr) == RACT_OK);
    CHECK(acts.z[0] == doctest::Approx(ht + 0.5).epsilon(1e-7));
    CHECK(acts.logits[0] == doctest::Approx(tanh(ht + 0.5)).epsilon(1e-7));
  }
}

TEST_CASE("actor: forward equals a plain-loop reference (both presets, train and eval)") {
  TinyBatch tb;
  ract_sparse x = tb.view();
  for (int paper = 0; paper < 2; paper++) {
    for (int deep = 0; deep < 2; deep++) {
      ract_hparams c = tiny_config(paper ? "paper" : "recbole", deep);
      OwnedArena ar(1 << 20);
      ract_actor_t<double> a;
      REQUIRE(ract_actor_create(&a, &c, 7, &ar.a, nullptr) == RACT_OK);
      randomise(&a, 5 + deep);
      ract_actor_acts_t<double> acts;
      REQUIRE(ract_actor_acts_create(&acts, &a, 4, 13, &ar.a, nullptr) == RACT_OK);
      REQUIRE(ract_actor_full_sort_predict(&a, &acts, x, acts.logits, nullptr) == RACT_OK);
      for (int b = 0; b < 4; b++) {
        std::vector<double> ref = ref_logits(a, tb, b, nullptr, nullptr);
        for (int i = 0; i < 7; i++) {
          CHECK(acts.logits[b * 7 + i] == doctest::Approx(ref[i]).epsilon(1e-7));
        }
      }
      ract_rng r;
      ract_rng_seed(&r, 9, 0);
      REQUIRE(forward_logits(&a, &acts, x, RACT_MODE_TRAIN, &r, nullptr) == RACT_OK);
      memcpy(acts.keep, kTinyKeep, 13);
      REQUIRE(forward_logits(&a, &acts, x, RACT_MODE_TRAIN_REPLAY, nullptr, nullptr) == RACT_OK);
      for (int b = 0; b < 4; b++) {
        std::vector<double> ref = ref_logits(a, tb, b, kTinyKeep, acts.eps);
        for (int i = 0; i < 7; i++) {
          CHECK(acts.logits[b * 7 + i] == doctest::Approx(ref[i]).epsilon(1e-7));
        }
      }
      const double want_seen[] = {2, 2, 2, 2}, want_unseen[] = {1, 0, 2, 2};
      for (int b = 0; b < 4; b++) {
        CHECK(acts.seen[b] == want_seen[b]);
        CHECK(acts.unseen[b] == want_unseen[b]);
      }
    }
  }
}

TEST_CASE("actor: eps std of each preset, dropout rate, float equals double") {
  TinyBatch tb;
  ract_sparse x = tb.view();
  for (int paper = 0; paper < 2; paper++) {
    ract_hparams c = tiny_config(paper ? "paper" : "recbole", false);
    OwnedArena ar(1 << 20);
    ract_actor a;
    REQUIRE(ract_actor_create(&a, &c, 7, &ar.a, nullptr) == RACT_OK);
    ract_rng r;
    ract_rng_seed(&r, 3, 0);
    ract_actor_init_params(&a, &r);
    ract_actor_acts acts;
    REQUIRE(ract_actor_acts_create(&acts, &a, 4, 13, &ar.a, nullptr) == RACT_OK);
    double ss = 0;
    long kept = 0, total = 0;
    for (int it = 0; it < 400; it++) {
      REQUIRE(forward_logits(&a, &acts, x, RACT_MODE_TRAIN, &r, nullptr) == RACT_OK);
      for (int i = 0; i < 12; i++) ss += (double)acts.eps[i] * acts.eps[i];
      for (int e = 0; e < 13; e++) kept += acts.keep[e];
      total += 13;
    }
    CHECK(sqrt(ss / 4800) == doctest::Approx(paper ? 1.0 : 0.01).epsilon(0.06));
    CHECK((double)kept / total == doctest::Approx(0.5).epsilon(0.06));

    // The float model equals the double one with the same weights.
    ract_actor_t<double> d;
    REQUIRE(ract_actor_create(&d, &c, 7, &ar.a, nullptr) == RACT_OK);
    for (size_t i = 0; i < a.w.n; i++) d.w.params[i] = a.w.params[i];
    ract_actor_acts_t<double> dacts;
    REQUIRE(ract_actor_acts_create(&dacts, &d, 4, 13, &ar.a, nullptr) == RACT_OK);
    REQUIRE(ract_actor_full_sort_predict(&a, &acts, x, acts.logits, nullptr) == RACT_OK);
    REQUIRE(ract_actor_full_sort_predict(&d, &dacts, x, dacts.logits, nullptr) == RACT_OK);
    for (int i = 0; i < 28; i++) {
      CHECK(acts.logits[i] == doctest::Approx(dacts.logits[i]).epsilon(1e-5).scale(1));
    }
  }
}

TEST_CASE("actor: loss gradient w.r.t. every parameter (double, mask and eps frozen)") {
  TinyBatch tb;
  ract_sparse x = tb.view();
  for (int paper = 0; paper < 2; paper++) {
    for (int deep = 0; deep < 2; deep++) {
      for (int mode = 0; mode < 2; mode++) {  // 0: train (replay), 1: eval
        CAPTURE(paper);
        CAPTURE(deep);
        CAPTURE(mode);
        ract_hparams c = tiny_config(paper ? "paper" : "recbole", deep);
        c.eps_std = 1.0f;  // make the logvar path visible in recbole too
        OwnedArena ar(1 << 20);
        ract_actor_t<double> a;
        REQUIRE(ract_actor_create(&a, &c, 7, &ar.a, nullptr) == RACT_OK);
        randomise(&a, 11 + paper * 2 + deep);
        ract_actor_acts_t<double> acts;
        REQUIRE(ract_actor_acts_create(&acts, &a, 4, 13, &ar.a, nullptr) == RACT_OK);
        ract_rng r;
        ract_rng_seed(&r, 4, 0);
        REQUIRE(forward_logits(&a, &acts, x, RACT_MODE_TRAIN, &r, nullptr) == RACT_OK);
        memcpy(acts.keep, kTinyKeep, 13);
        const ract_mode m = mode ? RACT_MODE_EVAL : RACT_MODE_TRAIN_REPLAY;
        const double dce[] = {0.3, -0.7, 0.25, 1.1}, dkl[] = {0.05, 0.2, -0.4, 0.1};
        const float beta = 0.2f;
        auto loss = [&]() {
          REQUIRE(forward_logits(&a, &acts, x, m, nullptr, nullptr) == RACT_OK);
          ract_actor_loss(&a, &acts, x, acts.logits, beta);
          double s = 0;
          for (int b = 0; b < 4; b++) s += dce[b] * acts.ce[b] + dkl[b] * acts.kl[b];
          return s;
        };
        loss();
        ract_params_zero_grad(&a.w);
        REQUIRE(backward_ce(&a, &acts, x, dce, dkl, nullptr) == RACT_OK);
        std::vector<double> g(a.w.grads, a.w.grads + a.w.n);
        // the gradient touches every tensor
        for (int t = 0; t < a.w.table.n; t++) {
          ract_param_info info = ract_table_info(&a.w.table, t);
          double s = 0;
          for (size_t i = 0; i < (size_t)info.rows * info.cols; i++) s += fabs(g[info.offset + i]);
          CHECK_MESSAGE(s > 0, info.name);
        }
        // backward adds: a second call doubles the gradient
        loss();
        REQUIRE(backward_ce(&a, &acts, x, dce, dkl, nullptr) == RACT_OK);
        for (size_t i = 0; i < a.w.n; i++) CHECK(a.w.grads[i] == doctest::Approx(2 * g[i]));
        fd_check("actor loss", a.w.params, g.data(), a.w.n, loss);
      }
    }
  }
}

TEST_CASE("actor: the first layer's gradient touches only the kept items' rows") {
  TinyBatch tb;
  ract_sparse x = tb.view();
  ract_hparams c = tiny_config("paper", false);
  OwnedArena ar(1 << 20);
  ract_actor_t<double> a;
  REQUIRE(ract_actor_create(&a, &c, 7, &ar.a, nullptr) == RACT_OK);
  randomise(&a, 3);
  ract_actor_acts_t<double> acts;
  REQUIRE(ract_actor_acts_create(&acts, &a, 4, 13, &ar.a, nullptr) == RACT_OK);
  ract_rng r;
  ract_rng_seed(&r, 4, 0);
  REQUIRE(forward_logits(&a, &acts, x, RACT_MODE_TRAIN, &r, nullptr) == RACT_OK);
  // keep only item 0 of user 0 and item 3 of user 1
  const uint8_t keep[13] = {1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0};
  memcpy(acts.keep, keep, 13);
  REQUIRE(forward_logits(&a, &acts, x, RACT_MODE_TRAIN_REPLAY, nullptr, nullptr) == RACT_OK);
  ract_actor_loss(&a, &acts, x, acts.logits, 0.1f);
  const double dce[] = {0.25, 0.25, 0.25, 0.25}, dkl[] = {0.025, 0.025, 0.025, 0.025};
  ract_params_zero_grad(&a.w);
  REQUIRE(backward_ce(&a, &acts, x, dce, dkl, nullptr) == RACT_OK);
  for (int i = 0; i < 7; i++) {
    double s = 0;
    for (int j = 0; j < 5; j++) s += fabs(a.g.enc_w[0][i * 5 + j]);
    if (i == 0 || i == 3) {
      CHECK(s > 0);
    } else {
      CHECK(s == 0);
    }
  }
  CHECK(acts.seen[2] == 0);
  CHECK(acts.unseen[2] == 4);
}

TEST_CASE("actor: errors of the forward are reported") {
  TinyBatch tb;
  ract_sparse x = tb.view();
  ract_hparams c = tiny_config("recbole", false);
  OwnedArena ar(1 << 20);
  ract_actor a;
  REQUIRE(ract_actor_create(&a, &c, 7, &ar.a, nullptr) == RACT_OK);
  ract_rng r;
  ract_rng_seed(&r, 8, 0);
  ract_actor_init_params(&a, &r);
  ract_actor_acts acts;
  REQUIRE(ract_actor_acts_create(&acts, &a, 4, 13, &ar.a, nullptr) == RACT_OK);
  ract_error e;
  CHECK(forward_logits(&a, &acts, x, RACT_MODE_TRAIN_REPLAY, nullptr, &e) == RACT_ERR_ARG);
  CHECK(strstr(e.msg, "replay") != nullptr);

  ract_sparse wrong = x;
  wrong.cols = 8;
  CHECK(forward_logits(&a, &acts, wrong, RACT_MODE_EVAL, nullptr, &e) == RACT_ERR_SHAPE);
  CHECK(strstr(e.msg, "8 columns") != nullptr);
  const float vals[13] = {1};
  ract_sparse valued = x;
  valued.val = vals;
  CHECK(forward_logits(&a, &acts, valued, RACT_MODE_EVAL, nullptr, &e) == RACT_ERR_ARG);
  CHECK(forward_logits(&a, &acts, x, RACT_MODE_TRAIN, nullptr, &e) == RACT_ERR_ARG);
  ract_actor_acts small;
  REQUIRE(ract_actor_acts_create(&small, &a, 2, 13, &ar.a, nullptr) == RACT_OK);
  CHECK(forward_logits(&a, &small, x, RACT_MODE_EVAL, nullptr, &e) == RACT_ERR_SHAPE);
  ract_actor_acts few;
  REQUIRE(ract_actor_acts_create(&few, &a, 4, 12, &ar.a, nullptr) == RACT_OK);
  CHECK(forward_logits(&a, &few, x, RACT_MODE_EVAL, nullptr, &e) == RACT_ERR_SHAPE);
  CHECK(strstr(e.msg, "13 stored entries") != nullptr);
  // an arena too small for the activations
  OwnedArena tiny(256);
  ract_actor_acts no;
  CHECK(ract_actor_acts_create(&no, &a, 4, 13, &tiny.a, &e) == RACT_ERR_NOMEM);
  CHECK(ract_actor_acts_bytes(&c, 7, 4, 13) > 256);
  // the size query is exact enough to create in an arena of that size
  OwnedArena exact(ract_actor_acts_bytes(&c, 7, 4, 13));
  CHECK(ract_actor_acts_create(&no, &a, 4, 13, &exact.a, &e) == RACT_OK);
  OwnedArena pexact(ract_actor_bytes(&c, 7));
  ract_actor a2;
  CHECK(ract_actor_create(&a2, &c, 7, &pexact.a, &e) == RACT_OK);
}

TEST_CASE("adam: one and two steps by hand; a zero gradient leaves the weight") {
  float p[3] = {1.0f, -2.0f, 0.5f}, g[3] = {0.5f, -0.1f, 0.0f}, m[3] = {0}, v[3] = {0};
  ract_adam opt = ract_adam_make(0.1f);
  ract_adam_step(&opt, p, g, m, v, 3);
  // m = 0.1 g, v = 0.001 g^2; bias-corrected mh = g, vh = g^2 => step lr * g/|g|
  CHECK(m[0] == doctest::Approx(0.05));
  CHECK(v[0] == doctest::Approx(0.00025));
  CHECK(p[0] == doctest::Approx(0.9).epsilon(1e-6));
  CHECK(p[1] == doctest::Approx(-1.9).epsilon(1e-6));
  CHECK(p[2] == 0.5f);
  g[0] = -0.5f;  // second step: m = 0.9*0.05 - 0.05 = -0.005, mh = -0.005/0.19
  ract_adam_step(&opt, p, g, m, v, 3);
  CHECK(opt.t == 2);
  const double mh = -0.005 / 0.19, vh = (0.999 * 0.00025 + 0.00025) / (1 - 0.999 * 0.999);
  CHECK(p[0] == doctest::Approx(0.9 - 0.1 * mh / (sqrt(vh) + 1e-8)).epsilon(1e-6));
  CHECK(p[1] == doctest::Approx(-1.8).epsilon(1e-6));
}

TEST_CASE("actor: same seed gives identical weights after a few Adam steps") {
  TinyBatch tb;
  ract_sparse x = tb.view();
  ract_hparams c = tiny_config("paper", true);
  std::vector<float> runs[3];
  const uint64_t seeds[3] = {42, 42, 43};
  for (int run = 0; run < 3; run++) {
    OwnedArena ar(1 << 20);
    ract_actor a;
    REQUIRE(ract_actor_create(&a, &c, 7, &ar.a, nullptr) == RACT_OK);
    ract_rng r;
    ract_rng_seed(&r, seeds[run], 0);
    ract_actor_init_params(&a, &r);
    ract_actor_acts acts;
    REQUIRE(ract_actor_acts_create(&acts, &a, 4, 13, &ar.a, nullptr) == RACT_OK);
    ract_adam opt = ract_adam_make(1e-2f);
    ract_anneal an = {0};
    float first = 0, last = 0;
    for (int step = 0; step < 30; step++) {
      const float beta = ract_anneal_next(&c, &an, 1);
      ract_params_zero_grad(&a.w);
      REQUIRE(forward_logits(&a, &acts, x, RACT_MODE_TRAIN, &r, nullptr) == RACT_OK);
      float l = ract_actor_loss(&a, &acts, x, acts.logits, beta);
      if (step < 5) first += l / 5;  // means of 5 steps: each draws its own dropout mask
      if (step >= 25) last += l / 5;
      float dce[4], dkl[4];
      for (int b = 0; b < 4; b++) {
        dce[b] = 0.25f;
        dkl[b] = beta * 0.25f;
      }
      REQUIRE(backward_ce(&a, &acts, x, dce, dkl, nullptr) == RACT_OK);
      ract_adam_step(&opt, a.w.params, a.w.grads, a.w.m, a.w.v, a.w.n);
    }
    CHECK(last < first);  // it learns the tiny batch
    runs[run].assign(a.w.params, a.w.params + a.w.n);
  }
  CHECK(memcmp(runs[0].data(), runs[1].data(), runs[0].size() * sizeof(float)) == 0);
  CHECK(memcmp(runs[0].data(), runs[2].data(), runs[0].size() * sizeof(float)) != 0);
}

template <typename T>
static void check_fused_loss() {
  TinyBatch tb;
  ract_sparse x = tb.view();
  for (const char* preset : {"paper", "recbole"}) {
    ract_hparams c = tiny_config(preset, false);
    OwnedArena ar(1 << 20);
    ract_actor_t<T> a;
    REQUIRE(ract_actor_create(&a, &c, 7, &ar.a, nullptr) == RACT_OK);
    ract_rng r;
    ract_rng_seed(&r, 8, 0);
    ract_actor_init_params(&a, &r);
    ract_actor_acts_t<T> acts;
    REQUIRE(ract_actor_acts_create(&acts, &a, 4, 13, &ar.a, nullptr) == RACT_OK);
    const T dce[] = {0.25, 0.25, 0.25, 0.25}, dkl[] = {0.05, 0.05, 0.05, 0.05};
    // Fused: the logits without the output bias in, the loss and dlogits in one sweep (which
    // adds the bias), then the rest of the backward.
    const ract_draws draws = {8, 0, nullptr};
    REQUIRE(ract_actor_forward(&a, &acts, x, RACT_MODE_TRAIN, &draws, nullptr) == RACT_OK);
    ract_actor_logits(&a, &acts, acts.logits, 0);
    const T l1 = ract_actor_loss_fused(&a, &acts, x, acts.logits, 0.2f, dce);
    std::vector<T> ce1(acts.ce, acts.ce + 4);
    ract_params_zero_grad(&a.w);
    REQUIRE(ract_actor_backward(&a, &acts, x, acts.logits, dkl, nullptr) == RACT_OK);
    std::vector<T> g1(a.w.grads, a.w.grads + a.w.n);
    // Unfused on the same mask and eps: the complete logits, the loss, dlogits, the backward.
    REQUIRE(ract_actor_forward(&a, &acts, x, RACT_MODE_TRAIN_REPLAY, nullptr, nullptr) == RACT_OK);
    ract_actor_logits(&a, &acts, acts.logits, 1);
    const T l2 = ract_actor_loss(&a, &acts, x, acts.logits, 0.2f);
    ract_actor_dlogits(&a, &acts, x, acts.logits, dce);
    ract_params_zero_grad(&a.w);
    REQUIRE(ract_actor_backward(&a, &acts, x, acts.logits, dkl, nullptr) == RACT_OK);
    CHECK(l1 == doctest::Approx(l2).epsilon(1e-6));
    for (int b = 0; b < 4; b++) CHECK(ce1[b] == doctest::Approx(acts.ce[b]).epsilon(1e-6));
    double worst = 0, mag = 0;
    for (size_t i = 0; i < a.w.n; i++) {
      worst = fmax(worst, fabs((double)g1[i] - (double)a.w.grads[i]));
      mag = fmax(mag, fabs((double)a.w.grads[i]));
    }
    CHECK(mag > 0);
    CHECK(worst <= 1e-6 * (mag + 1));
    // The logits without the bias plus the bias are the complete logits, bit for bit.
    std::vector<T> unbiased(4 * 7);
    ract_actor_logits(&a, &acts, unbiased.data(), 0);
    ract_actor_logits(&a, &acts, acts.logits, 1);
    int same = 0;
    for (int i = 0; i < 4 * 7; i++) same += unbiased[i] + a.p.out_b[i % 7] == acts.logits[i];
    CHECK(same == 4 * 7);
  }
}

TEST_CASE("actor: fused loss + dlogits equals loss then backward (float and double)") {
  check_fused_loss<double>();
  check_fused_loss<float>();
}
