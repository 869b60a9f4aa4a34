// The library's side of the PyTorch cross-check (tests/model/xcheck_test.sh runs it, then
// tests/model/xcheck_torch.py). For each case — both presets, at widths that run the float
// SIMD blocks and their tails (hidden 600 and 67, items not a multiple of 16 or 64, rows
// with 0, 1 and 200+ history items) — it runs ract_model_step, the float code the trainer
// runs, once per stage on one batch and dumps what the step used and computed: the dropout
// mask and eps it drew, mu/logvar, the logits (a replay of the same forward), CE, KL, the
// loss, the critic features, the NDCG target, Q, the stage loss and the gradients (actor
// params for the actor loss; critic params for the critic loss; actor params for -mean(Q)
// through the critic and BatchNorm; with the paper preset also the critic's loss in
// finetune). No optimizer step runs: the parameters dumped once hold for every stage.
//
// Output: DIR/xcheck.json (the cases, each array as [offset, count] into the next file) and
// DIR/xcheck.f32 (the arrays, little-endian float32).
//   xcheck_dump DIR
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <algorithm>
#include <string>
#include <vector>

#include "ract/core/arena.h"
#include "ract/core/rng.h"
#include "ract/model/actor.h"
#include "ract/model/critic.h"
#include "ract/model/hparams.h"
#include "ract/model/step.h"

namespace {

std::vector<float> g_blob;
std::string g_json;

void jprintf(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void jprintf(const char* fmt, ...) {
  char buf[4096];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof(buf), fmt, ap);
  va_end(ap);
  g_json += buf;
}

// "name": [offset, count], with the values appended to the blob.
template <typename T>
void arr(const char* name, const T* v, size_t n) {
  jprintf("\"%s\": [%zu, %zu], ", name, g_blob.size(), n);
  for (size_t i = 0; i < n; i++) g_blob.push_back((float)v[i]);
}

// Every tensor of a flat buffer (params or grads) under its layout name.
void tensors(const char* key, const ract_param_table* t, const float* base) {
  jprintf("\"%s\": {", key);
  for (int i = 0; i < t->n; i++) {
    const ract_param_info p = t->info[i];
    jprintf("%s\"%s\": [%zu, %d, %d]", i ? ", " : "", p.name, g_blob.size(), p.rows, p.cols);
    for (int j = 0; j < p.rows * p.cols; j++) g_blob.push_back(base[p.offset + j]);
  }
  jprintf("}, ");
}

struct Case {
  const char* name;
  const char* preset;
  int hidden[2];
  int n_hidden;
  int latent_dimension;
  int items;
};

bool run_case(const Case& k, bool last) {
  ract_error err = {};
  ract_hparams c;
  ract_hparams_preset(&c, k.preset, nullptr);
  c.n_hidden = k.n_hidden;
  for (int j = 0; j < k.n_hidden; j++) c.mlp_hidden_size[j] = k.hidden[j];
  c.latent_dimension = k.latent_dimension;
  c.total_anneal_steps = 7;  // beta = 1/7 in the actor stage, the cap 0.2 after
  const int I = k.items;
  // History sizes: empty, one item, a few, and rows of 200+ items.
  const int sizes[] = {0, 1, 2, 3, 9, 40, 77, 150, 230, 300};
  const int B = (int)(sizeof(sizes) / sizeof(sizes[0]));
  ract_rng rng;
  ract_rng_seed(&rng, 11, 0);
  std::vector<int64_t> ptr(1, 0);
  std::vector<int32_t> idx;
  std::vector<int32_t> perm(I);
  for (int b = 0; b < B; b++) {
    for (int i = 0; i < I; i++) perm[i] = i;
    ract_rng_shuffle(&rng, perm.data(), I);
    std::sort(perm.begin(), perm.begin() + sizes[b]);
    idx.insert(idx.end(), perm.begin(), perm.begin() + sizes[b]);
    ptr.push_back((int64_t)idx.size());
  }
  const int64_t nnz = (int64_t)idx.size();
  ract_sparse x = {B, I, ptr.data(), idx.data(), nullptr};

  ract_arena ar, scratch;
  ract_actor a;
  ract_critic cr;
  ract_actor_acts aa;
  ract_critic_acts ca;
  size_t bytes = ract_actor_bytes(&c, I) + ract_critic_bytes(&c) +
                 ract_actor_acts_bytes(&c, I, B, nnz) + ract_critic_acts_bytes(&c, B) + (1 << 16);
  if (ract_arena_create(&ar, bytes, &err) != RACT_OK ||
      ract_arena_create(&scratch, ract_critic_target_bytes(I, c.metrics_k), &err) != RACT_OK ||
      ract_actor_create(&a, &c, I, &ar, &err) != RACT_OK ||
      ract_critic_create(&cr, &c, &ar, &err) != RACT_OK ||
      ract_actor_acts_create(&aa, &a, B, nnz, &ar, &err) != RACT_OK ||
      ract_critic_acts_create(&ca, &cr, B, &ar, &err) != RACT_OK) {
    fprintf(stderr, "xcheck_dump: %s: %s\n", k.name, err.msg);
    return false;
  }
  ract_actor_init_params(&a, &rng);
  ract_critic_init_params(&cr, &rng);
  // Non-zero biases (the presets' inits make some zero, which would hide a bias left out),
  // and BatchNorm's gamma/beta away from 1/0.
  for (int i = 0; i < a.w.table.n; i++) {
    ract_param_info p = ract_table_info(&a.w.table, i);
    if (p.cols != 1) continue;
    for (int j = 0; j < p.rows; j++) a.w.params[p.offset + j] = 0.1f * (float)ract_rng_normal(&rng);
  }
  for (int i = 0; i < cr.w.table.n; i++) {
    ract_param_info p = ract_table_info(&cr.w.table, i);
    if (p.cols != 1) continue;
    const bool gamma = strcmp(p.name, "critic.bn.gamma") == 0;
    for (int j = 0; j < p.rows; j++) {
      cr.w.params[p.offset + j] = (gamma ? 1.0f : 0.0f) + 0.2f * (float)ract_rng_normal(&rng);
    }
  }
  ract_anneal anneal = {1};
  ract_step_ctx m = {&a, &cr, &aa, &ca, &scratch, &anneal, nullptr};

  jprintf("{\"name\": \"%s\", \"preset\": \"%s\", \"items\": %d, \"batch\": %d, \"latent\": %d, ",
          k.name, k.preset, I, B, a.latent);
  jprintf("\"dropout_prob\": %.9g, \"inverted\": %d, \"bn_batch\": %d, \"bn_eps\": %.9g, ",
          (double)c.dropout_prob, c.dropout_style == RACT_DROPOUT_INVERTED,
          c.bn_mode == RACT_BN_BATCH, (double)c.bn_eps);
  jprintf("\"loss_with_kl\": %d, \"gain_sqrt\": %d, \"critic_l2\": %.9g, \"metrics_k\": %d, ",
          c.critic_loss_with_kl, c.ndcg_gain_sqrt, (double)c.critic_l2, c.metrics_k);
  jprintf("\"finetune_critic\": %d, \"bn_momentum\": %.9g, ", c.finetune_critic,
          (double)c.bn_momentum);
  arr("ptr", ptr.data(), ptr.size());
  arr("idx", idx.data(), idx.size());
  tensors("actor", &a.w.table, a.w.params);
  tensors("critic", &cr.w.table, cr.w.params);
  jprintf("\"stages\": {");
  for (int s = 0; s < 3; s++) {
    const ract_stage stage = (ract_stage)s;
    // The running statistics this step's critic reads (paper; recbole uses the batch's).
    std::vector<float> bn(cr.bn_mean, cr.bn_mean + 3);
    bn.insert(bn.end(), cr.bn_var, cr.bn_var + 3);
    ract_step_stats st;
    const ract_batch batch = {x, {ract_rng_u64(&rng), (uint64_t)s, nullptr}, x.rows};
    if (ract_model_step(&m, stage, &batch, &st, &err) != RACT_OK) {
      fprintf(stderr, "xcheck_dump: %s: stage %d: %s\n", k.name, s, err.msg);
      return false;
    }
    jprintf("%s\"%d\": {\"beta\": %.9g, \"loss\": %.9g, \"actor_loss\": %.9g, ", s ? ", " : "", s,
            (double)st.beta, (double)st.loss, (double)st.actor_loss);
    jprintf("\"critic_loss\": %.9g, ", (double)st.critic_loss);
    arr("bn_running", bn.data(), 6);
    arr("keep", aa.keep, (size_t)nnz);
    arr("eps", aa.eps, (size_t)B * a.latent);
    arr("head", aa.head, (size_t)B * 2 * a.latent);
    arr("ce", aa.ce, B);
    arr("kl", aa.kl, B);
    arr("loss_row", aa.loss, B);
    if (stage == RACT_STAGE_ACTOR_PRETRAIN) {
      tensors("g_actor", &a.w.table, a.w.grads);
    } else {
      arr("feat", ca.feat, (size_t)B * 3);
      arr("target", ca.target, B);
      arr("q", ca.q, B);
      if (stage == RACT_STAGE_CRITIC_PRETRAIN || c.finetune_critic) {
        tensors("g_critic", &cr.w.table, cr.w.grads);
      }
      if (stage == RACT_STAGE_FINETUNE) {
        tensors("g_actor", &a.w.table, a.w.grads);
      }
    }
    // The logits of the same forward (the step's buffer holds dL/dlogits after a backward).
    if (ract_actor_forward(&a, &aa, x, RACT_MODE_TRAIN_REPLAY, nullptr, &err) != RACT_OK) {
      fprintf(stderr, "xcheck_dump: %s: replay: %s\n", k.name, err.msg);
      return false;
    }
    ract_actor_logits(&a, &aa, aa.logits, 1);
    arr("logits", aa.logits, (size_t)B * I);
    g_json.resize(g_json.size() - 2);  // the last ", "
    jprintf("}");
  }
  jprintf("}}%s\n", last ? "" : ",");
  ract_arena_free(&scratch);
  ract_arena_free(&ar);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: xcheck_dump DIR\n");
    return 2;
  }
  const Case cases[] = {
      {"recbole h600 I333", "recbole", {600, 0}, 1, 256, 333},
      {"paper h67 I333", "paper", {67, 0}, 1, 200, 333},
      {"paper h600,67 I1009", "paper", {600, 67}, 2, 70, 1009},
      {"recbole h67,600 I1009", "recbole", {67, 600}, 2, 46, 1009},
  };
  const int n = (int)(sizeof(cases) / sizeof(cases[0]));
  g_json = "[\n";
  for (int i = 0; i < n; i++) {
    if (!run_case(cases[i], i == n - 1)) return 1;
  }
  g_json += "]\n";
  std::string dir = argv[1];
  FILE* j = fopen((dir + "/xcheck.json").c_str(), "w");
  FILE* b = fopen((dir + "/xcheck.f32").c_str(), "wb");
  if (j == nullptr || b == nullptr || fwrite(g_json.data(), 1, g_json.size(), j) != g_json.size() ||
      fwrite(g_blob.data(), sizeof(float), g_blob.size(), b) != g_blob.size() || fclose(j) != 0 ||
      fclose(b) != 0) {
    fprintf(stderr, "xcheck_dump: cannot write %s/xcheck.{json,f32}\n", dir.c_str());
    return 1;
  }
  printf("xcheck_dump: %d cases, %zu floats\n", n, g_blob.size());
  return 0;
}
