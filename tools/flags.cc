// `--name=value` flags (flags.h).
#include "tools/flags.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ract/core/parse.h"

const char* ract_flag_value(const char* arg, const char* name) {
  size_t n = strlen(name);
  if (strncmp(arg, "--", 2) != 0 || strncmp(arg + 2, name, n) != 0 || arg[2 + n] != '=') {
    return nullptr;
  }
  return arg + 3 + n;
}

int ract_flag_int(const char* s, long lo, long hi, int* out) {
  int64_t v;
  if (lo < INT32_MIN || hi > INT32_MAX || !ract_parse_int(s, lo, hi, &v)) return 0;
  *out = (int)v;
  return 1;
}

int ract_flag_float(const char* s, double lo, double hi, float* out) {
  return ract_parse_float(s, lo, hi, out);
}

int ract_flag_list(const char* s, int* out, int max, int* n) {
  return ract_parse_int_list(s, 1, 1 << 24, out, max, n);
}

void ract_flag_chdir_to_invocation(void) {
  const char* wd = getenv("BUILD_WORKING_DIRECTORY");
  if (wd != nullptr && wd[0] != '\0' && chdir(wd) != 0) {
    // Stay where we are: relative paths then resolve in the runfiles folder.
  }
}

ract_status ract_flag_check_memory(size_t bytes, const char* what, ract_error* err) {
  const double phys = (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE);
  if (phys > 0 && (double)bytes > phys) {
    return ract_fail(err, RACT_ERR_NOMEM, "%s needs %.1f GiB, this machine has %.1f GiB", what,
                     (double)bytes / 1073741824.0, phys / 1073741824.0);
  }
  return RACT_OK;
}
