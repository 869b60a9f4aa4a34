// Model configuration: setting fields by name, the format round trip, errors naming the key.
#include "ract/model/config.h"

#include <doctest/doctest.h>
#include <string.h>

#include <sstream>
#include <string>

TEST_CASE("config: set by RecBole's names and the switches") {
  ract_model_config c;
  REQUIRE(ract_model_config_preset(&c, "paper", nullptr) == RACT_OK);
  CHECK(ract_model_config_set(&c, "mlp_hidden_size", "[600, 300]", nullptr) == RACT_OK);
  CHECK(c.n_hidden == 2);
  CHECK(c.mlp_hidden_size[1] == 300);
  CHECK(ract_model_config_set(&c, "critic_layers", "50,20", nullptr) == RACT_OK);
  CHECK(c.n_critic_layers == 2);
  CHECK(c.critic_layers[0] == 50);
  CHECK(ract_model_config_set(&c, "dropout_prob", "0.25", nullptr) == RACT_OK);
  CHECK(c.dropout_prob == 0.25f);
  CHECK(ract_model_config_set(&c, "total_anneal_steps", "20000", nullptr) == RACT_OK);
  CHECK(c.total_anneal_steps == 20000);
  CHECK(ract_model_config_set(&c, "head", "split", nullptr) == RACT_OK);
  CHECK(c.head == RACT_HEAD_SPLIT);
  CHECK(ract_model_config_set(&c, "ndcg_gain", "sqrt", nullptr) == RACT_OK);
  CHECK(c.ndcg_gain_sqrt == 1);
  CHECK(ract_model_config_set(&c, "bn_mode", "batch", nullptr) == RACT_OK);
  CHECK(c.bn_mode == RACT_BN_BATCH);
  CHECK(ract_model_config_set(&c, "anneal_rule", "per_loss", nullptr) == RACT_OK);
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
    ract_model_config before = c;
    CHECK(ract_model_config_set(&c, kv[0], kv[1], &e) == RACT_ERR_ARG);
    CHECK(strstr(e.msg, kv[0]) != nullptr);
    CHECK(memcmp(&before, &c, sizeof(c)) == 0);
  }
  CHECK(ract_model_config_set(&c, "hidden", "5", &e) == RACT_ERR_ARG);
  CHECK(strstr(e.msg, "unknown key 'hidden'") != nullptr);
}

TEST_CASE("config: format parses back to the same configuration") {
  for (const char* preset : {"recbole", "paper"}) {
    ract_model_config c, d;
    REQUIRE(ract_model_config_preset(&c, preset, nullptr) == RACT_OK);
    REQUIRE(ract_model_config_set(&c, "mlp_hidden_size", "[64,32]", nullptr) == RACT_OK);
    char buf[1024], buf2[1024];
    REQUIRE(ract_model_config_format(&c, buf, sizeof(buf)) < (int)sizeof(buf));
    // start from the other preset, apply every key=value
    REQUIRE(ract_model_config_preset(&d, strcmp(preset, "paper") ? "paper" : "recbole", nullptr) ==
            RACT_OK);
    std::istringstream in(buf);
    std::string tok;
    int n = 0;
    while (in >> tok) {
      size_t eq = tok.find('=');
      REQUIRE(eq != std::string::npos);
      CHECK(ract_model_config_set(&d, tok.substr(0, eq).c_str(), tok.substr(eq + 1).c_str(),
                                  nullptr) == RACT_OK);
      n++;
    }
    CHECK(n == 19);
    ract_model_config_format(&d, buf2, sizeof(buf2));
    CHECK(std::string(buf) == std::string(buf2));
    CHECK(ract_model_config_check(&d, nullptr) == RACT_OK);
  }
}
