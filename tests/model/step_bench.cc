// Seconds per train step of each stage at ml-1m scale on random sparse histories (no data
// files): I = 3706 items, hidden [600], batch 500, ~95 items per user. Not a test: run with
//   bazel run -c opt //tests/model:step_bench -- [preset] [batch] [threads]
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <algorithm>
#include <vector>

#include "ract/core/clock.h"
#include "ract/math/gemm.h"
#include "ract/model/hparams.h"
#include "ract/model/step.h"

int main(int argc, char** argv) {
  const char* preset = argc > 1 ? argv[1] : "paper";
  const int B = argc > 2 ? atoi(argv[2]) : 500;
  const int threads = argc > 3 ? atoi(argv[3]) : 1;
  const int I = 3706, per_user = 95, steps = 10;
  ract_gemm_set_threads(threads);
  ract_hparams cfg;
  ract_error err;
  if (ract_hparams_preset(&cfg, preset, &err) != RACT_OK) {
    fprintf(stderr, "%s\n", err.msg);
    return 1;
  }
  ract_rng rng;
  ract_rng_seed(&rng, 1, 0);
  std::vector<int64_t> ptr(B + 1);
  std::vector<int32_t> idx;
  for (int u = 0; u < B; u++) {
    std::vector<int32_t> row;
    while ((int)row.size() < per_user) {
      int i = (int)ract_rng_below(&rng, I);
      if (std::find(row.begin(), row.end(), i) == row.end()) row.push_back(i);
    }
    std::sort(row.begin(), row.end());
    idx.insert(idx.end(), row.begin(), row.end());
    ptr[u + 1] = (int64_t)idx.size();
  }
  ract_sparse x = {B, I, ptr.data(), idx.data(), nullptr};
  const size_t bytes = ract_actor_bytes(&cfg, I) + ract_critic_bytes(&cfg) +
                       ract_actor_acts_bytes(&cfg, I, B, (int64_t)idx.size()) +
                       ract_critic_acts_bytes(&cfg, B) + 4096;
  ract_arena ar, scratch;
  if (ract_arena_create(&ar, bytes, &err) != RACT_OK ||
      ract_arena_create(&scratch, ract_critic_target_bytes(I, cfg.metrics_k), &err) != RACT_OK) {
    fprintf(stderr, "%s\n", err.msg);
    return 1;
  }
  ract_actor a;
  ract_critic c;
  ract_actor_acts aa;
  ract_critic_acts ca;
  if (ract_actor_create(&a, &cfg, I, &ar, &err) || ract_critic_create(&c, &cfg, &ar, &err) ||
      ract_actor_acts_create(&aa, &a, B, (int64_t)idx.size(), &ar, &err) ||
      ract_critic_acts_create(&ca, &c, B, &ar, &err)) {
    fprintf(stderr, "%s\n", err.msg);
    return 1;
  }
  ract_actor_init_params(&a, &rng);
  ract_critic_init_params(&c, &rng);
  ract_anneal an = {0};
  ract_step_ctx m = {&a, &c, &aa, &ca, &scratch, &an, nullptr};
  const ract_batch batch = {x, {2020, 0, nullptr}, x.rows};
  printf("preset %s, I %d, batch %d, threads %d, blas kernel %s, arena %.1f MB\n", preset, I, B,
         threads, ract_gemm_kernel(), bytes / 1e6);
  const char* names[3] = {"actor_pretrain", "critic_pretrain", "finetune"};
  for (int s = 0; s < 3; s++) {
    ract_step_stats st;
    ract_model_step(&m, (ract_stage)s, &batch, &st, &err);  // warm-up
    double t0 = ract_clock_seconds();
    for (int i = 0; i < steps; i++) {
      if (ract_model_step(&m, (ract_stage)s, &batch, &st, &err) != RACT_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
      }
    }
    double dt = (ract_clock_seconds() - t0) / steps;
    printf("%-16s %.2f ms/step  (%.0f users/s)\n", names[s], 1e3 * dt, B / dt);
  }
  // eval forward alone
  double t0 = ract_clock_seconds();
  for (int i = 0; i < steps; i++) ract_actor_full_sort_predict(&a, &aa, x, aa.logits, &err);
  printf("%-16s %.2f ms/batch\n", "eval forward", 1e3 * (ract_clock_seconds() - t0) / steps);
  ract_arena_free(&ar);
  ract_arena_free(&scratch);
  return 0;
}
