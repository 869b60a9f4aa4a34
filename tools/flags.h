// Command-line helpers shared by the tools: `--name=value` flags and their values.
// Each parser returns 1 on success and 0 on a malformed or out-of-range value (*out
// unchanged).
#ifndef RACT_TOOLS_FLAGS_H_
#define RACT_TOOLS_FLAGS_H_

#include <stddef.h>

#include "ract/core/status.h"

// The value of `--name=value` if arg is flag `name`, else NULL.
const char* ract_flag_value(const char* arg, const char* name);

// The strict grammar of ract/core/parse.h: the whole string, decimal, no spaces, a minus
// only where lo < 0, no plus, nan or inf.
// An integer in [lo, hi].
int ract_flag_int(const char* s, long lo, long hi, int* out);

// A number in [lo, hi], finite as a float.
int ract_flag_float(const char* s, double lo, double hi, float* out);

// A list of sizes in [1, 2^24]: "[600]", "600,200", "[100, 100, 10]"; 1..max entries,
// brackets both or neither, no empty entry.
int ract_flag_list(const char* s, int* out, int max, int* n);

// Machine policy of the tools: RACT_OK if `bytes` (e.g. ract_trainer_bytes) fit this
// machine's physical memory, else RACT_ERR_NOMEM naming both in GiB and `what` (the library
// itself takes any size it is given).
ract_status ract_flag_check_memory(size_t bytes, const char* what, ract_error* err);

// Under `bazel run` a tool starts in its runfiles folder; this moves it back to the folder
// the user ran Bazel from ($BUILD_WORKING_DIRECTORY), so that relative paths — --out,
// --report, --model, data files — mean what the user meant. No-op outside `bazel run`.
void ract_flag_chdir_to_invocation(void);

#endif  // RACT_TOOLS_FLAGS_H_
