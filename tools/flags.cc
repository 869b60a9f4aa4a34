// `--name=value` flags (flags.h).
#include "tools/flags.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char* ract_flag_value(const char* arg, const char* name) {
  size_t n = strlen(name);
  if (strncmp(arg, "--", 2) != 0 || strncmp(arg + 2, name, n) != 0 || arg[2 + n] != '=') {
    return nullptr;
  }
  return arg + 3 + n;
}

int ract_flag_int(const char* s, long lo, long hi, int* out) {
  char* end;
  long v = strtol(s, &end, 10);
  if (*s == '\0' || *end != '\0' || v < lo || v > hi) return 0;
  *out = (int)v;
  return 1;
}

int ract_flag_float(const char* s, double lo, double hi, float* out) {
  char* end;
  double v = strtod(s, &end);
  if (*s == '\0' || *end != '\0' || !(v >= lo && v <= hi)) return 0;
  *out = (float)v;
  return 1;
}

int ract_flag_list(const char* s, int* out, int max, int* n) {
  *n = 0;
  for (const char* p = s; *p;) {
    while (*p == '[' || *p == ' ' || *p == ',') p++;
    if (*p == ']' || *p == '\0') break;
    char* end;
    long v = strtol(p, &end, 10);
    if (end == p || v < 1 || v > (1 << 24) || *n >= max) return 0;
    out[(*n)++] = (int)v;
    p = end;
    while (*p == ' ' || *p == ']') p++;
    if (*p != ',' && *p != '\0') return 0;
  }
  return *n > 0;
}

void ract_flag_chdir_to_invocation(void) {
  const char* wd = getenv("BUILD_WORKING_DIRECTORY");
  if (wd != nullptr && wd[0] != '\0' && chdir(wd) != 0) {
    // Stay where we are: relative paths then resolve in the runfiles folder.
  }
}
