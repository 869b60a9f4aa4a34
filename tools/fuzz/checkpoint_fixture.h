// The tiny trainer the checkpoint fuzz target imports into and make_checkpoint_seeds
// trains: 24 synthetic users over 10 items (deterministic), one hidden layer of 8, latent
// 4, critic [4], one epoch per stage, batch 8. Both must build exactly this, so that the
// seeds' data fingerprint matches and the resume path is reached.
#ifndef RACT_TOOLS_FUZZ_CHECKPOINT_FIXTURE_H_
#define RACT_TOOLS_FUZZ_CHECKPOINT_FIXTURE_H_

#include <stdio.h>
#include <string.h>

#include <string>

#include "ract/data/dataset.h"
#include "ract/train/trainer.h"
#include "tools/fuzz/dataset_check.h"
#include "tools/fuzz/fuzz_check.h"

namespace ract_fuzz {

struct CheckpointFixture {
  ract_dataset ds;
  ract_train_config cfg;
  ract_trainer t;
  CheckpointFixture() {
    std::string text;
    char line[64];
    for (int u = 0; u < 24; u++) {
      for (int k = 0; k < 4; k++) {
        snprintf(line, sizeof line, "u%d\ti%d\n", u, (u * 3 + k * (1 + u % 3)) % 10);
        text += line;
      }
    }
    std::string path = write_file("fixture.tsv", (const uint8_t*)text.data(), text.size());
    ract_data_options o = ract_data_options_default();
    o.data = path.c_str();
    o.load.format = RACT_FORMAT_TSV;
    o.load.header = 0;
    o.seed = 3;
    ract_error err{};
    FUZZ_CHECK(ract_dataset_load(&ds, &o, &err) == RACT_OK);
    FUZZ_CHECK(ract_train_config_preset(&cfg, "recbole", &err) == RACT_OK);
    cfg.model.n_hidden = 1;
    cfg.model.mlp_hidden_size[0] = 8;
    cfg.model.latent_dimension = 4;
    cfg.model.n_critic_layers = 1;
    cfg.model.critic_layers[0] = 4;
    cfg.model.metrics_k = 5;
    cfg.train_batch_size = 8;
    cfg.eval_batch = 8;
    for (int s = 0; s < RACT_STAGES; s++) cfg.stage_epochs[s] = 1;
    cfg.threads = 1;
    cfg.seed = 5;
    FUZZ_CHECK(ract_trainer_create(&t, &cfg, &ds, nullptr, 0, &err) == RACT_OK);
  }
  ~CheckpointFixture() {
    ract_trainer_free(&t);
    ract_dataset_free(&ds);
  }
};

}  // namespace ract_fuzz

#endif  // RACT_TOOLS_FUZZ_CHECKPOINT_FIXTURE_H_
