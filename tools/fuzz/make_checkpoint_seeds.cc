// Writes the checkpoint fuzz target's seeds into the folder given (default
// tools/fuzz/corpus/checkpoint): checkpoints of the fixture trainer at the start and
// after the actor stage, each prefixed with the fuzz flag byte (fix the CRC, resume, run).
//   bazel run //tools/fuzz:make_checkpoint_seeds -- $PWD/tools/fuzz/corpus/checkpoint
#include <stdint.h>
#include <stdio.h>

#include <string>
#include <vector>

#include "ract/train/export.h"
#include "tools/fuzz/checkpoint_fixture.h"

static int save(const std::string& dir, const char* name, ract_trainer* t, uint8_t flags) {
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
  return rc;
}
