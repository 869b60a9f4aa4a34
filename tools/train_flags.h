// tools/train's command line: argv to a training configuration and the tool's own options,
// without touching any file (the data flags are parsed, not resolved: call
// ract_data_flags_finish before loading). Every malformed, unknown or out-of-range flag is
// RACT_ERR_ARG with a message naming it; an accepted configuration passes
// ract_train_config_check.
#ifndef RACT_TOOLS_TRAIN_FLAGS_H_
#define RACT_TOOLS_TRAIN_FLAGS_H_

#include <stddef.h>

#include "ract/core/status.h"
#include "ract/deploy/model_file.h"
#include "ract/train/trainer.h"
#include "tools/data_flags.h"

typedef struct ract_train_flags {
  ract_train_config cfg;  // --preset's defaults, then every model and schedule flag, --seed
  ract_data_flags data;   // --data, --split, --seed, ...
  // Strings point into argv.
  const char* out;     // --out (default model.ract)
  const char* report;  // NULL unless given
  const char* plot;
  const char* checkpoint;
  const char* init_from;
  const char* resume;
  int checkpoint_every;
  ract_file_dtype dtype;
  int quiet;
  int help;                // --help or -h: nothing else was parsed
  int stop_after_batches;  // testing aid: raise SIGINT after this many batches (0: never)
} ract_train_flags;

// Parses argv[1..argc).
ract_status ract_train_flags_parse(ract_train_flags* f, int argc, char** argv, ract_error* err);

#endif  // RACT_TOOLS_TRAIN_FLAGS_H_
