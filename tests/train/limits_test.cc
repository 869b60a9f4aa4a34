// Resource limits of the trainer and of checkpoint import (issue 7 item 5): sizes that
// come from a config or from a checkpoint's state blob are checked before anything is
// allocated, and fail with a status and a message, never a crash or the OOM killer. Then
// the state blob's format (issue 13): every field round-trips at its documented offset,
// another version and a truncated or oversized blob are refused.
#include <doctest/doctest.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <string>
#include <vector>

#include "ract/deploy/model_file.h"
#include "ract/deploy/model_file_write.h"
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

// Byte offsets in the training state blob, as ract/deploy/FORMAT.md ("Training state")
// documents them (the round-trip test below checks them against the encoder).
constexpr size_t kStateNLog = 12, kStateRows = 16, kStateRng = 72, kStatePreset = 104,
                 kStateModel = 120, kStateValidMetric = 324, kStateNTopk = 388, kStateThreads = 396,
                 kStateCursor = 408;

// Offset of the state blob in a checkpoint file.
size_t state_offset(const std::string& file) {
  void* blob = nullptr;
  size_t len = 0;
  ract_error err = {};
  std::string path = tmp_path("probe.ckpt");
  write_all(path, file);
  REQUIRE(ract_file_read(path.c_str(), &blob, &len, &err) == RACT_OK);
  ract_file f;
  REQUIRE_MESSAGE(ract_file_open(&f, blob, len, &err) == RACT_OK, err.msg);
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
  REQUIRE(ract_export_read_state(path.c_str(), &state, &err) == RACT_OK);
  REQUIRE(state.n_log == 1);

  struct Case {
    const char* what;
    size_t field;
    int32_t value;
  } cases[] = {
      {"n_log 10^9", kStateNLog, 1000000000},
      {"n_log INT_MAX", kStateNLog, INT_MAX},
      {"n_log -1", kStateNLog, -1},
      {"rows 10^9", kStateRows, 1000000000},
      {"rows -5", kStateRows, -5},
  };
  for (const Case& k : cases) {
    CAPTURE(k.what);
    std::string bad = good;
    memcpy(&bad[st + k.field], &k.value, 4);
    fix_crc(&bad);
    write_all(path, bad);
    ract_error e = {};
    CHECK(ract_export_read_state(path.c_str(), &state, &e) == RACT_ERR_FILE_HEADER);
    CHECK(e.msg[0] != '\0');
    CHECK(ract_export_restore(&t, path.c_str(), 1, &state, &e) == RACT_ERR_FILE_HEADER);
  }
  // The saved config, which tools print and use before a trainer checks it.
  struct CfgCase {
    const char* what;
    size_t field;
    int32_t value;
  } cfg_cases[] = {
      {"n_topk 1000", kStateNTopk, 1000},
      {"n_topk 0", kStateNTopk, 0},
      {"threads 10^9", kStateThreads, 1000000000},
      {"n_hidden 10^9", kStateModel + 0, 1000000000},
      {"n_critic_layers -1", kStateModel + 56, -1},
      // Found by //tools/fuzz:checkpoint (corpus file bad_head_switch): head = 256 reached
      // ract_hparams_check as an enum holding no enumerator (UBSan: invalid load).
      {"head 256", kStateModel + 96, 256},
      {"bn_mode -1", kStateModel + 112, -1},
      {"anneal_rule 2", kStateModel + 124, 2},
      {"preset unterminated", kStatePreset, 16},
      {"valid_metric unterminated", kStateValidMetric, 32},
  };
  for (const CfgCase& k : cfg_cases) {
    CAPTURE(k.what);
    std::string bad = good;
    const size_t at = st + k.field;
    if (strstr(k.what, "unterminated")) {  // fill the whole string field
      memset(&bad[at], 'A', (size_t)k.value);
    } else {
      memcpy(&bad[at], &k.value, 4);
    }
    fix_crc(&bad);
    write_all(path, bad);
    ract_error e = {};
    CHECK(ract_export_read_state(path.c_str(), &state, &e) == RACT_ERR_FILE_HEADER);
    CHECK(std::string(e.msg).find("config") != std::string::npos);
    CHECK(ract_export_restore(&t, path.c_str(), 1, &state, &e) == RACT_ERR_FILE_HEADER);
  }
  // An all-zero RNG state (found by //tools/fuzz:checkpoint, corpus file
  // zero_rng_state_resume_run): xoshiro256** never leaves it, and the first shuffle of a
  // resumed run looped for ever in ract_rng_below's rejection loop.
  {
    std::string bad = good;
    memset(&bad[st + kStateRng], 0, 32);
    fix_crc(&bad);
    write_all(path, bad);
    ract_error e = {};
    CHECK(ract_export_read_state(path.c_str(), &state, &e) == RACT_ERR_FILE_HEADER);
    CHECK(std::string(e.msg).find("RNG") != std::string::npos);
    CHECK(ract_export_restore(&t, path.c_str(), 1, &state, &e) == RACT_ERR_FILE_HEADER);
  }
  // The stage cursor out of range.
  std::string bad = good;
  int32_t stage = RACT_STAGES + 1;
  memcpy(&bad[st + kStateCursor], &stage, 4);
  fix_crc(&bad);
  write_all(path, bad);
  CHECK(ract_export_read_state(path.c_str(), &state, &err) == RACT_ERR_FILE_HEADER);
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
  CHECK(ract_export_restore(&t, path.c_str(), 1, nullptr, &err) == RACT_ERR_FILE_HEADER);
  CHECK(std::string(err.msg).find("4 epoch logs") != std::string::npos);
  ract_trainer_free(&t);
}

// ---------------------------------------------------------------------------------------
// The training state blob's format (ract/deploy/FORMAT.md, "Training state").

namespace {

uint32_t rd32(const std::vector<uint8_t>& b, size_t at) {
  return (uint32_t)b[at] | (uint32_t)b[at + 1] << 8 | (uint32_t)b[at + 2] << 16 |
         (uint32_t)b[at + 3] << 24;
}

uint64_t rd64(const std::vector<uint8_t>& b, size_t at) {
  return (uint64_t)rd32(b, at) | (uint64_t)rd32(b, at + 4) << 32;
}

// Distinct values for every field of a state that the decoder accepts; `flip` varies the
// variant switches (0 or 1 each) between calls.
struct StateFill {
  int n = 100;
  int i() { return n++; }
  float f() { return 0.25f + (float)(n++); }
  double d() { return 0.5 + (double)(n++); }
  void metrics(ract_metrics* m) {
    m->n_k = 3;
    for (int j = 0; j < RACT_METRICS_MAX_K; j++) m->k[j] = i();
    m->users = i();
    m->finished = 1;
    double* cols[6] = {m->recall, m->recall_paper, m->mrr, m->ndcg, m->hit, m->precision};
    for (double* c : cols) {
      for (int j = 0; j < RACT_METRICS_MAX_K; j++) c[j] = d();
    }
  }
  void log(ract_epoch_log* l) {
    l->stage = i();
    l->epoch = i();
    l->batches = i();
    double* v[] = {&l->loss,         &l->actor_loss,
                   &l->ce,           &l->kl,
                   &l->beta,         &l->q,
                   &l->target,       &l->critic_loss,
                   &l->valid,        &l->seconds_train,
                   &l->seconds_valid};
    for (double* x : v) *x = d();
  }
  void state(ract_train_state* st, int flip) {
    memset(st, 0, sizeof(*st));
    st->n_log = 3;
    st->rows = 5;
    st->n_items = i();
    st->train_nnz = 5000000000LL + i();
    st->data_hash = 0x1122334455667788ull;
    st->anneal_steps = 6000000000LL + i();
    st->adam_actor_t = 7000000000LL + i();
    st->adam_critic_t = 8000000000LL + i();
    st->adam_actor_lr = f();
    st->adam_critic_lr = f();
    for (int k = 0; k < 4; k++) st->rng[k] = 0x0101010101010101ull * (uint64_t)(k + 1) + i();
    ract_train_config* c = &st->cfg;
    snprintf(c->preset, sizeof(c->preset), "%s", flip ? "paper" : "recbole");
    ract_hparams* m = &c->model;
    m->n_hidden = 7;
    for (int j = 0; j < RACT_MAX_LAYERS; j++) m->mlp_hidden_size[j] = i();
    m->head = flip ? RACT_HEAD_SPLIT : RACT_HEAD_TWO;
    m->latent_dimension = 2 * i();  // even: valid with either head
    m->dropout_prob = 0.125f;
    m->anneal_cap = 0.375f;
    m->total_anneal_steps = 9000000000LL + i();
    m->n_critic_layers = 6;
    for (int j = 0; j < RACT_MAX_LAYERS; j++) m->critic_layers[j] = i();
    m->metrics_k = i();
    m->dropout_style = flip ? RACT_DROPOUT_KEEP : RACT_DROPOUT_INVERTED;
    m->eps_std = 0.625f;
    m->critic_loss_with_kl = flip ? 0 : 1;
    m->bn_mode = flip ? RACT_BN_RUNNING : RACT_BN_BATCH;
    m->ndcg_gain_sqrt = flip ? 1 : 0;
    m->init = flip ? RACT_INIT_XAVIER_NORMAL : RACT_INIT_XAVIER_UNIFORM;
    m->anneal_rule = flip ? RACT_ANNEAL_PER_BATCH : RACT_ANNEAL_PER_LOSS;
    m->critic_l2 = 0.875f;
    m->bn_eps = 0.0625f;
    m->bn_momentum = 0.1875f;
    m->finetune_critic = flip ? 0 : 1;
    m->critic_loss_feature = flip ? RACT_FEATURE_HELDOUT : RACT_FEATURE_CE;
    m->finetune_objective = flip ? RACT_FINETUNE_FEATURE : RACT_FINETUNE_LIKELIHOOD;
    m->critic_weight_norm = 1;
    m->critic_weight_mix = 0.25f;
    m->critic_bn_refresh = flip ? 0 : 1;
    c->total_anneal_epochs = i();
    st->ranks = 3 + flip;
    for (int s = 0; s < RACT_STAGES; s++) c->run_stage[s] = i();
    for (int s = 0; s < RACT_STAGES; s++) c->stage_epochs[s] = i();
    for (int s = 0; s < RACT_STAGES; s++) c->stage_lr[s] = f();
    for (int s = 0; s < RACT_STAGES; s++) c->validate[s] = i();
    c->stopping_step = i();
    c->train_batch_size = i();
    c->drop_last = i();
    snprintf(c->valid_metric, sizeof(c->valid_metric), "ndcg@%d", i());
    for (int j = 0; j < RACT_METRICS_MAX_K; j++) c->topk[j] = i();
    c->n_topk = 5;
    c->eval_batch = i();
    c->threads = 200 + flip;
    c->seed = 0xfedcba9876543210ull;
    ract_train_cursor* u = &st->cur;
    u->stage = 2;
    u->started = i();
    u->epoch = i();
    u->batch = i();
    u->begun = i();
    u->best = d();
    u->since_best = i();
    log(&u->log);
    for (int s = 0; s < RACT_STAGES; s++) {
      ract_stage_summary* y = &st->stage[s];
      y->ran = i();
      y->epochs = i();
      y->best_epoch = i();
      y->seconds = d();
      metrics(&y->best_valid);
      metrics(&y->test);
    }
  }
};

}  // namespace

TEST_CASE("state: every field round-trips, at the offsets FORMAT.md documents") {
  for (int flip = 0; flip < 2; flip++) {
    CAPTURE(flip);
    StateFill fill;
    fill.n = 100 + 1000 * flip;
    ract_train_state st;
    fill.state(&st, flip);
    ract_epoch_log logs[3];
    memset(logs, 0, sizeof(logs));
    for (ract_epoch_log& l : logs) fill.log(&l);
    const int32_t order[5] = {3, 0, 4, 1, 2};
    ract_error err = {};
    const size_t bytes = ract_train_state_bytes(3, 5);
    REQUIRE(bytes == RACT_TRAIN_STATE_FIXED_BYTES + 3 * RACT_TRAIN_STATE_LOG_BYTES + 5 * 4);
    REQUIRE(RACT_TRAIN_STATE_FIXED_BYTES == 3196);
    REQUIRE(RACT_TRAIN_STATE_LOG_BYTES == 100);
    std::vector<uint8_t> b(bytes);
    REQUIRE_MESSAGE(ract_train_state_encode(&st, logs, order, b.data(), b.size(), &err) == RACT_OK,
                    err.msg);
    // The documented offsets (little-endian).
    CHECK(memcmp(b.data(), "RCTS", 4) == 0);
    CHECK(rd32(b, 4) == RACT_TRAIN_STATE_VERSION);
    CHECK(rd32(b, 8) == 3196);
    CHECK(rd32(b, kStateNLog) == 3);
    CHECK(rd32(b, kStateRows) == 5);
    CHECK(rd32(b, 20) == (uint32_t)st.n_items);
    CHECK(rd64(b, 24) == (uint64_t)st.train_nnz);
    CHECK(rd64(b, 32) == st.data_hash);
    CHECK(rd64(b, 40) == (uint64_t)st.anneal_steps);
    CHECK(rd64(b, kStateRng) == st.rng[0]);
    CHECK(rd64(b, kStateRng + 24) == st.rng[3]);
    CHECK(memcmp(&b[kStatePreset], st.cfg.preset, 16) == 0);
    CHECK(rd32(b, kStateModel) == 7);
    CHECK(rd32(b, kStateModel + 96) == (uint32_t)st.cfg.model.head);
    CHECK(rd32(b, kStateModel + 140) == (uint32_t)st.cfg.model.finetune_critic);
    CHECK(memcmp(&b[kStateValidMetric], st.cfg.valid_metric, 32) == 0);
    CHECK(rd32(b, kStateNTopk) == 5);
    CHECK(rd32(b, kStateThreads) == (uint32_t)st.cfg.threads);
    CHECK(rd64(b, 400) == st.cfg.seed);
    CHECK(rd32(b, kStateCursor) == 2);
    CHECK(rd32(b, 440) == (uint32_t)st.cur.log.stage);
    CHECK(rd32(b, 540) == (uint32_t)st.stage[0].ran);
    CHECK(rd32(b, 540 + 2 * 876) == (uint32_t)st.stage[2].ran);
    // Version 4's fields, after the stage summaries.
    CHECK(rd32(b, 3168) == (uint32_t)st.ranks);
    CHECK(rd32(b, 3172) == (uint32_t)st.cfg.model.critic_loss_feature);
    CHECK(rd32(b, 3176) == (uint32_t)st.cfg.model.finetune_objective);
    CHECK(rd32(b, 3180) == 1);
    CHECK(rd32(b, 3184) == 0x3e800000u);  // 0.25f
    CHECK(rd32(b, 3188) == (uint32_t)st.cfg.model.critic_bn_refresh);
    CHECK(rd32(b, 3192) == (uint32_t)st.cfg.total_anneal_epochs);
    CHECK(rd32(b, 3196) == (uint32_t)logs[0].stage);
    CHECK(rd32(b, 3196 + 200) == (uint32_t)logs[2].stage);
    CHECK(rd32(b, 3496) == 3);  // order[0]
    CHECK(rd32(b, 3512) == 2);  // order[4]
    double best;
    uint64_t bits = rd64(b, 428);
    memcpy(&best, &bits, 8);
    CHECK(best == st.cur.best);

    ract_train_state back;
    REQUIRE_MESSAGE(ract_train_state_decode(b.data(), b.size(), &back, &err) == RACT_OK, err.msg);
    st.version = RACT_TRAIN_STATE_VERSION;
    CHECK(memcmp(&back, &st, sizeof(st)) == 0);  // both zeroed first: padding compares equal
    CHECK(back.cfg.model.total_anneal_steps == st.cfg.model.total_anneal_steps);
    CHECK(back.stage[2].test.precision[7] == st.stage[2].test.precision[7]);
    ract_epoch_log logs_back[3];
    memset(logs_back, 0, sizeof(logs_back));
    int32_t order_back[5] = {};
    REQUIRE(ract_train_state_decode_tail(b.data(), b.size(), &back, logs_back, order_back, &err) ==
            RACT_OK);
    CHECK(memcmp(logs_back, logs, sizeof(logs)) == 0);
    CHECK(memcmp(order_back, order, sizeof(order)) == 0);
    // Encoding what was decoded gives the same bytes.
    std::vector<uint8_t> again(bytes);
    REQUIRE(ract_train_state_encode(&back, logs_back, order_back, again.data(), again.size(),
                                    &err) == RACT_OK);
    CHECK(again == b);
  }
}

// The blob of StateFill's state (flip 0) with 3 empty epoch logs and the identity order.
static std::vector<uint8_t> filled_state_blob() {
  StateFill fill;
  ract_train_state st;
  fill.state(&st, 0);
  ract_epoch_log logs[3] = {};
  const int32_t order[5] = {0, 1, 2, 3, 4};
  std::vector<uint8_t> b(ract_train_state_bytes(3, 5));
  ract_error err = {};
  REQUIRE(ract_train_state_encode(&st, logs, order, b.data(), b.size(), &err) == RACT_OK);
  return b;
}

TEST_CASE("state: a blob of another version is refused, naming both versions") {
  const std::vector<uint8_t> b = filled_state_blob();
  ract_error err = {};
  for (uint32_t v : {1u, 2u, 3u, 5u, 0xffffffffu}) {
    CAPTURE(v);
    std::vector<uint8_t> o = b;
    for (int k = 0; k < 4; k++) o[4 + k] = (uint8_t)(v >> (8 * k));
    ract_train_state back;
    ract_error e = {};
    CHECK(ract_train_state_decode(o.data(), o.size(), &back, &e) == RACT_ERR_FILE_VERSION);
    CHECK(e.status == RACT_ERR_FILE_VERSION);
    CHECK(std::string(e.msg).find("version " + std::to_string(v)) != std::string::npos);
    CHECK(std::string(e.msg).find("reads version " + std::to_string(RACT_TRAIN_STATE_VERSION)) !=
          std::string::npos);
  }
  // Another magic is not a training state at all.
  std::vector<uint8_t> o = b;
  o[0] = 'X';
  ract_train_state back;
  CHECK(ract_train_state_decode(o.data(), o.size(), &back, &err) == RACT_ERR_FILE_HEADER);
  CHECK(std::string(err.msg).find("magic") != std::string::npos);
}

TEST_CASE("state: a switch out of its range and a rank count below 1 are refused") {
  const std::vector<uint8_t> b = filled_state_blob();
  ract_error err = {};
  struct Case {
    int offset;
    uint32_t value;
    const char* says;
  };
  // finetune_objective has three values (2 is valid), critic_loss_feature two.
  for (Case c : {Case{3176, 3, "finetune_objective"}, Case{3172, 2, "critic_loss_feature"},
                 Case{3168, 0, "ranks 0"}, Case{3168, 0x80000000u, "ranks"}}) {
    CAPTURE(c.offset);
    std::vector<uint8_t> o = b;
    for (int k = 0; k < 4; k++) o[c.offset + k] = (uint8_t)(c.value >> (8 * k));
    ract_train_state back;
    ract_error e = {};
    CHECK(ract_train_state_decode(o.data(), o.size(), &back, &e) == RACT_ERR_FILE_HEADER);
    CHECK(std::string(e.msg).find(c.says) != std::string::npos);
  }
  std::vector<uint8_t> o = b;
  o[3176] = 2;
  ract_train_state back;
  CHECK(ract_train_state_decode(o.data(), o.size(), &back, &err) == RACT_OK);
  CHECK(back.cfg.model.finetune_objective == RACT_FINETUNE_FEATURE);
}

TEST_CASE("state: truncated and oversized blobs are refused before use") {
  StateFill fill;
  ract_train_state st;
  fill.state(&st, 1);
  ract_epoch_log logs[3] = {};
  const int32_t order[5] = {4, 3, 2, 1, 0};
  const size_t full = ract_train_state_bytes(3, 5);
  std::vector<uint8_t> b(full + 1, 0);
  ract_error err = {};
  REQUIRE(ract_train_state_encode(&st, logs, order, b.data(), full, &err) == RACT_OK);
  // The encoder itself refuses a buffer of another size.
  CHECK(ract_train_state_encode(&st, logs, order, b.data(), full + 1, &err) == RACT_ERR_ARG);
  for (size_t n : {(size_t)0, (size_t)3, (size_t)8, (size_t)RACT_TRAIN_STATE_FIXED_BYTES - 1,
                   (size_t)RACT_TRAIN_STATE_FIXED_BYTES, full - 4, full - 1}) {
    CAPTURE(n);
    ract_train_state back;
    ract_error e = {};
    CHECK(ract_train_state_decode(b.data(), n, &back, &e) == RACT_ERR_FILE_HEADER);
    CHECK(std::string(e.msg).find("truncated") != std::string::npos);
  }
  ract_train_state back;
  CHECK(ract_train_state_decode(b.data(), full + 1, &back, &err) == RACT_ERR_FILE_HEADER);
  CHECK(std::string(err.msg).find("oversized") != std::string::npos);
  REQUIRE(ract_train_state_decode(b.data(), full, &back, &err) == RACT_OK);
  // A row order entry out of range.
  b[full - 4] = 5;
  int32_t order_back[5];
  CHECK(ract_train_state_decode_tail(b.data(), full, &back, nullptr, order_back, &err) ==
        RACT_ERR_FILE_HEADER);
  CHECK(std::string(err.msg).find("row order entry 4 is 5") != std::string::npos);
}

TEST_CASE("state: a checkpoint file with a short state or another state version is refused") {
  Data d;
  ract_train_config c = small_config();
  ract_trainer t;
  ract_error err = {};
  REQUIRE_MESSAGE(ract_trainer_create(&t, &c, &d.ds, nullptr, 0, &err) == RACT_OK, err.msg);
  REQUIRE(ract_trainer_run_stage(&t, RACT_STAGE_ACTOR_PRETRAIN, nullptr, &err) == RACT_OK);
  std::string path = tmp_path("state.ckpt");
  REQUIRE(ract_export_checkpoint(path.c_str(), &t, nullptr, 0, &err) == RACT_OK);
  const std::string good = read_all(path);
  const size_t st = state_offset(good);
  ract_train_state state;
  REQUIRE(ract_export_read_state(path.c_str(), &state, &err) == RACT_OK);
  CHECK(state.version == RACT_TRAIN_STATE_VERSION);
  // The header's state length (bytes 136..143) one short: the blob ends inside the order.
  {
    std::string bad = good;
    uint64_t len;
    memcpy(&len, &bad[136], 8);
    CHECK(len == ract_train_state_bytes(state.n_log, state.rows));
    len -= 1;
    memcpy(&bad[136], &len, 8);
    fix_crc(&bad);
    write_all(path, bad);
    ract_error e = {};
    CHECK(ract_export_read_state(path.c_str(), &state, &e) == RACT_ERR_FILE_HEADER);
    CHECK(std::string(e.msg).find("truncated") != std::string::npos);
    CHECK(std::string(e.msg).find(path) != std::string::npos);
    CHECK(ract_export_restore(&t, path.c_str(), 1, nullptr, &e) == RACT_ERR_FILE_HEADER);
  }
  // A state of version 2 (the raw struct dumps of earlier builds put it at the same place).
  {
    std::string bad = good;
    bad[st + 4] = 2;
    fix_crc(&bad);
    write_all(path, bad);
    ract_error e = {};
    CHECK(ract_export_read_state(path.c_str(), &state, &e) == RACT_ERR_FILE_VERSION);
    CHECK(std::string(e.msg).find("training state version 2, this build reads version 4") !=
          std::string::npos);
    CHECK(ract_export_restore(&t, path.c_str(), 0, nullptr, &e) == RACT_ERR_FILE_VERSION);
  }
  ract_trainer_free(&t);
}
