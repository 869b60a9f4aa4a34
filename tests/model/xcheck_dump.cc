// Manual cross-check against PyTorch autograd (not a test: no test depends on PyTorch).
// Dumps, for each preset, a tiny model's weights, a batch with a fixed dropout mask and eps,
// and what this library computes (logits, losses, Q, the NDCG target, and the gradients of
// the mean actor loss, the critic MSE and -mean(Q)) as JSON; tests/model/xcheck_torch.py
// recomputes everything with torch.autograd and prints the largest differences:
//   bazel build //tests/model:xcheck_dump && bazel-bin/tests/model/xcheck_dump > /tmp/x.json
//   python3 tests/model/xcheck_torch.py /tmp/x.json       (needs Debian's python3-torch)
#include <stdio.h>
#include <string.h>

#include <vector>

#include "ract/model/actor.h"
#include "ract/model/config.h"
#include "ract/model/critic.h"

namespace {

void arr(const char* name, const double* v, size_t n, bool last = false) {
  printf("\"%s\": [", name);
  for (size_t i = 0; i < n; i++) printf("%s%.17g", i ? ", " : "", v[i]);
  printf("]%s\n", last ? "" : ",");
}

template <typename Info, typename Count, typename Model>
void tensors(const char* key, const Model* m, const double* base, Count count, Info info) {
  printf("\"%s\": {", key);
  const int n = count(m);
  for (int i = 0; i < n; i++) {
    ract_param_info p = info(m, i);
    printf("%s\"%s\": {\"rows\": %d, \"cols\": %d, \"v\": [", i ? ", " : "", p.name, p.rows,
           p.cols);
    for (int j = 0; j < p.rows * p.cols; j++) printf("%s%.17g", j ? ", " : "", base[p.offset + j]);
    printf("]}");
  }
  printf("},\n");
}

}  // namespace

int main() {
  const int64_t ptr[] = {0, 3, 5, 9, 13};
  const int32_t idx[] = {0, 2, 5, 1, 3, 0, 1, 4, 6, 2, 3, 5, 6};
  const uint8_t keep[13] = {1, 0, 1, 1, 1, 0, 1, 1, 0, 0, 1, 0, 1};
  ract_sparse x = {4, 7, ptr, idx, nullptr};
  const float beta = 0.15f;
  printf("[\n");
  for (int paper = 0; paper < 2; paper++) {
    ract_model_config c;
    ract_model_config_preset(&c, paper ? "paper" : "recbole", nullptr);
    c.mlp_hidden_size[0] = 5;
    c.latent_dimension = paper ? 3 : 6;
    c.n_critic_layers = 2;
    c.critic_layers[0] = 6;
    c.critic_layers[1] = 4;
    c.metrics_k = 3;
    c.eps_std = 1.0f;
    ract_arena ar;
    ract_arena_create(&ar, 1 << 20, nullptr);
    ract_actor_t<double> a;
    ract_critic_t<double> cr;
    ract_actor_acts_t<double> aa;
    ract_critic_acts_t<double> ca;
    ract_actor_create(&a, &c, 7, &ar, nullptr);
    ract_critic_create(&cr, &c, &ar, nullptr);
    ract_actor_acts_create(&aa, &a, 4, 13, &ar, nullptr);
    ract_critic_acts_create(&ca, &cr, 4, &ar, nullptr);
    ract_rng r;
    ract_rng_seed(&r, 17 + paper, 0);
    for (size_t i = 0; i < a.n_params; i++) a.params[i] = 0.6 * ract_rng_normal(&r);
    ract_critic_init_params(&cr, &r);
    if (!paper) {
      for (int f = 0; f < 3; f++) {
        cr.p.bn_gamma[f] = 1.0 + 0.3 * ract_rng_normal(&r);
        cr.p.bn_beta[f] = 0.3 * ract_rng_normal(&r);
      }
    } else {
      const double m[3] = {2, 1.5, 7}, v[3] = {1, 1.2, 3};
      for (int f = 0; f < 3; f++) {
        cr.bn_mean[f] = m[f];
        cr.bn_var[f] = v[f];
      }
    }
    ract_actor_forward(&a, &aa, x, RACT_MODE_TRAIN, &r, nullptr);
    memcpy(aa.keep, keep, 13);
    ract_actor_forward(&a, &aa, x, RACT_MODE_TRAIN_REPLAY, nullptr, nullptr);
    const double mean_loss = ract_actor_loss(&a, &aa, x, beta);
    printf("{\"preset\": \"%s\", \"beta\": %.17g, \"latent\": %d, \"mean_actor_loss\": %.17g,\n",
           paper ? "paper" : "recbole", (double)beta, a.latent, mean_loss);
    printf("\"ptr\": [0, 3, 5, 9, 13], \"idx\": [0, 2, 5, 1, 3, 0, 1, 4, 6, 2, 3, 5, 6],\n");
    printf("\"keep\": [1, 0, 1, 1, 1, 0, 1, 1, 0, 0, 1, 0, 1],\n");
    arr("eps", aa.eps, 4 * a.latent);
    arr("bn_mean", cr.bn_mean, 3);
    arr("bn_var", cr.bn_var, 3);
    tensors("actor", &a, a.params, ract_actor_tensor_count<double>, ract_actor_tensor_info<double>);
    tensors("critic", &cr, cr.params, ract_critic_tensor_count<double>,
            ract_critic_tensor_info<double>);
    std::vector<double> logits(aa.logits, aa.logits + 28);
    arr("logits", logits.data(), 28);
    arr("ce", aa.ce, 4);
    arr("kl", aa.kl, 4);
    // NDCG target, critic forward and MSE.
    ract_arena scratch;
    ract_arena_create(&scratch, ract_critic_target_bytes(7, 3), nullptr);
    ract_critic_target(&ca, &cr, &aa, x, 7, &scratch, nullptr);
    ract_critic_input(&ca, &cr, &aa);
    const int bn_batch = c.bn_mode == RACT_BN_BATCH;
    ract_critic_forward(&cr, &ca, bn_batch, 0, nullptr);
    arr("target", ca.target, 4);
    arr("q", ca.q, 4);
    ract_critic_zero_grad(&cr);
    const double mse = ract_critic_loss(&cr, &ca);
    ract_critic_backward(&cr, &ca, 1, nullptr);
    printf("\"critic_loss\": %.17g,\n", mse);
    tensors("g_critic_loss", &cr, cr.grads, ract_critic_tensor_count<double>,
            ract_critic_tensor_info<double>);
    // -mean(Q) into the actor.
    const double ac = ract_critic_ac_loss(&ca);
    ract_critic_backward(&cr, &ca, 0, nullptr);
    double dce[4], dkl[4];
    for (int b = 0; b < 4; b++) {
      dce[b] = ca.dfeat[b * 3 + 2];
      dkl[b] = beta * dce[b];
    }
    ract_actor_zero_grad(&a);
    ract_actor_backward(&a, &aa, x, dce, c.critic_loss_with_kl ? dkl : nullptr, nullptr);
    printf("\"ac_loss\": %.17g,\n", ac);
    tensors("g_ac", &a, a.grads, ract_actor_tensor_count<double>, ract_actor_tensor_info<double>);
    // Mean actor loss (forward again: the backward used the logits buffer).
    ract_actor_forward(&a, &aa, x, RACT_MODE_TRAIN_REPLAY, nullptr, nullptr);
    ract_actor_loss(&a, &aa, x, beta);
    for (int b = 0; b < 4; b++) {
      dce[b] = 0.25;
      dkl[b] = beta * 0.25;
    }
    ract_actor_zero_grad(&a);
    ract_actor_backward(&a, &aa, x, dce, dkl, nullptr);
    tensors("g_actor_loss", &a, a.grads, ract_actor_tensor_count<double>,
            ract_actor_tensor_info<double>);
    printf("\"end\": 0}%s\n", paper ? "" : ",");
    ract_arena_free(&scratch);
    ract_arena_free(&ar);
  }
  printf("]\n");
  return 0;
}
