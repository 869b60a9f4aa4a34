// Command-line data flags shared by every tool (train, score --eval, data): they fill a
// ract_data_options for ract_dataset_load.
//
// With no data flag at all, the shipped MovieLens latest-small
// (third_party/ml-latest-small/ratings.csv) is used with the paper's protocol (ratings >= 4
// positive, users with >= 5 kept, 10% validation and 10% test held-out users, 80/20
// fold-in), except for the protocol flags given explicitly. The file is found through
// $RACT_DEFAULT_DATA, then Bazel runfiles ($RUNFILES_DIR, <binary>.runfiles, the working
// directory under `bazel run`), then $BUILD_WORKSPACE_DIRECTORY.
//
// Relative paths are taken relative to the directory `bazel run` was started from
// ($BUILD_WORKING_DIRECTORY) when set, else to the working directory.
#ifndef RACT_TOOLS_DATA_FLAGS_H_
#define RACT_TOOLS_DATA_FLAGS_H_

#include "ract/core/status.h"
#include "ract/data/dataset.h"

typedef struct ract_data_flags {
  ract_data_options opt;  // the result; strings point into `path` or the argv strings
  int set_threshold;      // flags given explicitly (the default data keeps the others)
  int set_user_inter;
  int set_item_inter;
  int set_split;
  int set_heldout;
  char path[5][4096];  // resolved data, train, valid, test, write_split
} ract_data_flags;

void ract_data_flags_init(ract_data_flags* f);

// Parses one argument. Returns 1 if it was a data flag (consumed), 0 if it is not one of
// ours, -1 on a bad value (err names the flag).
int ract_data_flags_parse(ract_data_flags* f, const char* arg, ract_error* err);

// After all arguments: applies the default dataset when no data flag was given. argv0 helps
// find the runfiles.
ract_status ract_data_flags_finish(ract_data_flags* f, const char* argv0, ract_error* err);

// The default data file (see above), resolved into buf; RACT_ERR_IO listing the places
// tried if it is nowhere.
ract_status ract_data_flags_default_file(char* buf, size_t size, const char* argv0,
                                         ract_error* err);

// Help text for the data flags (one flag a line).
const char* ract_data_flags_usage(void);

#endif  // RACT_TOOLS_DATA_FLAGS_H_
