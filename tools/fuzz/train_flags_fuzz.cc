// Fuzzes tools/train's whole command line (tools/train_flags.h): the input is split at NUL
// bytes into argv strings (no bytes: no arguments). A refused command line must be RACT_ERR_ARG
// with a message; an accepted one must give a configuration that ract_train_config_check accepts,
// that compares equal to itself for --resume, and — when small enough to build here — from which
// ract_trainer_create builds a trainer on a tiny dataset (checkpoint_fixture.h). Nothing is
// trained, no file is read.
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <string>
#include <vector>

#include "ract/train/trainer.h"
#include "tools/fuzz/checkpoint_fixture.h"
#include "tools/fuzz/fuzz_check.h"
#include "tools/train_flags.h"

namespace {

bool inside(const char* p, const std::vector<std::string>& args) {
  for (const std::string& a : args) {
    if (p >= a.c_str() && p <= a.c_str() + a.size()) return true;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static ract_fuzz::CheckpointFixture* fx = new ract_fuzz::CheckpointFixture();
  static ract_train_flags f;  // large (the data flags' paths): not on the stack
  std::vector<std::string> args{"train"};
  size_t start = 0;
  for (size_t i = 0; size > 0 && i <= size; i++) {
    if (i < size && data[i] != 0) continue;
    args.emplace_back((const char*)data + start, i - start);
    start = i + 1;
  }
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(&a[0]);
  ract_error err{};
  ract_status s = ract_train_flags_parse(&f, (int)argv.size(), argv.data(), &err);
  if (s != RACT_OK) {
    fuzz_check_failure(s, err);
    FUZZ_CHECK(s == RACT_ERR_ARG);
    return 0;
  }
  if (f.help) return 0;
  const ract_train_config& c = f.cfg;
  ract_error cerr{};
  FUZZ_CHECK(ract_train_config_check(&c, &cerr) == RACT_OK);
  FUZZ_CHECK(ract_train_config_same_run(&c, &c, &cerr) == RACT_OK);
  FUZZ_CHECK(inside(f.out, args) || strcmp(f.out, "model.ract") == 0);
  for (const char* p : {f.report, f.plot, f.checkpoint, f.init_from, f.resume}) {
    FUZZ_CHECK(p == nullptr || inside(p, args));
  }
  FUZZ_CHECK(f.checkpoint_every >= 0 && f.stop_after_batches >= 0);
  FUZZ_CHECK(f.dtype == RACT_FILE_F32 || f.dtype == RACT_FILE_F16 || f.dtype == RACT_FILE_I8);
  // A trainer from it, when it is small enough to allocate here.
  const ract_hparams& m = c.model;
  bool small = m.latent_dimension <= 64 && m.metrics_k <= 1000;
  for (int j = 0; j < m.n_hidden; j++) small &= m.mlp_hidden_size[j] <= 64;
  for (int j = 0; j < m.n_critic_layers; j++) small &= m.critic_layers[j] <= 64;
  for (int j = 0; j < c.n_topk; j++) small &= c.topk[j] <= 1000;
  small &= (int64_t)c.stage_epochs[0] + c.stage_epochs[1] + c.stage_epochs[2] <= 1000;
  if (small) {
    ract_train_config cfg = c;
    cfg.threads = 1;  // BLIS threads are global: many would slow every later input
    ract_trainer t;
    ract_error terr{};
    ract_status ts = ract_trainer_create(&t, &cfg, &fx->ds, nullptr, 0, &terr);
    if (ts != RACT_OK) fprintf(stderr, "trainer_create refused an accepted config: %s\n", terr.msg);
    FUZZ_CHECK(ts == RACT_OK);
    ract_trainer_free(&t);
  }
  return 0;
}
