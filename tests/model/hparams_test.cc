// Model configuration: setting fields by name, the format round trip, errors naming the key.
#include "ract/model/hparams.h"

#include <doctest/doctest.h>
#include <math.h>
#include <string.h>

#include <sstream>
#include <string>

TEST_CASE("config: set by RecBole's names and the switches") {
  ract_hparams c;
  REQUIRE(ract_hparams_preset(&c, "paper", nullptr) == RACT_OK);
  CHECK(ract_hparams_set(&c, "mlp_hidden_size", "[600, 300]", nullptr) == RACT_OK);
  CHECK(c.n_hidden == 2);
  CHECK(c.mlp_hidden_size[1] == 300);
  CHECK(ract_hparams_set(&c, "critic_layers", "50,20", nullptr) == RACT_OK);
  CHECK(c.n_critic_layers == 2);
  CHECK(c.critic_layers[0] == 50);
  CHECK(ract_hparams_set(&c, "dropout_prob", "0.25", nullptr) == RACT_OK);
  CHECK(c.dropout_prob == 0.25f);
  CHECK(ract_hparams_set(&c, "total_anneal_steps", "20000", nullptr) == RACT_OK);
  CHECK(c.total_anneal_steps == 20000);
  CHECK(ract_hparams_set(&c, "head", "split", nullptr) == RACT_OK);
  CHECK(c.head == RACT_HEAD_SPLIT);
  CHECK(ract_hparams_set(&c, "ndcg_gain", "sqrt", nullptr) == RACT_OK);
  CHECK(c.ndcg_gain_sqrt == 1);
  CHECK(ract_hparams_set(&c, "bn_mode", "batch", nullptr) == RACT_OK);
  CHECK(c.bn_mode == RACT_BN_BATCH);
  CHECK(ract_hparams_set(&c, "anneal_rule", "per_loss", nullptr) == RACT_OK);
  CHECK(c.anneal_rule == RACT_ANNEAL_PER_LOSS);

  ract_error e;
  const char* bad[][2] = {{"mlp_hidden_size", "[600,,3]"},
                          {"mlp_hidden_size", "[]"},
                          {"mlp_hidden_size", "1,2,3,4,5,6,7,8,9"},
                          {"critic_layers", "[10,-1]"},
                          {"latent_dimension", "12x"},
                          {"dropout_prob", "half"},
                          {"head", "three"},
                          {"critic_loss_with_kl", "2"},
                          {"init", "he"}};
  for (auto& kv : bad) {
    ract_hparams before = c;
    CHECK(ract_hparams_set(&c, kv[0], kv[1], &e) == RACT_ERR_ARG);
    CHECK(strstr(e.msg, kv[0]) != nullptr);
    CHECK(memcmp(&before, &c, sizeof(c)) == 0);
  }
  CHECK(ract_hparams_set(&c, "hidden", "5", &e) == RACT_ERR_ARG);
  CHECK(strstr(e.msg, "unknown key 'hidden'") != nullptr);
}

TEST_CASE("config: malformed lists and numbers are refused, naming the key") {
  ract_hparams c;
  REQUIRE(ract_hparams_preset(&c, "recbole", nullptr) == RACT_OK);
  const char* bad[][2] = {
      // Lists: unbalanced or misplaced brackets, trailing garbage, empty items, signs,
      // overflow, more than RACT_MAX_LAYERS entries.
      {"mlp_hidden_size", "[600"},
      {"mlp_hidden_size", "600]"},
      {"mlp_hidden_size", "[[600]]"},
      {"mlp_hidden_size", "6[0]0"},
      {"mlp_hidden_size", "[600]x"},
      {"mlp_hidden_size", "[600][300]"},
      {"mlp_hidden_size", "[600,]"},
      {"mlp_hidden_size", "[,600]"},
      {"mlp_hidden_size", ","},
      {"mlp_hidden_size", ""},
      {"mlp_hidden_size", "600 300"},
      {"mlp_hidden_size", "[+600]"},
      {"mlp_hidden_size", "[600.5]"},
      {"mlp_hidden_size", "[16777217]"},
      {"mlp_hidden_size", "[99999999999999999999999]"},
      {"critic_layers", "[100,100,10"},
      {"critic_layers", "100,,10"},
      {"critic_layers", "[100,-10]"},
      {"critic_layers", "[0]"},
      // Integers: signs, spaces, other bases, fractions, overflow.
      {"latent_dimension", "+12"},
      {"latent_dimension", " 12"},
      {"latent_dimension", "12 "},
      {"latent_dimension", "0x10"},
      {"latent_dimension", "1e2"},
      {"latent_dimension", "16777217"},
      {"latent_dimension", "-4"},
      {"metrics_k", "0"},
      {"metrics_k", "10.0"},
      {"metrics_k", "99999999999999999999"},
      {"total_anneal_steps", "-2"},
      {"total_anneal_steps", "2e5"},
      {"total_anneal_steps", "9223372036854775807"},
      {"critic_loss_with_kl", "-1"},
      {"finetune_critic", "true"},
      // Numbers: nan, inf, overflow of float, values outside the key's range.
      {"dropout_prob", "nan"},
      {"dropout_prob", "1"},
      {"dropout_prob", "0.99999999999"},  // 1.0f as a float
      {"dropout_prob", "-0.1"},
      {"dropout_prob", "0.5x"},
      {"anneal_cap", "inf"},
      {"anneal_cap", "-0.2"},
      {"eps_std", "1e39"},
      {"eps_std", "0x1p-3"},
      {"critic_l2", "-1e-4"},
      {"critic_l2", "1e-60"},
      {"bn_eps", "0"},
      {"bn_eps", "+1e-5"},
      {"bn_momentum", "1.5"},
      {"bn_momentum", "NaN"},
  };
  for (auto& kv : bad) {
    std::string key = kv[0], value = kv[1];
    CAPTURE(key);
    CAPTURE(value);
    ract_hparams before = c;
    ract_error e = {};
    CHECK(ract_hparams_set(&c, kv[0], kv[1], &e) == RACT_ERR_ARG);
    CHECK(strstr(e.msg, kv[0]) != nullptr);
    CHECK(memcmp(&before, &c, sizeof(c)) == 0);
  }
  // The edges that are valid.
  CHECK(ract_hparams_set(&c, "mlp_hidden_size", "[ 64 , 32 ]", nullptr) == RACT_OK);
  CHECK(c.n_hidden == 2);
  CHECK(ract_hparams_set(&c, "dropout_prob", "0", nullptr) == RACT_OK);
  CHECK(ract_hparams_set(&c, "dropout_prob", ".999", nullptr) == RACT_OK);
  CHECK(ract_hparams_set(&c, "total_anneal_steps", "-1", nullptr) == RACT_OK);
  CHECK(ract_hparams_set(&c, "bn_momentum", "1", nullptr) == RACT_OK);
  CHECK(ract_hparams_set(&c, "eps_std", "1E-2", nullptr) == RACT_OK);
  CHECK(ract_hparams_check(&c, nullptr) == RACT_OK);
}

TEST_CASE("config: check refuses non-finite numbers (a config may come from a file)") {
  ract_hparams c;
  REQUIRE(ract_hparams_preset(&c, "paper", nullptr) == RACT_OK);
  REQUIRE(ract_hparams_check(&c, nullptr) == RACT_OK);
  float ract_hparams::*fields[] = {&ract_hparams::anneal_cap, &ract_hparams::eps_std,
                                   &ract_hparams::critic_l2, &ract_hparams::bn_eps};
  for (auto f : fields) {
    ract_hparams d = c;
    d.*f = INFINITY;
    CHECK(ract_hparams_check(&d, nullptr) == RACT_ERR_ARG);
    d.*f = NAN;
    CHECK(ract_hparams_check(&d, nullptr) == RACT_ERR_ARG);
  }
  ract_hparams d = c;
  d.total_anneal_steps = -2;
  CHECK(ract_hparams_check(&d, nullptr) == RACT_ERR_ARG);
}

TEST_CASE("config: format parses back to the same configuration") {
  const char* presets[] = {"recbole", "paper", "ract"};
  for (int p = 0; p < 3; p++) {
    const char* preset = presets[p];
    CAPTURE(preset);
    ract_hparams c, d;
    REQUIRE(ract_hparams_preset(&c, preset, nullptr) == RACT_OK);
    REQUIRE(ract_hparams_set(&c, "mlp_hidden_size", "[64,32]", nullptr) == RACT_OK);
    char buf[1024], buf2[1024];
    REQUIRE(ract_hparams_format(&c, buf, sizeof(buf)) < (int)sizeof(buf));
    // start from another preset, apply every key=value
    REQUIRE(ract_hparams_preset(&d, presets[(p + 1) % 3], nullptr) == RACT_OK);
    std::istringstream in(buf);
    std::string tok;
    int n = 0;
    while (in >> tok) {
      size_t eq = tok.find('=');
      REQUIRE(eq != std::string::npos);
      CHECK(ract_hparams_set(&d, tok.substr(0, eq).c_str(), tok.substr(eq + 1).c_str(), nullptr) ==
            RACT_OK);
      n++;
    }
    CHECK(n == 24);
    ract_hparams_format(&d, buf2, sizeof(buf2));
    CHECK(std::string(buf) == std::string(buf2));
    CHECK(ract_hparams_check(&d, nullptr) == RACT_OK);
  }
}
