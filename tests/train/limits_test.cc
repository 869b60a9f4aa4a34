// Resource limits of the trainer and of checkpoint import (issue 7 item 5): sizes that
// come from a config or from a checkpoint's state blob are checked before anything is
// allocated, and fail with a status and a message, never a crash or the OOM killer.
#include <doctest/doctest.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <string>
#include <vector>

#include "ract/deploy/model_file.h"
#include "ract/train/export.h"
#include "ract/train/trainer.h"

namespace {

std::string tmp_path(const char* name) {
  const char* d = getenv("TEST_TMPDIR");
  return std::string(d ? d : "/tmp") + "/" + name;
}

// 30 users over 12 items, 4 interactions each.
struct Data {
  ract_dataset ds;
  explicit Data(const char* path = nullptr) {
    std::string p;
    ract_data_options o = ract_data_options_default();
    if (path == nullptr) {
      p = tmp_path("limits.tsv");
      FILE* f = fopen(p.c_str(), "w");
      REQUIRE(f != nullptr);
      for (int u = 0; u < 30; u++) {
        for (int k = 0; k < 4; k++) fprintf(f, "u%d\ti%d\n", u, (u * 5 + k * (1 + u % 4)) % 12);
      }
      fclose(f);
      o.data = p.c_str();
      o.load.format = RACT_FORMAT_TSV;
      o.load.header = 0;
    } else {
      o.data = path;
    }
    o.seed = 1;
    ract_error err = {};
    REQUIRE_MESSAGE(ract_dataset_load(&ds, &o, &err) == RACT_OK, err.msg);
  }
  ~Data() { ract_dataset_free(&ds); }
};

ract_train_config small_config() {
  ract_train_config c;
  ract_error err = {};
  REQUIRE(ract_train_config_preset(&c, "recbole", &err) == RACT_OK);
  c.model.n_hidden = 1;
  c.model.mlp_hidden_size[0] = 8;
  c.model.latent_dimension = 4;
  c.model.n_critic_layers = 1;
  c.model.critic_layers[0] = 4;
  c.model.metrics_k = 5;
  c.train_batch_size = 8;
  c.eval_batch = 8;
  c.stage_epochs[0] = 1;
  c.stage_epochs[1] = 1;
  c.stage_epochs[2] = 1;
  c.seed = 3;
  return c;
}

std::string read_all(const std::string& path) {
  std::string s;
  FILE* f = fopen(path.c_str(), "rb");
  REQUIRE(f != nullptr);
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, n);
  fclose(f);
  return s;
}

void write_all(const std::string& path, const std::string& s) {
  FILE* f = fopen(path.c_str(), "wb");
  REQUIRE(f != nullptr);
  REQUIRE(fwrite(s.data(), 1, s.size(), f) == s.size());
  fclose(f);
}

// The CRC-32 of a weight file: header bytes [0, 160) and everything after the CRC field.
void fix_crc(std::string* b) {
  uint8_t* p = (uint8_t*)&(*b)[0];
  uint32_t crc = ract_crc32(0, p, 160);
  crc = ract_crc32(crc, p + 164, b->size() - 164);
  memcpy(p + 160, &crc, 4);
}

// Offset of the state blob in a checkpoint file.
size_t state_offset(const std::string& file) {
  void* blob = nullptr;
  size_t len = 0;
  ract_error err = {};
  std::string path = tmp_path("probe.ckpt");
  write_all(path, file);
  REQUIRE(ract_model_file_read(path.c_str(), &blob, &len, &err) == RACT_OK);
  ract_model_file f;
  REQUIRE_MESSAGE(ract_model_file_open(&f, blob, len, &err) == RACT_OK, err.msg);
  size_t off = (size_t)((const uint8_t*)f.state - (const uint8_t*)blob);
  free(blob);
  return off;
}

}  // namespace

TEST_CASE("limits: mlp_hidden_size=[1<<20]: the size is known before anything is allocated") {
  Data d;
  ract_train_config c = small_config();
  c.model.mlp_hidden_size[0] = 1 << 20;
  c.model.n_hidden = 2;
  c.model.mlp_hidden_size[1] = 1 << 20;  // 2^40 weights in the middle layer: ~20 TiB
  ract_error err = {};
  size_t bytes = 0;
  REQUIRE(ract_trainer_bytes(&c, &d.ds, &bytes, &err) == RACT_OK);
  CHECK(bytes > ((size_t)1 << 40) * 4 * sizeof(float));  // params, grads, Adam's m and v
  // A caller's buffer that is too small is refused, naming both sizes.
  std::vector<uint8_t> small(1 << 20);
  ract_trainer t;
  CHECK(ract_trainer_create(&t, &c, &d.ds, small.data(), small.size(), &err) == RACT_ERR_NOMEM);
  CHECK(std::string(err.msg).find(std::to_string(bytes)) != std::string::npos);
  CHECK(std::string(err.msg).find(std::to_string(small.size())) != std::string::npos);
  ract_trainer_free(&t);
  // Widths past 2^24 are refused by the config check, before any size arithmetic (which
  // therefore cannot wrap size_t).
  c.model.mlp_hidden_size[0] = INT_MAX;
  c.model.mlp_hidden_size[1] = INT_MAX;
  CHECK(ract_trainer_bytes(&c, &d.ds, &bytes, &err) == RACT_ERR_ARG);
  CHECK(std::string(err.msg).find("mlp_hidden_size[0]") != std::string::npos);
  c = small_config();
  c.model.latent_dimension = INT_MAX / 4;
  CHECK(ract_trainer_create(&t, &c, &d.ds, nullptr, 0, &err) == RACT_ERR_ARG);
  ract_trainer_free(&t);
}

TEST_CASE("limits: a trainer in a caller's buffer of exactly ract_trainer_bytes") {
  Data d;
  ract_train_config c = small_config();
  ract_error err = {};
  size_t bytes = 0;
  REQUIRE(ract_trainer_bytes(&c, &d.ds, &bytes, &err) == RACT_OK);
  for (size_t shift : {0, 1, 33}) {  // any alignment
    std::vector<uint8_t> buf(bytes + shift);
    ract_trainer t;
    REQUIRE_MESSAGE(ract_trainer_create(&t, &c, &d.ds, buf.data() + shift, bytes, &err) == RACT_OK,
                    err.msg);
    CHECK(t.arena.owned == nullptr);
    CHECK(ract_trainer_run(&t, nullptr, &err) == RACT_OK);
    ract_trainer_free(&t);
  }
}

TEST_CASE("limits: batches of more than 2^24 rows are refused before any size arithmetic") {
  Data d;
  ract_train_config c = small_config();
  c.eval_batch = INT_MAX;  // (max_batch + 1) would overflow int
  ract_trainer t;
  ract_error err = {};
  CHECK(ract_trainer_create(&t, &c, &d.ds, nullptr, 0, &err) == RACT_ERR_ARG);
  CHECK(std::string(err.msg).find("eval batch 2147483647") != std::string::npos);
  ract_trainer_free(&t);
  c = small_config();
  c.train_batch_size = (1 << 24) + 1;
  CHECK(ract_trainer_create(&t, &c, &d.ds, nullptr, 0, &err) == RACT_ERR_ARG);
  ract_trainer_free(&t);
}

TEST_CASE("limits: epochs summing past INT_MAX are refused (the log is sized from them)") {
  Data d;
  ract_train_config c = small_config();
  for (int s = 0; s < RACT_STAGES; s++) c.stage_epochs[s] = INT_MAX;
  ract_trainer t;
  ract_error err = {};
  CHECK(ract_trainer_create(&t, &c, &d.ds, nullptr, 0, &err) == RACT_ERR_ARG);
  CHECK(std::string(err.msg).find("epochs") != std::string::npos);
  ract_trainer_free(&t);
}

TEST_CASE("limits: a checkpoint whose state claims 10^9 epoch logs or rows is refused") {
  Data d;
  ract_train_config c = small_config();
  ract_trainer t;
  ract_error err = {};
  REQUIRE_MESSAGE(ract_trainer_create(&t, &c, &d.ds, nullptr, 0, &err) == RACT_OK, err.msg);
  REQUIRE(ract_trainer_run_stage(&t, RACT_STAGE_ACTOR_PRETRAIN, nullptr, &err) == RACT_OK);
  std::string path = tmp_path("limits.ckpt");
  REQUIRE(ract_export_checkpoint(path.c_str(), &t, nullptr, 0, &err) == RACT_OK);
  const std::string good = read_all(path);
  const size_t st = state_offset(good);
  ract_train_state state;
  REQUIRE(ract_read_checkpoint_state(path.c_str(), &state, &err) == RACT_OK);
  REQUIRE(state.n_log == 1);

  struct Case {
    const char* what;
    size_t field;
    int32_t value;
  } cases[] = {
      {"n_log 10^9", offsetof(ract_train_state, n_log), 1000000000},
      {"n_log INT_MAX", offsetof(ract_train_state, n_log), INT_MAX},
      {"n_log -1", offsetof(ract_train_state, n_log), -1},
      {"rows 10^9", offsetof(ract_train_state, rows), 1000000000},
      {"rows -5", offsetof(ract_train_state, rows), -5},
  };
  for (const Case& k : cases) {
    CAPTURE(k.what);
    std::string bad = good;
    memcpy(&bad[st + k.field], &k.value, 4);
    fix_crc(&bad);
    write_all(path, bad);
    ract_error e = {};
    CHECK(ract_read_checkpoint_state(path.c_str(), &state, &e) == RACT_ERR_FILE_HEADER);
    CHECK(e.msg[0] != '\0');
    CHECK(ract_import_checkpoint(&t, path.c_str(), 1, &state, &e) == RACT_ERR_FILE_HEADER);
  }
  // The saved config, which tools print and use before a trainer checks it.
  struct CfgCase {
    const char* what;
    size_t field;
    int32_t value;
  } cfg_cases[] = {
      {"n_topk 1000", offsetof(ract_train_config, n_topk), 1000},
      {"n_topk 0", offsetof(ract_train_config, n_topk), 0},
      {"threads 10^9", offsetof(ract_train_config, threads), 1000000000},
      {"n_hidden 10^9", offsetof(ract_train_config, model) + offsetof(ract_model_config, n_hidden),
       1000000000},
      {"n_critic_layers -1",
       offsetof(ract_train_config, model) + offsetof(ract_model_config, n_critic_layers), -1},
      // Found by //tools/fuzz:checkpoint (corpus file bad_head_switch): head = 256 reached
      // ract_model_config_check as an enum holding no enumerator (UBSan: invalid load).
      {"head 256", offsetof(ract_train_config, model) + offsetof(ract_model_config, head), 256},
      {"bn_mode -1", offsetof(ract_train_config, model) + offsetof(ract_model_config, bn_mode), -1},
      {"anneal_rule 2",
       offsetof(ract_train_config, model) + offsetof(ract_model_config, anneal_rule), 2},
      {"preset unterminated", offsetof(ract_train_config, preset) + 12, 0x41414141},
      {"valid_metric unterminated", offsetof(ract_train_config, valid_metric) + 28, 0x41414141},
  };
  for (const CfgCase& k : cfg_cases) {
    CAPTURE(k.what);
    std::string bad = good;
    size_t at = st + offsetof(ract_train_state, cfg) + k.field;
    if (strstr(k.what, "unterminated")) {  // fill the whole string field
      size_t len =
          strstr(k.what, "preset") ? sizeof(state.cfg.preset) : sizeof(state.cfg.valid_metric);
      memset(&bad[at - (len - 4)], 'A', len);
    } else {
      memcpy(&bad[at], &k.value, 4);
    }
    fix_crc(&bad);
    write_all(path, bad);
    ract_error e = {};
    CHECK(ract_read_checkpoint_state(path.c_str(), &state, &e) == RACT_ERR_FILE_HEADER);
    CHECK(std::string(e.msg).find("config") != std::string::npos);
    CHECK(ract_import_checkpoint(&t, path.c_str(), 1, &state, &e) == RACT_ERR_FILE_HEADER);
  }
  // An all-zero RNG state (found by //tools/fuzz:checkpoint, corpus file
  // zero_rng_state_resume_run): xoshiro256** never leaves it, and the first shuffle of a
  // resumed run looped for ever in ract_rng_below's rejection loop.
  {
    std::string bad = good;
    memset(&bad[st + offsetof(ract_train_state, rng)], 0, sizeof(state.rng));
    fix_crc(&bad);
    write_all(path, bad);
    ract_error e = {};
    CHECK(ract_read_checkpoint_state(path.c_str(), &state, &e) == RACT_ERR_FILE_HEADER);
    CHECK(std::string(e.msg).find("RNG") != std::string::npos);
    CHECK(ract_import_checkpoint(&t, path.c_str(), 1, &state, &e) == RACT_ERR_FILE_HEADER);
  }
  // The stage cursor out of range.
  std::string bad = good;
  int32_t stage = RACT_STAGES + 1;
  memcpy(&bad[st + offsetof(ract_train_state, cur) + offsetof(ract_train_cursor, stage)], &stage,
         4);
  fix_crc(&bad);
  write_all(path, bad);
  CHECK(ract_read_checkpoint_state(path.c_str(), &state, &err) == RACT_ERR_FILE_HEADER);
  ract_trainer_free(&t);
}

TEST_CASE("limits: a checkpoint with more epoch logs than the run has epochs is refused") {
  Data d;
  ract_train_config c = small_config();
  c.stage_epochs[0] = 4;
  ract_trainer t;
  ract_error err = {};
  REQUIRE(ract_trainer_create(&t, &c, &d.ds, nullptr, 0, &err) == RACT_OK);
  REQUIRE(ract_trainer_run_stage(&t, RACT_STAGE_ACTOR_PRETRAIN, nullptr, &err) == RACT_OK);
  std::string path = tmp_path("logs.ckpt");
  REQUIRE(ract_export_checkpoint(path.c_str(), &t, nullptr, 0, &err) == RACT_OK);
  ract_trainer_free(&t);
  // A run of 1 + 0 + 0 epochs keeps at most 2 logs; the checkpoint has 4.
  c.stage_epochs[0] = 1;
  c.stage_epochs[1] = 0;
  c.stage_epochs[2] = 0;
  REQUIRE(ract_trainer_create(&t, &c, &d.ds, nullptr, 0, &err) == RACT_OK);
  CHECK(ract_import_checkpoint(&t, path.c_str(), 1, nullptr, &err) == RACT_ERR_FILE_HEADER);
  CHECK(std::string(err.msg).find("4 epoch logs") != std::string::npos);
  ract_trainer_free(&t);
}
