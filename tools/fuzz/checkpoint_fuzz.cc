// Fuzzes checkpoint import (ract/train/export.h): ract_export_read_state and
// ract_export_restore on arbitrary bytes, with and without resume, into a tiny trainer
// (checkpoint_fixture.h), then one ract_trainer_run from the imported cursor. Anything
// malformed must fail with a status and a message; nothing may read or write outside
// the trainer's buffers whatever the state blob claims (epoch logs, rows, cursor).
//
// Input: 1 flag byte (bit 0: re-compute the CRC at offset 160 so mutations reach the
// state-blob checks; bit 1: resume; bit 2: run the trainer after a resumed import), then
// the file. Seeds: make_checkpoint_seeds.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <string>
#include <vector>

#include "ract/deploy/model_file.h"
#include "ract/train/export.h"
#include "ract/train/trainer.h"
#include "tools/fuzz/checkpoint_fixture.h"
#include "tools/fuzz/fuzz_check.h"

namespace {

// The work one input may ask for: a resumed run goes on from the imported cursor under the
// fixture's schedule, and an input whose remaining work exceeds this many batches is not
// run (libFuzzer's timeout would report a slow input as a hang; the trainer's own limits
// are tests/train/limits_test).
constexpr int64_t kMaxRunBatches = 64;

int64_t remaining_batches(const ract_trainer* t) {
  const ract_train_config& c = t->cfg;
  const int rows = t->data->train.rows;
  const int B = c.train_batch_size < rows ? c.train_batch_size : rows;
  const int64_t per_epoch = B < 1 ? 0 : c.drop_last ? rows / B : (rows + B - 1) / B;
  int64_t n = 0;
  for (int s = t->cur.stage; s < RACT_STAGES; s++) {
    if (!c.run_stage[s]) continue;
    int64_t epochs = c.stage_epochs[s];
    if (s == t->cur.stage && t->cur.started) epochs -= t->cur.epoch;
    if (epochs > 0) n += epochs * per_epoch;
  }
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  static ract_fuzz::CheckpointFixture* fx = new ract_fuzz::CheckpointFixture();
  const uint8_t flags = data[0];
  std::vector<uint8_t> b(data + 1, data + size);
  if (flags & 1) fuzz_fix_crc(b.data(), b.size(), ract_crc32);
  std::string path = ract_fuzz::write_file("fuzz.ckpt", b.data(), b.size());

  ract_train_state st;
  ract_error err{};
  ract_status s = ract_export_read_state(path.c_str(), &st, &err);
  static const bool verbose = getenv("RACT_FUZZ_VERBOSE") != nullptr;
  if (s != RACT_OK) {
    if (verbose) fprintf(stderr, "checkpoint: read state: %s\n", err.msg);
    fuzz_check_failure(s, err);
    return 0;
  }
  FUZZ_CHECK(st.n_log >= 0 && st.rows >= 0);
  FUZZ_CHECK(st.cur.stage >= 0 && st.cur.stage <= RACT_STAGES);
  // What tools/train does with an accepted state before creating a trainer: print and use
  // the saved config.
  FUZZ_CHECK(memchr(st.cfg.preset, 0, sizeof(st.cfg.preset)) != nullptr);
  FUZZ_CHECK(memchr(st.cfg.valid_metric, 0, sizeof(st.cfg.valid_metric)) != nullptr);
  FUZZ_CHECK(st.cfg.threads >= 1 && st.cfg.threads <= 256);
  char line[2048];
  ract_hparams_format(&st.cfg.model, line, sizeof(line));
  // A trainer from the saved config on the fixture's data, when it is small enough to
  // allocate here (the limits themselves are tests/train/limits_test).
  const ract_hparams& m = st.cfg.model;
  bool small = st.cfg.eval_batch <= 64 && m.latent_dimension <= 64 && m.metrics_k <= 1000;
  // The trainer sizes its epoch log from the schedule: 1000 epochs at most here.
  int64_t total_epochs = 0;
  for (int s2 = 0; s2 < RACT_STAGES; s2++) total_epochs += st.cfg.stage_epochs[s2];
  small &= total_epochs <= 1000;
  for (int j = 0; j < m.n_hidden; j++) small &= m.mlp_hidden_size[j] <= 64;
  for (int j = 0; j < m.n_critic_layers; j++) small &= m.critic_layers[j] <= 64;
  if (small) {
    // One BLIS thread: the saved count (up to 256) is legitimate but sets BLIS globally,
    // and 256 spinning threads on a small machine make every later input time out.
    ract_train_config cfg = st.cfg;
    cfg.threads = 1;
    ract_trainer t2;
    ract_error cerr{};
    ract_status cs = ract_trainer_create(&t2, &cfg, &fx->ds, nullptr, 0, &cerr);
    if (cs != RACT_OK) fuzz_check_failure(cs, cerr);
    ract_trainer_free(&t2);
  }

  ract_trainer* t = &fx->t;
  const int resume = (flags >> 1) & 1;
  ract_error ierr{};
  s = ract_export_restore(t, path.c_str(), resume, &st, &ierr);
  if (verbose) fprintf(stderr, "checkpoint: import (resume %d): %s\n", resume, ierr.msg);
  if (s != RACT_OK) {
    fuzz_check_failure(s, ierr);
  } else if (resume) {
    FUZZ_CHECK(t->n_log >= 0 && t->n_log <= t->cap_log);
    for (int r = 0; r < fx->ds.train.rows; r++) {
      FUZZ_CHECK(t->order[r] >= 0 && t->order[r] < fx->ds.train.rows);
    }
    if ((flags & 4) && remaining_batches(t) <= kMaxRunBatches) {
      ract_error rerr{};
      s = ract_trainer_run(t, nullptr, &rerr);
      if (s != RACT_OK) fuzz_check_failure(s, rerr);
    }
  }
  // Whatever happened, the next input starts from a fresh cursor.
  memset(&t->cur, 0, sizeof(t->cur));
  t->n_log = 0;
  return 0;
}
