// Strict text-to-number parsing for flags and config keys. A value is the whole string, in
// decimal, without surrounding spaces; a minus sign only where the range has negatives and
// never a plus; no hex, nan or inf. Each function returns 1 and writes *out on success, 0
// (and leaves *out alone) on anything else, including a value outside [lo, hi].
#ifndef RACT_CORE_PARSE_H_
#define RACT_CORE_PARSE_H_

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// An integer: -?[0-9]+ in [lo, hi] (overflow refused).
int ract_parse_int(const char* s, int64_t lo, int64_t hi, int64_t* out);

// A number -?(D+(.D*)?|.D+)([eE][+-]?D+)? whose float value is finite, in [lo, hi], and not
// 0 unless the text is a zero (a value that underflows float is refused).
int ract_parse_float(const char* s, double lo, double hi, float* out);

// A list of integers in [lo, hi]: "600", "[600]", "100,100,10", "[100, 100, 10]". Brackets
// both or neither; spaces only around items and brackets; no empty item; 1..max items. On
// success out[0..*n) holds them.
int ract_parse_int_list(const char* s, int64_t lo, int64_t hi, int* out, int max, int* n);

#ifdef __cplusplus
}  // extern "C"
#endif

#endif  // RACT_CORE_PARSE_H_
