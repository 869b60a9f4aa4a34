// Train steps per stage: which groups get gradients, the annealing counter, the critic's
// running statistics, a batch of one, and a short training that learns planted structure.
#include "ract/model/step.h"

#include <doctest/doctest.h>
#include <math.h>
#include <string.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "ract/core/parallel.h"
#include "ract/eval/evaluator.h"
#include "ract/eval/metrics.h"
#include "ract/model/hparams.h"
#include "ract/train/adam.h"
#include "tests/model/model_test_util.h"

namespace {

struct Setup {
  ract_hparams cfg;
  OwnedArena ar{1 << 22};
  OwnedArena scratch{1 << 16};
  ract_actor actor;
  ract_critic critic;
  ract_actor_acts aacts;
  ract_critic_acts cacts;
  ract_anneal anneal = {0};
  ract_step_ctx m;
  ract_rng rng;
  Setup(const char* preset, int I, int max_batch, int64_t max_nnz, uint64_t seed) {
    REQUIRE(ract_hparams_preset(&cfg, preset, nullptr) == RACT_OK);
    cfg.mlp_hidden_size[0] = 8;
    cfg.latent_dimension = cfg.head == RACT_HEAD_SPLIT ? 8 : 4;
    cfg.critic_layers[0] = 6;
    cfg.critic_layers[1] = 6;
    cfg.critic_layers[2] = 3;
    cfg.metrics_k = 5;
    cfg.total_anneal_steps = 10;
    REQUIRE(ract_actor_create(&actor, &cfg, I, &ar.a, nullptr) == RACT_OK);
    REQUIRE(ract_critic_create(&critic, &cfg, &ar.a, nullptr) == RACT_OK);
    REQUIRE(ract_actor_acts_create(&aacts, &actor, max_batch, max_nnz, &ar.a, nullptr) == RACT_OK);
    REQUIRE(ract_critic_acts_create(&cacts, &critic, max_batch, &ar.a, nullptr) == RACT_OK);
    ract_rng_seed(&rng, seed, 0);
    ract_actor_init_params(&actor, &rng);
    ract_critic_init_params(&critic, &rng);
    m = {&actor, &critic, &aacts, &cacts, &scratch.a, &anneal, nullptr};
  }
};

double abs_sum(const float* v, size_t n) {
  double s = 0;
  for (size_t i = 0; i < n; i++) s += fabs(v[i]);
  return s;
}

}  // namespace

TEST_CASE("step: each stage fills the gradients of the groups it trains") {
  TinyBatch tb;
  ract_sparse x = tb.view();
  for (int paper = 0; paper < 2; paper++) {
    CAPTURE(paper);
    Setup s(paper ? "paper" : "recbole", 7, 4, 13, 3);
    ract_step_stats st;
    // actor_pretrain
    REQUIRE(step_on(&s.m, RACT_STAGE_ACTOR_PRETRAIN, x, &s.rng, &st, nullptr) == RACT_OK);
    CHECK(abs_sum(s.actor.w.grads, s.actor.w.n) > 0);
    CHECK(abs_sum(s.critic.w.grads, s.critic.w.n) == 0);
    CHECK(st.loss == doctest::Approx(st.ce + st.beta * st.kl).epsilon(1e-5));
    CHECK(st.beta == doctest::Approx(paper ? 0.0 : 0.1));
    if (paper) {  // running statistics of the critic's features were collected
      CHECK(s.critic.bn_mean[0] != 0.0f);
    } else {
      CHECK(s.critic.bn_mean[0] == 0.0f);
    }
    // A second actor batch: both rules have counted two.
    REQUIRE(step_on(&s.m, RACT_STAGE_ACTOR_PRETRAIN, x, &s.rng, &st, nullptr) == RACT_OK);
    CHECK(s.anneal.steps == 2);
    // critic_pretrain: actor grads are left alone (zeroed here to see it)
    ract_params_zero_grad(&s.actor.w);
    ract_anneal_stage_begin(&s.cfg, &s.anneal);
    REQUIRE(step_on(&s.m, RACT_STAGE_CRITIC_PRETRAIN, x, &s.rng, &st, nullptr) == RACT_OK);
    CHECK(abs_sum(s.actor.w.grads, s.actor.w.n) == 0);
    CHECK(abs_sum(s.critic.w.grads, s.critic.w.n) > 0);
    CHECK(st.q > 0.0f);
    CHECK(st.q < 1.0f);
    CHECK(st.target >= 0.0f);
    // recbole: reset at the stage's start, then this loss counted; paper: kept, not counted.
    CHECK(s.anneal.steps == (paper ? 2 : 1));
    CHECK(st.beta == doctest::Approx(paper ? 0.2 : 0.1));
    // finetune: actor grads; critic grads only with finetune_critic (paper)
    ract_params_zero_grad(&s.critic.w);
    REQUIRE(step_on(&s.m, RACT_STAGE_FINETUNE, x, &s.rng, &st, nullptr) == RACT_OK);
    CHECK(abs_sum(s.actor.w.grads, s.actor.w.n) > 0);
    if (paper) {
      CHECK(abs_sum(s.critic.w.grads, s.critic.w.n) > 0);
      CHECK(st.critic_loss > 0.0f);
    } else {
      CHECK(abs_sum(s.critic.w.grads, s.critic.w.n) == 0);
    }
    CHECK(st.loss == doctest::Approx(-st.q).epsilon(1e-6));
    // a batch of one user runs (train-mode BatchNorm is degenerate there, not a crash)
    ract_sparse one = ract_sparse_rows(x, 2, 1);
    REQUIRE(step_on(&s.m, RACT_STAGE_FINETUNE, one, &s.rng, &st, nullptr) == RACT_OK);
    CHECK(std::isfinite(st.q));
    REQUIRE(step_on(&s.m, RACT_STAGE_CRITIC_PRETRAIN, one, &s.rng, &st, nullptr) == RACT_OK);
    ract_error e;
    ract_step_ctx bad = s.m;
    bad.scratch = nullptr;
    CHECK(step_on(&bad, RACT_STAGE_FINETUNE, x, &s.rng, &st, &e) == RACT_ERR_ARG);
  }
}

TEST_CASE("step: a short training learns planted structure; the critic fits its target") {
  // 60 users, 20 items in 4 clusters of 5: each user has 4 items of one cluster.
  const int U = 60, I = 20;
  std::vector<int64_t> ptr(U + 1);
  std::vector<int32_t> idx;
  ract_rng r;
  ract_rng_seed(&r, 77, 0);
  for (int u = 0; u < U; u++) {
    const int cl = u % 4;
    int items[5] = {0, 1, 2, 3, 4};
    ract_rng_shuffle(&r, items, 5);
    std::vector<int> row(items, items + 4);
    std::sort(row.begin(), row.end());
    for (int i : row) idx.push_back(cl * 5 + i);
    ptr[u + 1] = (int64_t)idx.size();
  }
  ract_sparse all = {U, I, ptr.data(), idx.data(), nullptr};
  for (int paper = 0; paper < 2; paper++) {
    CAPTURE(paper);
    Setup s(paper ? "paper" : "recbole", I, 20, 80, 5);
    ract_adam aopt = ract_adam_make(1e-2f), copt = ract_adam_make(1e-2f);
    ract_step_stats st;
    float first = 0, last = 0;
    for (int ep = 0; ep < 40; ep++) {
      double sum = 0;
      for (int b0 = 0; b0 < U; b0 += 20) {
        ract_sparse xb = ract_sparse_rows(all, b0, 20);
        REQUIRE(step_on(&s.m, RACT_STAGE_ACTOR_PRETRAIN, xb, &s.rng, &st, nullptr) == RACT_OK);
        ract_adam_step(&aopt, s.actor.w.params, s.actor.w.grads, s.actor.w.m, s.actor.w.v,
                       s.actor.w.n);
        sum += st.ce;
      }
      if (ep == 0) first = (float)sum;
      last = (float)sum;
    }
    CHECK(last < 0.8f * first);
    // Eval: a user's own cluster outranks the other clusters for most users.
    REQUIRE(ract_actor_full_sort_predict(&s.actor, &s.aacts, ract_sparse_rows(all, 0, 20),
                                         s.aacts.logits, nullptr) == RACT_OK);
    int good = 0;
    for (int u = 0; u < 20; u++) {
      const int cl = u % 4;
      double in = 0, out = 0;
      for (int i = 0; i < I; i++) {
        (i / 5 == cl ? in : out) += s.aacts.logits[u * I + i];
      }
      good += in / 5 > out / 15;
    }
    CHECK(good >= 18);
    // Critic: its loss goes down over a few epochs.
    ract_anneal_stage_begin(&s.cfg, &s.anneal);
    float c_first = 0, c_last = 0;
    for (int ep = 0; ep < 60; ep++) {
      double sum = 0;
      for (int b0 = 0; b0 < U; b0 += 20) {
        ract_sparse xb = ract_sparse_rows(all, b0, 20);
        REQUIRE(step_on(&s.m, RACT_STAGE_CRITIC_PRETRAIN, xb, &s.rng, &st, nullptr) == RACT_OK);
        ract_adam_step(&copt, s.critic.w.params, s.critic.w.grads, s.critic.w.m, s.critic.w.v,
                       s.critic.w.n);
        sum += st.critic_loss;
      }
      if (ep == 0) c_first = (float)sum;
      c_last = (float)sum;
    }
    CHECK(c_last < 0.7f * c_first);
  }
}

TEST_CASE("step: a non-finite loss is reported, not trained on") {
  TinyBatch tb;
  Setup s("paper", 7, 4, 13, 3);
  s.actor.p.out_b[2] = NAN;
  ract_step_stats st;
  ract_error e;
  CHECK(step_on(&s.m, RACT_STAGE_ACTOR_PRETRAIN, tb.view(), &s.rng, &st, &e) == RACT_ERR_NUMERIC);
  CHECK(strstr(e.msg, "loss") != nullptr);
}

namespace {

struct PopCtx {
  std::vector<float> counts;
};
ract_status pop_score(void* ctx, ract_sparse rows, ract_tensor scores, ract_error*) {
  PopCtx* p = (PopCtx*)ctx;
  for (int r = 0; r < rows.rows; r++) {
    memcpy(ract_tensor_row(scores, r), p->counts.data(), sizeof(float) * scores.cols);
  }
  return RACT_OK;
}

}  // namespace

TEST_CASE("step: the pretrained actor beats popularity on planted clusters (evaluator)") {
  // 80 users, 24 items in 4 clusters of 6; cluster c is more popular the higher c is. Each user
  // has 4 items of one cluster: 3 in train (input and mask), 1 held out (truth).
  const int U = 80, I = 24;
  std::vector<int64_t> tp(U + 1), hp(U + 1);
  std::vector<int32_t> ti, hi;
  ract_rng r;
  ract_rng_seed(&r, 99, 0);
  PopCtx pop;
  pop.counts.assign(I, 0.0f);
  for (int u = 0; u < U; u++) {
    const int cl = u % 4;
    int items[6] = {0, 1, 2, 3, 4, 5};
    ract_rng_shuffle(&r, items, 6);
    std::vector<int> row(items, items + 3);
    std::sort(row.begin(), row.end());
    for (int i : row) {
      ti.push_back(cl * 6 + i);
      pop.counts[cl * 6 + i] += 1.0f;
    }
    hi.push_back(cl * 6 + items[3]);
    tp[u + 1] = (int64_t)ti.size();
    hp[u + 1] = (int64_t)hi.size();
  }
  for (int i = 0; i < I; i++) pop.counts[i] += (float)(i / 6);  // popularity favours cluster 3
  ract_sparse train = {U, I, tp.data(), ti.data(), nullptr};
  ract_sparse truth = {U, I, hp.data(), hi.data(), nullptr};
  Setup s("paper", I, 16, 48, 7);
  ract_adam opt = ract_adam_make(1e-2f);
  ract_step_stats st;
  for (int ep = 0; ep < 60; ep++) {
    for (int b0 = 0; b0 < U; b0 += 16) {
      REQUIRE(step_on(&s.m, RACT_STAGE_ACTOR_PRETRAIN, ract_sparse_rows(train, b0, 16), &s.rng, &st,
                      nullptr) == RACT_OK);
      ract_adam_step(&opt, s.actor.w.params, s.actor.w.grads, s.actor.w.m, s.actor.w.v,
                     s.actor.w.n);
    }
  }
  OwnedArena scratch(ract_eval_bytes(I, 32, 10, 1));
  ract_metrics ma, mp;
  const int ks[] = {5};
  REQUIRE(ract_metrics_init(&ma, ks, 1, nullptr) == RACT_OK);
  REQUIRE(ract_metrics_init(&mp, ks, 1, nullptr) == RACT_OK);
  ract_actor_scorer sc = {&s.actor, &s.aacts, 1};  // acts hold 16 users: the adapter chunks
  ract_eval_job job = {train, train, truth, I, ract_actor_score, &sc, 32, nullptr, nullptr};
  REQUIRE(ract_eval_run(&ma, &job, &scratch.a, nullptr) == RACT_OK);
  job.fn = pop_score;
  job.ctx = &pop;
  REQUIRE(ract_eval_run(&mp, &job, &scratch.a, nullptr) == RACT_OK);
  const double a_ndcg = ract_metrics_get(&ma, "ndcg@5"), p_ndcg = ract_metrics_get(&mp, "ndcg@5");
  MESSAGE("ndcg@5 actor " << a_ndcg << " popularity " << p_ndcg);
  CHECK(a_ndcg > p_ndcg + 0.2);
  CHECK(ract_metrics_get(&ma, "hit@5") > 0.95);
  // The adapter's chunked scores equal one full forward.
  std::vector<float> sco(32 * I);
  ract_tensor t = ract_tensor_make(sco.data(), 32, I);
  REQUIRE(ract_actor_score(&sc, ract_sparse_rows(train, 0, 32), t, nullptr) == RACT_OK);
  REQUIRE(ract_actor_full_sort_predict(&s.actor, &s.aacts, ract_sparse_rows(train, 16, 16),
                                       s.aacts.logits, nullptr) == RACT_OK);
  for (int i = 0; i < 16 * I; i++) CHECK(sco[16 * I + i] == s.aacts.logits[i]);
  ract_error e;
  ract_actor_acts tiny;
  REQUIRE(ract_actor_acts_create(&tiny, &s.actor, 4, 2, &s.ar.a, nullptr) == RACT_OK);
  ract_actor_scorer sc2 = {&s.actor, &tiny, 1};
  CHECK(ract_actor_score(&sc2, ract_sparse_rows(train, 0, 4), ract_tensor_make(sco.data(), 4, I),
                         &e) == RACT_ERR_SHAPE);
  CHECK(strstr(e.msg, "3 items, room for 2") != nullptr);
}

namespace {

// The tiny model of the finite-difference checks: I = 7 (TinyBatch), hidden 5, L = 3, critic
// 3 -> 6 -> 4 -> 1, NDCG@3. eps_std 1 and beta 0.3 (recbole) / 0.2 (paper) so that the
// logvar path and the KL term carry weight in every stage.
ract_hparams fd_config(const char* preset, ract_bn_mode bn) {
  ract_hparams c = tiny_hparams(preset);
  c.bn_mode = bn;
  return c;
}

void fill(std::vector<double>* sentinel, const double* p, size_t n) { sentinel->assign(p, p + n); }

}  // namespace

TEST_CASE("step: every stage's objective by finite differences through ract_model_step") {
  // What the trainer runs, in double: the stage glue (the upstream weights of each stage,
  // -Q handed back to the actor with beta * KL where the feature holds it, the critic's loss
  // in paper's finetune), checked on every trainable parameter. The dropout mask and eps are
  // the same every call (a copy of one RNG state).
  TinyBatch tb;
  const ract_sparse x = tb.view();
  for (const char* preset : {"recbole", "paper"}) {
    for (ract_bn_mode bn : {RACT_BN_BATCH, RACT_BN_RUNNING}) {
      CAPTURE(preset);
      CAPTURE((int)bn);
      StepModel<double> s(fd_config(preset, bn), 7, 4, 13);
      s.randomise(41 + (int)bn, 0.6, 0.5);
      s.anneal.steps = 2;
      ract_rng rng;
      ract_rng_seed(&rng, 9, 0);
      const bool recbole = strcmp(preset, "recbole") == 0;
      const double beta = recbole ? 0.3 : 0.2;  // per_loss counts this call, per_batch not yet
      std::vector<double> g, untouched;

      // actor_pretrain: mean(ce + beta * kl) into every actor weight; the critic is left alone.
      for (size_t i = 0; i < s.critic.w.n; i++) s.critic.w.grads[i] = 0.5;
      ract_step_stats st = s.step(RACT_STAGE_ACTOR_PRETRAIN, x, rng);
      CHECK(st.beta == doctest::Approx(beta));
      CHECK(st.loss == doctest::Approx(st.ce + st.beta * st.kl).epsilon(1e-12));
      for (size_t i = 0; i < s.critic.w.n; i++) CHECK(s.critic.w.grads[i] == 0.5);
      fill(&g, s.actor.w.grads, s.actor.w.n);
      fd_check("actor_pretrain: actor", s.actor.w.params, g.data(), g.size(),
               [&] { return s.step(RACT_STAGE_ACTOR_PRETRAIN, x, rng).loss; });

      // critic_pretrain: the critic's MSE (+ l2) into every critic parameter; the actor's
      // gradients untouched.
      for (size_t i = 0; i < s.actor.w.n; i++) s.actor.w.grads[i] = 0.25;
      st = s.step(RACT_STAGE_CRITIC_PRETRAIN, x, rng);
      CHECK(st.loss == st.critic_loss);
      for (size_t i = 0; i < s.actor.w.n; i++) CHECK(s.actor.w.grads[i] == 0.25);
      fill(&g, s.critic.w.grads, s.critic.w.n);
      fd_check("critic_pretrain: critic", s.critic.w.params, g.data(), g.size(),
               [&] { return s.step(RACT_STAGE_CRITIC_PRETRAIN, x, rng).loss; });

      // finetune: -mean(Q) into every actor weight, through the critic, BatchNorm and the
      // loss feature; with finetune_critic (paper) the critic's own loss into the critic, on
      // the same forward; without it (recbole) no critic gradient.
      for (size_t i = 0; i < s.critic.w.n; i++) s.critic.w.grads[i] = 0.5;
      st = s.step(RACT_STAGE_FINETUNE, x, rng);
      CHECK(st.loss == doctest::Approx(-st.q).epsilon(1e-12));
      fill(&g, s.actor.w.grads, s.actor.w.n);
      fill(&untouched, s.critic.w.grads, s.critic.w.n);
      fd_check("finetune: actor", s.actor.w.params, g.data(), g.size(),
               [&] { return s.step(RACT_STAGE_FINETUNE, x, rng).loss; });
      if (s.cfg.finetune_critic) {
        fd_check("finetune: critic", s.critic.w.params, untouched.data(), untouched.size(),
                 [&] { return s.step(RACT_STAGE_FINETUNE, x, rng).critic_loss; });
      } else {
        for (double v : untouched) CHECK(v == 0.5);
      }
    }
  }
}

TEST_CASE("step: the held-out loss feature and the finetune controls by finite differences") {
  // The ract preset's pieces: the critic reading the held-out CE (the items dropout removed,
  // softmax over the items it did not keep), the finetune controls (the actor's own loss; the
  // critic's loss feature at 1/B), and the normalised critic weights, which are no gradient
  // of anything: at mix 0 the critic's gradient divided by one positive number, at mix 1 the
  // feature control's gradient.
  TinyBatch tb;
  const ract_sparse x = tb.view();
  for (ract_bn_mode bn : {RACT_BN_BATCH, RACT_BN_RUNNING}) {
    for (int with_kl = 0; with_kl < 2; with_kl++) {
      CAPTURE((int)bn);
      CAPTURE(with_kl);
      ract_hparams base = fd_config("ract", bn);
      REQUIRE(base.critic_loss_feature == RACT_FEATURE_HELDOUT);
      base.critic_loss_with_kl = with_kl;
      base.critic_weight_norm = 0;
      base.critic_weight_mix = 0;
      ract_rng rng;
      ract_rng_seed(&rng, 17, 0);
      std::vector<double> g;
      auto model = [&](ract_finetune_objective obj, int norm, float mix) {
        ract_hparams c = base;
        c.finetune_objective = obj;
        c.critic_weight_norm = norm;
        c.critic_weight_mix = mix;
        auto s = std::make_unique<StepModel<double>>(c, 7, 4, 13);
        s->randomise(23 + (int)bn, 0.6, 0.5);
        s->anneal.steps = 2;
        return s;
      };

      // The held-out CE feeds the critic: critic_pretrain's loss into the critic, finetune's
      // -Q into the actor.
      auto crit = model(RACT_FINETUNE_CRITIC, 0, 0);
      ract_step_stats st = crit->step(RACT_STAGE_CRITIC_PRETRAIN, x, rng);
      REQUIRE(std::isfinite(st.loss));
      fill(&g, crit->critic.w.grads, crit->critic.w.n);
      fd_check("heldout critic_pretrain: critic", crit->critic.w.params, g.data(), g.size(),
               [&] { return crit->step(RACT_STAGE_CRITIC_PRETRAIN, x, rng).loss; });
      st = crit->step(RACT_STAGE_FINETUNE, x, rng);
      CHECK(st.loss == doctest::Approx(-st.q).epsilon(1e-12));
      std::vector<double> g_critic(crit->actor.w.grads, crit->actor.w.grads + crit->actor.w.n);
      fd_check("heldout finetune: actor", crit->actor.w.params, g_critic.data(), g_critic.size(),
               [&] { return crit->step(RACT_STAGE_FINETUNE, x, rng).loss; });

      // The likelihood control: the actor's own loss, mean(ce + beta kl), whatever the feature.
      auto like = model(RACT_FINETUNE_LIKELIHOOD, 0, 0);
      st = like->step(RACT_STAGE_FINETUNE, x, rng);
      CHECK(st.loss == doctest::Approx(st.ce + st.beta * st.kl).epsilon(1e-12));
      CHECK(st.q == 0);  // the critic does not run
      fill(&g, like->actor.w.grads, like->actor.w.n);
      fd_check("likelihood finetune: actor", like->actor.w.params, g.data(), g.size(),
               [&] { return like->step(RACT_STAGE_FINETUNE, x, rng).loss; });

      // The feature control: mean(held-out CE [+ beta kl]).
      auto feat = model(RACT_FINETUNE_FEATURE, 0, 0);
      st = feat->step(RACT_STAGE_FINETUNE, x, rng);
      CHECK(st.loss != doctest::Approx(st.ce + (with_kl ? st.beta * st.kl : 0)));
      std::vector<double> g_feat(feat->actor.w.grads, feat->actor.w.grads + feat->actor.w.n);
      fd_check("feature finetune: actor", feat->actor.w.params, g_feat.data(), g_feat.size(),
               [&] { return feat->step(RACT_STAGE_FINETUNE, x, rng).loss; });

      // Normalised critic weights. Mix 0: g = g_critic / c for one c > 0, the sum of
      // |dQ/dL| over the batch.
      auto norm0 = model(RACT_FINETUNE_CRITIC, 1, 0.0f);
      norm0->step(RACT_STAGE_FINETUNE, x, rng);
      double gg = 0, gc = 0;
      for (size_t i = 0; i < g_critic.size(); i++) {
        gg += norm0->actor.w.grads[i] * g_critic[i];
        gc += g_critic[i] * g_critic[i];
      }
      REQUIRE(gg > 0);
      const double c = gc / gg;
      int off = 0;
      for (size_t i = 0; i < g_critic.size(); i++) {
        off += !(fabs(norm0->actor.w.grads[i] * c - g_critic[i]) <= 1e-9 * (1 + fabs(g_critic[i])));
      }
      CHECK(off == 0);
      // Mix 1: every user weighted 1/B, the feature control's gradient exactly.
      auto norm1 = model(RACT_FINETUNE_CRITIC, 1, 1.0f);
      norm1->step(RACT_STAGE_FINETUNE, x, rng);
      off = 0;
      for (size_t i = 0; i < g_feat.size(); i++) {
        off += !(fabs(norm1->actor.w.grads[i] - g_feat[i]) <= 1e-12 * (1 + fabs(g_feat[i])));
      }
      CHECK(off == 0);
    }
  }
}

TEST_CASE("step: a finetune step at a small learning rate raises Q on the same batch") {
  TinyBatch tb;
  const ract_sparse x = tb.view();
  for (const char* preset : {"recbole", "paper"}) {
    CAPTURE(preset);
    StepModel<double> s(
        fd_config(preset, strcmp(preset, "paper") ? RACT_BN_BATCH : RACT_BN_RUNNING), 7, 4, 13);
    s.randomise(5, 0.6, 0.5);
    ract_rng rng;
    ract_rng_seed(&rng, 3, 0);
    const ract_step_stats before = s.step(RACT_STAGE_FINETUNE, x, rng);
    double g2 = 0;
    for (size_t i = 0; i < s.actor.w.n; i++) g2 += s.actor.w.grads[i] * s.actor.w.grads[i];
    REQUIRE(g2 > 0);
    // Plain gradient descent on -Q, actor only: Q rises by lr * |g|^2 to first order.
    const double lr = 1e-3 / g2;
    for (size_t i = 0; i < s.actor.w.n; i++) s.actor.w.params[i] -= lr * s.actor.w.grads[i];
    const ract_step_stats after = s.step(RACT_STAGE_FINETUNE, x, rng);
    CHECK(after.q > before.q);
    CHECK((after.q - before.q) == doctest::Approx(lr * g2).epsilon(0.02));
  }
}

namespace {

// Users over I = 203 items (not a multiple of 16 or 64) with 0, 1, 201 and a few dozen
// entries: every vector block and tail of the float kernels runs.
struct WideBatch {
  static constexpr int kItems = 203;
  std::vector<int64_t> ptr{0};
  std::vector<int32_t> idx;
  WideBatch() {
    ract_rng r;
    ract_rng_seed(&r, 12, 0);
    const int lens[] = {0, 1, 201, 37, 12, 90, 5};
    for (int n : lens) {
      std::vector<int> items(kItems);
      for (int i = 0; i < kItems; i++) items[i] = i;
      ract_rng_shuffle(&r, items.data(), kItems);
      std::sort(items.begin(), items.begin() + n);
      idx.insert(idx.end(), items.begin(), items.begin() + n);
      ptr.push_back((int64_t)idx.size());
    }
  }
  ract_sparse view() const {
    ract_sparse s = {(int)ptr.size() - 1, kItems, ptr.data(), idx.data(), nullptr};
    return s;
  }
};

}  // namespace

const char* const kStage[] = {"actor_pretrain", "critic_pretrain", "finetune"};

TEST_CASE("step: the float model equals the checked double model at SIMD widths") {
  // The double model is the one checked by finite differences; the float one runs BLIS and
  // the vector kernels. Same weights, the same dropout mask, eps within 1e-6: every gradient
  // tensor of every stage agrees to 5e-5 of its own scale, and so do the stage's numbers.
  WideBatch wb;
  const ract_sparse x = wb.view();
  const int I = WideBatch::kItems, B = x.rows;
  const int64_t nnz = x.ptr[B];
  struct Case {
    const char* preset;
    int hidden[2];
    int n_hidden;
    int threads;
  } cases[] = {{"recbole", {600}, 1, 1},
               {"paper", {600}, 1, 2},
               {"recbole", {67}, 1, 2},
               {"paper", {67, 600}, 2, 1}};
  double worst = 0;
  for (const Case& k : cases) {
    CAPTURE(k.preset);
    CAPTURE(k.hidden[0]);
    CAPTURE(k.threads);
    ract_parallel_set_threads(k.threads);
    ract_parallel_set_grain(k.threads > 1 ? 1 : 32768);
    ract_hparams c;
    REQUIRE(ract_hparams_preset(&c, k.preset, nullptr) == RACT_OK);
    c.n_hidden = k.n_hidden;
    for (int j = 0; j < k.n_hidden; j++) c.mlp_hidden_size[j] = k.hidden[j];
    c.metrics_k = 20;
    c.eps_std = 0.5f;
    c.total_anneal_steps = 10;
    StepModel<float> f(c, I, B, nnz);
    StepModel<double> d(c, I, B, nnz);
    f.randomise(17, 0.05, 0.3);
    f.anneal.steps = 2;
    d.copy_from(f);
    ract_rng rng;
    ract_rng_seed(&rng, 21, 0);
    for (ract_stage stage :
         {RACT_STAGE_ACTOR_PRETRAIN, RACT_STAGE_CRITIC_PRETRAIN, RACT_STAGE_FINETUNE}) {
      CAPTURE((int)stage);
      const ract_step_stats sf = f.step(stage, x, rng), sd = d.step(stage, x, rng);
      CHECK(sf.actor_loss == doctest::Approx(sd.actor_loss).epsilon(1e-5));
      CHECK(sf.loss == doctest::Approx(sd.loss).epsilon(1e-5));
      CHECK(sf.q == doctest::Approx(sd.q).epsilon(1e-5));
      CHECK(sf.target == doctest::Approx(sd.target).epsilon(1e-6));  // the same ranking
      const bool actor = stage != RACT_STAGE_CRITIC_PRETRAIN;
      const bool critic = stage == RACT_STAGE_CRITIC_PRETRAIN ||
                          (stage == RACT_STAGE_FINETUNE && c.finetune_critic);
      for (int t = 0; actor && t < d.actor.w.table.n; t++) {
        const ract_param_info p = ract_table_info(&d.actor.w.table, t);
        worst = fmax(worst, same_tensor(std::string(kStage[stage]) + " " + p.name,
                                        f.actor.w.grads + p.offset, d.actor.w.grads + p.offset,
                                        (size_t)p.rows * p.cols, 5e-5));
      }
      for (int t = 0; critic && t < d.critic.w.table.n; t++) {
        const ract_param_info p = ract_table_info(&d.critic.w.table, t);
        worst = fmax(worst, same_tensor(std::string(kStage[stage]) + " " + p.name,
                                        f.critic.w.grads + p.offset, d.critic.w.grads + p.offset,
                                        (size_t)p.rows * p.cols, 5e-5));
      }
    }
  }
  MESSAGE("float model: worst gradient error " << worst << " of its tensor's scale");
  ract_parallel_set_threads(1);
  ract_parallel_set_grain(32768);
}
