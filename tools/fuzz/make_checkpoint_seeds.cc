// Writes the checkpoint fuzz target's seeds into the folder given (default
// tools/fuzz/corpus/checkpoint): checkpoints of the fixture trainer at the start and
// after the actor stage, each prefixed with the fuzz flag byte (fix the CRC, resume, run),
// and the regression inputs fuzzing once found, rebuilt for the current state format
// (ract/deploy/FORMAT.md, "Training state"): a variant switch of 256, a saved thread count
// of 256, an all-zero RNG state. Run it again whenever RACT_TRAIN_STATE_VERSION changes.
// (state_version_2, a checkpoint of the raw-struct format, stays as it is.)
//   bazel run //tools/fuzz:make_checkpoint_seeds -- $PWD/tools/fuzz/corpus/checkpoint
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <string>
#include <vector>

#include "ract/deploy/model_file.h"
#include "ract/train/export.h"
#include "tools/fuzz/checkpoint_fixture.h"

// Byte offsets in the state blob (FORMAT.md): the model config's `head`, the config's
// `threads`, the RNG state.
constexpr size_t kHead = 120 + 96, kThreads = 396, kRng = 72;

// The seed: the flag byte, then the checkpoint of t; `mutate` (if given) rewrites the state
// blob's bytes [at, at + n) with `value` repeated (the fuzz target fixes the CRC: flag 1).
static int save(const std::string& dir, const char* name, ract_trainer* t, uint8_t flags,
                size_t at = 0, size_t n = 0, const uint8_t* value = nullptr) {
  ract_error err{};
  std::string tmp = ract_fuzz::scratch_dir() + "/seed.ckpt";
  if (ract_export_checkpoint(tmp.c_str(), t, nullptr, 0, &err) != RACT_OK) {
    fprintf(stderr, "%s\n", err.msg);
    return 1;
  }
  FILE* in = fopen(tmp.c_str(), "rb");
  std::vector<uint8_t> b(1, flags);
  int c;
  while ((c = fgetc(in)) != EOF) b.push_back((uint8_t)c);
  fclose(in);
  if (n > 0) {
    void* blob = nullptr;
    size_t len = 0;
    ract_file f;
    if (ract_file_read(tmp.c_str(), &blob, &len, &err) != RACT_OK ||
        ract_file_open(&f, blob, len, &err) != RACT_OK || at + n > f.state_bytes) {
      fprintf(stderr, "%s: %s\n", name, err.msg);
      free(blob);
      return 1;
    }
    const size_t state = (size_t)((const uint8_t*)f.state - (const uint8_t*)blob);
    free(blob);
    memcpy(&b[1 + state + at], value, n);
  }
  std::string out = dir + "/" + name;
  FILE* f = fopen(out.c_str(), "wb");
  if (!f || fwrite(b.data(), 1, b.size(), f) != b.size() || fclose(f) != 0) return 1;
  printf("%s: %zu bytes\n", out.c_str(), b.size());
  return 0;
}

int main(int argc, char** argv) {
  std::string dir = argc > 1 ? argv[1] : "tools/fuzz/corpus/checkpoint";
  ract_fuzz::CheckpointFixture fx;
  int rc = save(dir, "start", &fx.t, 1);
  ract_error err{};
  if (ract_trainer_run_stage(&fx.t, RACT_STAGE_ACTOR_PRETRAIN, nullptr, &err) != RACT_OK) {
    fprintf(stderr, "%s\n", err.msg);
    return 1;
  }
  rc |= save(dir, "after_actor_resume", &fx.t, 1 | 2);
  rc |= save(dir, "after_actor_resume_run", &fx.t, 1 | 2 | 4);
  rc |= save(dir, "after_actor_weights_only", &fx.t, 0);
  // Found by fuzzing: head = 256 reached the config check as an enum holding no enumerator.
  const uint8_t head256[4] = {0, 1, 0, 0};
  rc |= save(dir, "bad_head_switch", &fx.t, 1 | 2, kHead, 4, head256);
  // A saved thread count of 256 set BLIS globally and made later inputs time out.
  const uint8_t threads256[4] = {0, 1, 0, 0};
  rc |= save(dir, "threads_from_state", &fx.t, 1 | 2 | 4, kThreads, 4, threads256);
  // An all-zero xoshiro state: the first shuffle of the resumed run never ended.
  const uint8_t zeros[32] = {};
  rc |= save(dir, "zero_rng_state_resume_run", &fx.t, 1 | 2 | 4, kRng, 32, zeros);
  return rc;
}
