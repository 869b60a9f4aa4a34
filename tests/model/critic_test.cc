// The critic: MSE gradient w.r.t. every critic parameter, -Q w.r.t. every actor parameter
// through train-mode (recbole) and eval-mode (paper) BatchNorm, all in double by central
// differences; the NDCG target on a hand-made example; running statistics; batch of one.
#include "ract/model/critic.h"

#include <doctest/doctest.h>
#include <math.h>
#include <string.h>

#include <string>
#include <vector>

#include "ract/model/actor.h"
#include "ract/model/hparams.h"
#include "tests/model/model_test_util.h"

namespace {

ract_hparams tiny_config(const char* preset) {
  ract_hparams c;
  REQUIRE(ract_hparams_preset(&c, preset, nullptr) == RACT_OK);
  c.n_hidden = 1;
  c.mlp_hidden_size[0] = 5;
  c.latent_dimension = c.head == RACT_HEAD_SPLIT ? 6 : 3;
  c.n_critic_layers = 2;
  c.critic_layers[0] = 6;
  c.critic_layers[1] = 4;
  c.metrics_k = 3;
  c.total_anneal_steps = 10;
  return c;
}

template <typename T>
void randomise(T* p, size_t n, uint64_t seed, double scale) {
  ract_rng r;
  ract_rng_seed(&r, seed, 0);
  for (size_t i = 0; i < n; i++) p[i] = (T)(scale * ract_rng_normal(&r));
}

}  // namespace

TEST_CASE("critic: tensor table of each preset") {
  ract_hparams c = tiny_config("recbole");
  OwnedArena ar(ract_critic_bytes(&c));
  ract_critic cr;
  REQUIRE(ract_critic_create(&cr, &c, &ar.a, nullptr) == RACT_OK);
  const char* want[] = {"critic.bn.gamma", "critic.bn.beta", "critic.0.w", "critic.0.b",
                        "critic.1.w",      "critic.1.b",     "critic.2.w", "critic.2.b"};
  const int rows[] = {3, 3, 6, 6, 4, 4, 1, 1}, cols[] = {1, 1, 3, 1, 6, 1, 4, 1};
  REQUIRE(cr.w.table.n == 8);
  for (int i = 0; i < 8; i++) {
    ract_param_info info = ract_table_info(&cr.w.table, i);
    CHECK(std::string(info.name) == want[i]);
    CHECK(info.rows == rows[i]);
    CHECK(info.cols == cols[i]);
  }
  ract_hparams p = tiny_config("paper");
  ract_critic cp;
  OwnedArena ar2(ract_critic_bytes(&p));
  REQUIRE(ract_critic_create(&cp, &p, &ar2.a, nullptr) == RACT_OK);
  CHECK(cp.w.table.n == 6);
  CHECK(std::string(ract_table_info(&cp.w.table, 0).name) == "critic.0.w");
  CHECK(cp.p.bn_gamma == nullptr);
  ract_rng r;
  ract_rng_seed(&r, 1, 0);
  ract_critic_init_params(&cr, &r);
  CHECK(cr.p.bn_gamma[1] == 1.0f);
  CHECK(cr.p.bn_beta[1] == 0.0f);
  CHECK(cr.bn_var[2] == 1.0f);
  CHECK(cr.p.b[0][3] == 0.0f);
}

TEST_CASE("critic: MSE gradient w.r.t. every critic parameter, both BatchNorm modes") {
  for (int paper = 0; paper < 2; paper++) {
    CAPTURE(paper);
    ract_hparams c = tiny_config(paper ? "paper" : "recbole");
    OwnedArena ar(1 << 20);
    ract_critic_t<double> cr;
    REQUIRE(ract_critic_create(&cr, &c, &ar.a, nullptr) == RACT_OK);
    randomise(cr.w.params, cr.w.n, 3 + paper, 0.7);
    cr.bn_mean[0] = 2;
    cr.bn_mean[1] = 1;
    cr.bn_mean[2] = 8;
    cr.bn_var[0] = 1.5;
    cr.bn_var[1] = 0.8;
    cr.bn_var[2] = 4;
    ract_critic_acts_t<double> ca;
    REQUIRE(ract_critic_acts_create(&ca, &cr, 5, &ar.a, nullptr) == RACT_OK);
    ca.batch = 5;
    ca.total = 5;
    const double feat[15] = {2, 1, 7.5, 3, 0, 9.1, 1, 2, 6.2, 4, 3, 11.0, 2, 2, 8.3};
    const double target[5] = {0.3, 0.0, 0.8, 0.55, 1.0};
    memcpy(ca.feat, feat, sizeof(feat));
    memcpy(ca.target, target, sizeof(target));
    const int bn_batch = c.bn_mode == RACT_BN_BATCH;
    auto loss = [&]() {
      REQUIRE(ract_critic_forward(&cr, &ca, bn_batch, 0, nullptr) == RACT_OK);
      return (double)ract_critic_loss(&cr, &ca);
    };
    loss();
    ract_params_zero_grad(&cr.w);
    const double l = ract_critic_loss(&cr, &ca);
    REQUIRE(ract_critic_backward(&cr, &ca, 1, nullptr) == RACT_OK);
    std::vector<double> g(cr.w.grads, cr.w.grads + cr.w.n);
    double mse = 0;
    for (int b = 0; b < 5; b++) mse += (ca.q[b] - target[b]) * (ca.q[b] - target[b]) / 5;
    if (paper) {
      double ss = 0;
      for (int j = 0; j < cr.n_layers; j++) {
        for (int i = 0; i < cr.dims[j] * cr.dims[j + 1]; i++) ss += cr.p.w[j][i] * cr.p.w[j][i];
      }
      CHECK(l == doctest::Approx(mse + (double)c.critic_l2 * ss / 5).epsilon(1e-12));
      CHECK(c.critic_l2 == 1e-4f);
    } else {
      CHECK(l == doctest::Approx(mse).epsilon(1e-12));
    }
    double gn = 0;
    for (double v : g) gn += fabs(v);
    CHECK(gn > 1e-3);
    fd_check("critic mse", cr.w.params, g.data(), cr.w.n, loss);
    // the same backward also gives the gradient w.r.t. the features
    std::vector<double> df(ca.dfeat, ca.dfeat + 15);
    fd_check("critic mse dfeat", ca.feat, df.data(), 15, loss);
  }
}

TEST_CASE("critic: -Q w.r.t. every actor parameter through the critic and BatchNorm") {
  TinyBatch tb;
  ract_sparse x = tb.view();
  for (int paper = 0; paper < 2; paper++) {
    CAPTURE(paper);
    ract_hparams c = tiny_config(paper ? "paper" : "recbole");
    c.eps_std = 1.0f;
    OwnedArena ar(1 << 20);
    ract_actor_t<double> a;
    REQUIRE(ract_actor_create(&a, &c, 7, &ar.a, nullptr) == RACT_OK);
    randomise(a.w.params, a.w.n, 21 + paper, 0.6);
    ract_actor_acts_t<double> acts;
    REQUIRE(ract_actor_acts_create(&acts, &a, 4, 13, &ar.a, nullptr) == RACT_OK);
    ract_critic_t<double> cr;
    REQUIRE(ract_critic_create(&cr, &c, &ar.a, nullptr) == RACT_OK);
    ract_rng r;
    ract_rng_seed(&r, 5, 0);
    ract_critic_init_params(&cr, &r);
    if (!paper) {
      cr.p.bn_gamma[2] = 1.3;
      cr.p.bn_beta[2] = -0.2;
    } else {  // running statistics of plausible features
      cr.bn_mean[0] = 2;
      cr.bn_mean[1] = 1.5;
      cr.bn_mean[2] = 7;
      cr.bn_var[0] = 1;
      cr.bn_var[1] = 1;
      cr.bn_var[2] = 3;
    }
    ract_critic_acts_t<double> ca;
    REQUIRE(ract_critic_acts_create(&ca, &cr, 4, &ar.a, nullptr) == RACT_OK);
    REQUIRE(forward_logits(&a, &acts, x, RACT_MODE_TRAIN, &r, nullptr) == RACT_OK);
    memcpy(acts.keep, kTinyKeep, 13);
    const float beta = 0.15f;
    const int bn_batch = c.bn_mode == RACT_BN_BATCH;
    auto loss = [&]() {
      REQUIRE(forward_logits(&a, &acts, x, RACT_MODE_TRAIN_REPLAY, nullptr, nullptr) == RACT_OK);
      ract_actor_loss(&a, &acts, x, acts.logits, beta);
      ract_critic_input(&ca, &cr, &acts, beta);
      REQUIRE(ract_critic_forward(&cr, &ca, bn_batch, 0, nullptr) == RACT_OK);
      return (double)ract_critic_ac_loss(&ca);
    };
    loss();
    for (int b = 0; b < 4; b++) {
      CHECK(ca.feat[b * 3 + 2] == (paper ? acts.ce[b] : acts.loss[b]));
      CHECK(ca.dq[b] == -0.25);
    }
    ract_params_zero_grad(&cr.w);
    REQUIRE(ract_critic_backward(&cr, &ca, 0, nullptr) == RACT_OK);
    for (size_t i = 0; i < cr.w.n; i++) CHECK(cr.w.grads[i] == 0.0);  // frozen critic
    double dce[4], dkl[4];
    for (int b = 0; b < 4; b++) {
      dce[b] = ca.dfeat[b * 3 + 2];
      dkl[b] = beta * dce[b];
    }
    ract_params_zero_grad(&a.w);
    REQUIRE(backward_ce(&a, &acts, x, dce, paper ? nullptr : dkl, nullptr) == RACT_OK);
    std::vector<double> g(a.w.grads, a.w.grads + a.w.n);
    double gn = 0;
    for (double v : g) gn += fabs(v);
    CHECK(gn > 1e-4);
    fd_check("-Q w.r.t. actor", a.w.params, g.data(), a.w.n, loss);
    if (!paper) {
      // Train-mode BatchNorm couples users: -Q's gradient w.r.t. user 0's loss feature depends
      // on user 1's feature.
      const double before = ca.dfeat[2];
      loss();
      ca.feat[5] += 1.0;
      REQUIRE(ract_critic_forward(&cr, &ca, 1, 0, nullptr) == RACT_OK);
      ract_critic_ac_loss(&ca);
      REQUIRE(ract_critic_backward(&cr, &ca, 0, nullptr) == RACT_OK);
      CHECK(ca.dfeat[2] != doctest::Approx(before));
    }
  }
}

TEST_CASE("critic: paper finetune, MSE then -Q backward on the same forward") {
  ract_hparams c = tiny_config("paper");
  OwnedArena ar(1 << 20);
  ract_critic_t<double> cr;
  REQUIRE(ract_critic_create(&cr, &c, &ar.a, nullptr) == RACT_OK);
  ract_rng r;
  ract_rng_seed(&r, 6, 0);
  ract_critic_init_params(&cr, &r);
  ract_critic_acts_t<double> ca;
  REQUIRE(ract_critic_acts_create(&ca, &cr, 3, &ar.a, nullptr) == RACT_OK);
  ca.batch = 3;
  ca.total = 3;
  const double feat[9] = {1, 2, 0.5, 2, 1, -0.3, 0, 3, 1.2};
  memcpy(ca.feat, feat, sizeof(feat));
  ca.target[0] = 0.2;
  ca.target[1] = 0.9;
  ca.target[2] = 0.4;
  REQUIRE(ract_critic_forward(&cr, &ca, 0, 0, nullptr) == RACT_OK);
  ract_params_zero_grad(&cr.w);
  ract_critic_loss(&cr, &ca);
  REQUIRE(ract_critic_backward(&cr, &ca, 1, nullptr) == RACT_OK);
  std::vector<double> g(cr.w.grads, cr.w.grads + cr.w.n);
  ract_critic_ac_loss(&ca);
  REQUIRE(ract_critic_backward(&cr, &ca, 0, nullptr) == RACT_OK);
  for (size_t i = 0; i < cr.w.n; i++) CHECK(cr.w.grads[i] == g[i]);
  // eval-mode BatchNorm without affine (paper) is a fixed map per feature: dfeat = d bn_out /
  // sqrt(var + eps), where d bn_out is what the first linear layer's backward left in d_a.
  int nonzero = 0;
  for (int b = 0; b < 3; b++) {
    for (int f = 0; f < 3; f++) {
      const double want = ca.d_a[b * 3 + f] / sqrt(cr.bn_var[f] + (double)c.bn_eps);
      nonzero += want != 0.0;
      CHECK(ca.dfeat[b * 3 + f] == doctest::Approx(want).epsilon(1e-12));
    }
  }
  CHECK(nonzero >= 3);  // not a trivially dead critic
}

TEST_CASE("critic: running statistics and a batch of one") {
  ract_hparams c = tiny_config("recbole");
  OwnedArena ar(1 << 20);
  ract_critic cr;
  REQUIRE(ract_critic_create(&cr, &c, &ar.a, nullptr) == RACT_OK);
  ract_rng r;
  ract_rng_seed(&r, 7, 0);
  ract_critic_init_params(&cr, &r);
  ract_critic_acts ca;
  REQUIRE(ract_critic_acts_create(&ca, &cr, 4, &ar.a, nullptr) == RACT_OK);
  ca.batch = 3;
  ca.total = 3;
  const float feat[9] = {1, 0, 5, 2, 1, 6, 3, 2, 10};
  memcpy(ca.feat, feat, sizeof(feat));
  REQUIRE(ract_critic_bn_collect(&cr, &ca, nullptr) == RACT_OK);
  CHECK(cr.bn_mean[0] == doctest::Approx(0.1 * 2));
  CHECK(cr.bn_var[0] == doctest::Approx(0.9 + 0.1 * 1.0));  // unbiased var of {1,2,3}
  CHECK(cr.bn_mean[2] == doctest::Approx(0.1 * 7));
  CHECK(cr.bn_var[2] == doctest::Approx(0.9 + 0.1 * 7.0));  // {5,6,10}: ss 14, / 2
  REQUIRE(ract_critic_forward(&cr, &ca, 1, 1, nullptr) == RACT_OK);
  CHECK(cr.bn_mean[0] == doctest::Approx(0.9 * 0.2 + 0.1 * 2));
  // A batch of one in train mode: defined (x - mean = 0), no running update, no gradient to
  // the features.
  ca.batch = 1;
  ca.total = 1;
  const float m0 = cr.bn_mean[0], v0 = cr.bn_var[0];
  REQUIRE(ract_critic_forward(&cr, &ca, 1, 1, nullptr) == RACT_OK);
  CHECK(cr.bn_mean[0] == m0);
  CHECK(cr.bn_var[0] == v0);
  CHECK(std::isfinite(ca.q[0]));
  ract_critic_ac_loss(&ca);
  REQUIRE(ract_critic_backward(&cr, &ca, 0, nullptr) == RACT_OK);
  CHECK(ca.dfeat[2] == 0.0f);
  ract_error e;
  ca.batch = 5;
  ca.total = 5;
  CHECK(ract_critic_forward(&cr, &ca, 1, 0, &e) == RACT_ERR_SHAPE);
  CHECK(ract_critic_acts_bytes(&c, 4) > 0);
}

TEST_CASE("critic: NDCG target on a hand-made example") {
  TinyBatch tb;
  ract_sparse x = tb.view();
  for (int paper = 0; paper < 2; paper++) {
    ract_hparams c = tiny_config(paper ? "paper" : "recbole");
    OwnedArena ar(1 << 20);
    ract_actor a;
    REQUIRE(ract_actor_create(&a, &c, 7, &ar.a, nullptr) == RACT_OK);
    ract_actor_acts acts;
    REQUIRE(ract_actor_acts_create(&acts, &a, 4, 13, &ar.a, nullptr) == RACT_OK);
    ract_critic cr;
    REQUIRE(ract_critic_create(&cr, &c, &ar.a, nullptr) == RACT_OK);
    ract_critic_acts ca;
    REQUIRE(ract_critic_acts_create(&ca, &cr, 4, &ar.a, nullptr) == RACT_OK);
    ract_rng r;
    ract_rng_seed(&r, 1, 0);
    REQUIRE(forward_logits(&a, &acts, x, RACT_MODE_TRAIN, &r, nullptr) == RACT_OK);
    memcpy(acts.keep, kTinyKeep, 13);
    REQUIRE(forward_logits(&a, &acts, x, RACT_MODE_TRAIN_REPLAY, nullptr, nullptr) == RACT_OK);
    // user 0: history {0,2,5}, kept {0,5}, relevant {2}; items 2 and 4 tie at 5: 2 first.
    // user 1: history {1,3}, all kept: unseen = 0, ideal DCG floored at 0.1, target 0.
    // user 2: history {0,1,4,6}, kept {1,4} (scored 10, masked), relevant {0,6} at ranks 2, 1.
    // user 3: history {2,3,5,6}, kept {3,6} (scored 9, masked), relevant {2,5}; items 0 and 2
    //         tie at 4: 0 first, so relevant item 2 lands at rank 3.
    const float logits[28] = {9, 1,  5, 0, 5,  8, 2, 0, 1, 2, 3, 4, 5, 6,
                              3, 10, 0, 1, 10, 2, 6, 4, 7, 4, 9, 0, 1, 9};
    memcpy(acts.logits, logits, sizeof(logits));
    OwnedArena scratch(ract_critic_target_bytes(7, 3));
    REQUIRE(ract_critic_target(&ca, &cr, &acts, acts.logits, x, 7, &scratch.a, nullptr) == RACT_OK);
    CHECK(ract_arena_used(&scratch.a) == 0);
    for (int i = 0; i < 28; i++) CHECK(acts.logits[i] == logits[i]);  // masked a copy
    const double i2 = 1.0 + 1.0 / log2(3.0);
    const double want[4] = {paper ? 1.0 : 1.0 / sqrt(3.0), 0.0, paper ? 1.0 : 0.5,
                            (paper ? 0.5 : 0.25) / i2};
    for (int b = 0; b < 4; b++) CHECK(ca.target[b] == doctest::Approx(want[b]).epsilon(1e-6));
    // k = 1 < unseen = 2 for users 2 and 3: ideal DCG over one position.
    cr.cfg.metrics_k = 1;
    OwnedArena s1(ract_critic_target_bytes(7, 1));
    REQUIRE(ract_critic_target(&ca, &cr, &acts, acts.logits, x, 7, &s1.a, nullptr) == RACT_OK);
    CHECK(ca.target[2] == doctest::Approx(paper ? 1.0 : 0.5));
    CHECK(ca.target[3] == 0.0f);
    CHECK(ca.target[0] == doctest::Approx(paper ? 1.0 : 1.0 / sqrt(3.0)));
    // a scratch arena too small
    OwnedArena s0(64);
    ract_error e;
    CHECK(ract_critic_target(&ca, &cr, &acts, acts.logits, x, 7, &s0.a, &e) == RACT_ERR_NOMEM);
  }
}

TEST_CASE("critic: the float model's gradients equal the checked double model's") {
  // The double instantiation is the one checked by finite differences; the float one runs the
  // big products on BLIS. Same weights, mask and eps: same gradients to float precision.
  TinyBatch tb;
  ract_sparse x = tb.view();
  for (int paper = 0; paper < 2; paper++) {
    CAPTURE(paper);
    ract_hparams c = tiny_config(paper ? "paper" : "recbole");
    OwnedArena ar(1 << 20);
    ract_actor_t<double> ad;
    ract_actor af;
    REQUIRE(ract_actor_create(&ad, &c, 7, &ar.a, nullptr) == RACT_OK);
    REQUIRE(ract_actor_create(&af, &c, 7, &ar.a, nullptr) == RACT_OK);
    randomise(af.w.params, af.w.n, 31 + paper, 0.6);
    for (size_t i = 0; i < af.w.n; i++) ad.w.params[i] = af.w.params[i];
    ract_critic_t<double> cd;
    ract_critic cf;
    REQUIRE(ract_critic_create(&cd, &c, &ar.a, nullptr) == RACT_OK);
    REQUIRE(ract_critic_create(&cf, &c, &ar.a, nullptr) == RACT_OK);
    ract_rng r;
    ract_rng_seed(&r, 8, 0);
    ract_critic_init_params(&cf, &r);
    for (size_t i = 0; i < cf.w.n; i++) cd.w.params[i] = cf.w.params[i];
    ract_actor_acts_t<double> aad;
    ract_actor_acts aaf;
    ract_critic_acts_t<double> cad;
    ract_critic_acts caf;
    REQUIRE(ract_actor_acts_create(&aad, &ad, 4, 13, &ar.a, nullptr) == RACT_OK);
    REQUIRE(ract_actor_acts_create(&aaf, &af, 4, 13, &ar.a, nullptr) == RACT_OK);
    REQUIRE(ract_critic_acts_create(&cad, &cd, 4, &ar.a, nullptr) == RACT_OK);
    REQUIRE(ract_critic_acts_create(&caf, &cf, 4, &ar.a, nullptr) == RACT_OK);
    REQUIRE(forward_logits(&af, &aaf, x, RACT_MODE_TRAIN, &r, nullptr) == RACT_OK);
    REQUIRE(forward_logits(&ad, &aad, x, RACT_MODE_TRAIN, &r, nullptr) == RACT_OK);
    memcpy(aaf.keep, kTinyKeep, 13);
    memcpy(aad.keep, kTinyKeep, 13);
    for (int i = 0; i < 4 * ad.latent; i++) aad.eps[i] = aaf.eps[i];
    const int bnb = c.bn_mode == RACT_BN_BATCH;
    const float beta = 0.15f;
    // float
    REQUIRE(forward_logits(&af, &aaf, x, RACT_MODE_TRAIN_REPLAY, nullptr, nullptr) == RACT_OK);
    ract_actor_loss(&af, &aaf, x, aaf.logits, beta);
    ract_critic_input(&caf, &cf, &aaf, beta);
    REQUIRE(ract_critic_forward(&cf, &caf, bnb, 0, nullptr) == RACT_OK);
    ract_critic_ac_loss(&caf);
    REQUIRE(ract_critic_backward(&cf, &caf, 0, nullptr) == RACT_OK);
    float fce[4], fkl[4];
    for (int b = 0; b < 4; b++) {
      fce[b] = caf.dfeat[b * 3 + 2];
      fkl[b] = beta * fce[b];
    }
    ract_params_zero_grad(&af.w);
    REQUIRE(backward_ce(&af, &aaf, x, fce, paper ? nullptr : fkl, nullptr) == RACT_OK);
    // double
    REQUIRE(forward_logits(&ad, &aad, x, RACT_MODE_TRAIN_REPLAY, nullptr, nullptr) == RACT_OK);
    ract_actor_loss(&ad, &aad, x, aad.logits, beta);
    ract_critic_input(&cad, &cd, &aad, beta);
    REQUIRE(ract_critic_forward(&cd, &cad, bnb, 0, nullptr) == RACT_OK);
    ract_critic_ac_loss(&cad);
    REQUIRE(ract_critic_backward(&cd, &cad, 0, nullptr) == RACT_OK);
    double dce[4], dkl[4];
    for (int b = 0; b < 4; b++) {
      dce[b] = cad.dfeat[b * 3 + 2];
      dkl[b] = beta * dce[b];
    }
    ract_params_zero_grad(&ad.w);
    REQUIRE(backward_ce(&ad, &aad, x, dce, paper ? nullptr : dkl, nullptr) == RACT_OK);
    double gmax = 0;
    for (size_t i = 0; i < ad.w.n; i++) gmax = fmax(gmax, fabs(ad.w.grads[i]));
    REQUIRE(gmax > 1e-3);
    int bad = 0;
    for (size_t i = 0; i < ad.w.n; i++) {
      if (fabs(af.w.grads[i] - ad.w.grads[i]) > 1e-4 * gmax + 1e-3 * fabs(ad.w.grads[i])) bad++;
    }
    CHECK(bad == 0);
  }
}
