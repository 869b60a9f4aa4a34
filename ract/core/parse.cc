// Strict number parsing (parse.h): the grammar is checked by hand, then strtoll/strtod
// convert the checked text.
#include "ract/core/parse.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

namespace {

bool digit(char c) { return c >= '0' && c <= '9'; }

// Length of the integer at s (-?D+, the sign only when allowed), 0 if there is none.
size_t int_span(const char* s, bool minus) {
  size_t i = 0;
  if (minus && s[i] == '-') i++;
  size_t d = i;
  while (digit(s[i])) i++;
  return i > d ? i : 0;
}

// Converts exactly n bytes of s (an int_span) to an integer in [lo, hi].
bool int_value(const char* s, size_t n, int64_t lo, int64_t hi, int64_t* out) {
  char buf[32];
  if (n >= sizeof(buf)) return false;  // more digits than any int64 has
  memcpy(buf, s, n);
  buf[n] = '\0';
  errno = 0;
  char* end = nullptr;
  long long v = strtoll(buf, &end, 10);
  if (errno != 0 || *end != '\0' || v < lo || v > hi) return false;
  *out = v;
  return true;
}

}  // namespace

int ract_parse_int(const char* s, int64_t lo, int64_t hi, int64_t* out) {
  if (s == nullptr || out == nullptr) return 0;
  const size_t n = int_span(s, lo < 0);
  if (n == 0 || s[n] != '\0') return 0;
  return int_value(s, n, lo, hi, out) ? 1 : 0;
}

int ract_parse_float(const char* s, double lo, double hi, float* out) {
  if (s == nullptr || out == nullptr) return 0;
  size_t i = 0;
  if (lo < 0 && s[i] == '-') i++;
  size_t mant = 0, zero = 1;
  for (; digit(s[i]); i++, mant++) zero &= s[i] == '0';
  if (s[i] == '.') {
    i++;
    for (; digit(s[i]); i++, mant++) zero &= s[i] == '0';
  }
  if (mant == 0) return 0;
  if (s[i] == 'e' || s[i] == 'E') {
    i++;
    if (s[i] == '+' || s[i] == '-') i++;
    size_t e = i;
    while (digit(s[i])) i++;
    if (i == e) return 0;
  }
  if (s[i] != '\0') return 0;
  errno = 0;
  char* end = nullptr;
  const double v = strtod(s, &end);
  if (*end != '\0' || !isfinite(v)) return 0;
  const float f = (float)v;
  if (!isfinite(f) || !(f >= lo && f <= hi)) return 0;
  if (f == 0.0f && !zero) return 0;  // underflow: 1e-60 is not 0
  *out = f;
  return 1;
}

int ract_parse_int_list(const char* s, int64_t lo, int64_t hi, int* out, int max, int* n) {
  if (s == nullptr || out == nullptr || n == nullptr || max < 1) return 0;
  if (lo < INT32_MIN || hi > INT32_MAX) return 0;
  int vals[64];
  int count = 0;
  size_t i = 0;
  while (s[i] == ' ') i++;
  const bool open = s[i] == '[';
  if (open) i++;
  for (;;) {
    while (s[i] == ' ') i++;
    const size_t len = int_span(s + i, lo < 0);
    int64_t v;
    if (len == 0 || count == max || count == 64 || !int_value(s + i, len, lo, hi, &v)) return 0;
    vals[count++] = (int)v;
    i += len;
    while (s[i] == ' ') i++;
    if (s[i] != ',') break;
    i++;
  }
  if (open) {
    if (s[i] != ']') return 0;
    i++;
  }
  while (s[i] == ' ') i++;
  if (s[i] != '\0') return 0;
  memcpy(out, vals, sizeof(int) * count);
  *n = count;
  return 1;
}
