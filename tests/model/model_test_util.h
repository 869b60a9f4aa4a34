// Helpers shared by the model tests: a tiny binary batch, arenas, a whole model for T.
#ifndef RACT_TESTS_MODEL_MODEL_TEST_UTIL_H_
#define RACT_TESTS_MODEL_MODEL_TEST_UTIL_H_

#include <doctest/doctest.h>
#include <math.h>
#include <string.h>

#include <functional>
#include <string>
#include <vector>

#include "ract/core/arena.h"
#include "ract/core/tensor.h"
#include "ract/model/hparams.h"
#include "ract/model/step.h"
#include "tests/numeric.h"

// Four users over I = 7 items.
struct TinyBatch {
  std::vector<int64_t> ptr = {0, 3, 5, 9, 13};
  std::vector<int32_t> idx = {0, 2, 5, 1, 3, 0, 1, 4, 6, 2, 3, 5, 6};
  ract_sparse view() const {
    ract_sparse s = {4, 7, ptr.data(), idx.data(), nullptr};
    return s;
  }
};
// A fixed dropout mask over the 13 entries: every user keeps some and drops some, except
// user 1 who keeps everything (unseen = 0).
static const uint8_t kTinyKeep[13] = {1, 0, 1, 1, 1, 0, 1, 1, 0, 0, 1, 0, 1};

// A preset's model at a tiny size (5 hidden, 2 critic layers, NDCG@3), annealing over 10
// steps to 0.5, eps at unit scale: every path exercised in a few microseconds.
inline ract_hparams tiny_hparams(const char* preset) {
  ract_hparams c;
  REQUIRE(ract_hparams_preset(&c, preset, nullptr) == RACT_OK);
  c.mlp_hidden_size[0] = 5;
  c.latent_dimension = c.head == RACT_HEAD_SPLIT ? 6 : 3;
  c.n_critic_layers = 2;
  c.critic_layers[0] = 6;
  c.critic_layers[1] = 4;
  c.metrics_k = 3;
  c.eps_std = 1.0f;
  c.anneal_cap = 0.5f;
  c.total_anneal_steps = 10;
  return c;
}

// An owned arena, freed at scope exit.
struct OwnedArena {
  ract_arena a;
  explicit OwnedArena(size_t bytes) { REQUIRE(ract_arena_create(&a, bytes, nullptr) == RACT_OK); }
  ~OwnedArena() { ract_arena_free(&a); }
};

// The forward and its complete logits (with the output bias) in acts->logits: what most
// checks read.
// A train forward draws from a seed taken from rng (fresh draws at every call).
template <typename T>
ract_status forward_logits(const ract_actor_t<T>* a, ract_actor_acts_t<T>* acts, ract_sparse x,
                           ract_mode mode, ract_rng* rng, ract_error* err) {
  const ract_draws draws = {rng ? ract_rng_u64(rng) : 0, 0, nullptr};
  RACT_CHECK(ract_actor_forward(a, acts, x, mode, rng ? &draws : nullptr, err));
  ract_actor_logits(a, acts, acts->logits, 1);
  return RACT_OK;
}

// dL/dlogits from the upstream weights dce over acts->logits (after ract_actor_loss), then
// the backward: the gradient of sum_b dce_b ce_b + dkl_b kl_b.
template <typename T>
ract_status backward_ce(ract_actor_t<T>* a, ract_actor_acts_t<T>* acts, ract_sparse x, const T* dce,
                        const T* dkl, ract_error* err) {
  ract_actor_dlogits(a, acts, x, acts->logits, dce);
  return ract_actor_backward(a, acts, x, acts->logits, dkl, err);
}

// One step on x as a whole batch, drawing from a seed taken from rng (fresh draws each call).
template <typename T>
ract_status step_on(ract_step_ctx_t<T>* m, ract_stage stage, ract_sparse x, ract_rng* rng,
                    ract_step_stats* st, ract_error* err) {
  const ract_batch batch = {x, {ract_rng_u64(rng), 0, nullptr}, x.rows};
  return ract_model_step(m, stage, &batch, st, err);
}

// An actor, a critic, their activations and a step context for T, all in one owned arena.
template <typename T>
struct StepModel {
  ract_hparams cfg;
  int n_items;
  OwnedArena ar;
  OwnedArena scratch;
  ract_actor_t<T> actor;
  ract_critic_t<T> critic;
  ract_actor_acts_t<T> aacts;
  ract_critic_acts_t<T> cacts;
  ract_anneal anneal = {0};
  ract_step_ctx_t<T> m;
  StepModel(const ract_hparams& c, int I, int max_batch, int64_t max_nnz)
      : cfg(c),
        n_items(I),
        ar(ract_actor_bytes(&c, I, sizeof(T)) + ract_critic_bytes(&c, sizeof(T)) +
           ract_actor_acts_bytes(&c, I, max_batch, max_nnz, sizeof(T)) +
           ract_critic_acts_bytes(&c, max_batch, sizeof(T)) + (1 << 12)),
        scratch(ract_critic_target_bytes(I, c.metrics_k)) {
    REQUIRE(ract_actor_create(&actor, &cfg, I, &ar.a, nullptr) == RACT_OK);
    REQUIRE(ract_critic_create(&critic, &cfg, &ar.a, nullptr) == RACT_OK);
    REQUIRE(ract_actor_acts_create(&aacts, &actor, max_batch, max_nnz, &ar.a, nullptr) == RACT_OK);
    REQUIRE(ract_critic_acts_create(&cacts, &critic, max_batch, &ar.a, nullptr) == RACT_OK);
    m = {&actor, &critic, &aacts, &cacts, &scratch.a, &anneal, nullptr};
  }
  // Every parameter of both models from one seed (biases and BatchNorm's affine too, so that
  // every gradient is exercised), and plausible running statistics.
  void randomise(uint64_t seed, double actor_scale, double critic_scale) {
    ract_rng r;
    ract_rng_seed(&r, seed, 0);
    for (size_t i = 0; i < actor.w.n; i++) {
      actor.w.params[i] = (T)(actor_scale * ract_rng_normal(&r));
    }
    for (size_t i = 0; i < critic.w.n; i++) {
      critic.w.params[i] = (T)(critic_scale * ract_rng_normal(&r));
    }
    if (critic.p.bn_gamma) {
      for (int f = 0; f < RACT_CRITIC_FEATURES; f++) critic.p.bn_gamma[f] += 1;
    }
    const double mean[3] = {3, 2, 8}, var[3] = {2, 1.5, 4};
    for (int f = 0; f < RACT_CRITIC_FEATURES; f++) {
      critic.bn_mean[f] = (T)mean[f];
      critic.bn_var[f] = (T)var[f];
    }
  }
  template <typename U>
  void copy_from(const StepModel<U>& o) {
    for (size_t i = 0; i < actor.w.n; i++) actor.w.params[i] = (T)o.actor.w.params[i];
    for (size_t i = 0; i < critic.w.n; i++) critic.w.params[i] = (T)o.critic.w.params[i];
    for (int f = 0; f < RACT_CRITIC_FEATURES; f++) {
      critic.bn_mean[f] = (T)o.critic.bn_mean[f];
      critic.bn_var[f] = (T)o.critic.bn_var[f];
    }
    anneal = o.anneal;
  }
  // One step of `stage` on x as one batch, its dropout mask and eps drawn from a seed taken
  // from `rng` (the same every call: rng is not advanced), the annealing counter and the
  // BatchNorm running statistics as they were.
  ract_step_stats step(ract_stage stage, ract_sparse x, const ract_rng& rng) {
    const ract_batch batch = {x, {rng.s[0], 1, nullptr}, x.rows};
    const ract_anneal an = anneal;
    T mean[3], var[3];
    memcpy(mean, critic.bn_mean, sizeof(mean));
    memcpy(var, critic.bn_var, sizeof(var));
    ract_step_stats st;
    ract_error err = {};
    REQUIRE_MESSAGE(ract_model_step(&m, stage, &batch, &st, &err) == RACT_OK, err.msg);
    anneal = an;
    memcpy(critic.bn_mean, mean, sizeof(mean));
    memcpy(critic.bn_var, var, sizeof(var));
    return st;
  }
};

#endif  // RACT_TESTS_MODEL_MODEL_TEST_UTIL_H_
