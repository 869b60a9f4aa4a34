// Strict number parsing (ract/core/parse.h): what flags and config keys accept and refuse.
#include "ract/core/parse.h"

#include <doctest/doctest.h>
#include <math.h>
#include <stdint.h>

#include <string>

TEST_CASE("parse: integers are whole decimal strings in range") {
  int64_t v = 77;
  CHECK(ract_parse_int("0", 0, 10, &v) == 1);
  CHECK(v == 0);
  CHECK(ract_parse_int("600", 1, 1 << 24, &v) == 1);
  CHECK(v == 600);
  CHECK(ract_parse_int("007", 0, 10, &v) == 1);
  CHECK(v == 7);
  CHECK(ract_parse_int("-1", -1, 10, &v) == 1);
  CHECK(v == -1);
  CHECK(ract_parse_int("9223372036854775807", 0, INT64_MAX, &v) == 1);
  CHECK(v == INT64_MAX);
  v = 77;
  const char* bad[] = {"",    " 5", "5 ",  "+5",  "5x",  "0x10", "1e3", "5.0",
                       "--5", "-",  "1,2", "nan", "inf", "\t5",  "5\n", "\xd9\xa3"};
  for (const char* s : bad) {
    std::string text = s;
    CAPTURE(text);
    CHECK(ract_parse_int(s, -100, 100, &v) == 0);
  }
  // Overflow of int64 and of the range.
  CHECK(ract_parse_int("9223372036854775808", 0, INT64_MAX, &v) == 0);
  CHECK(ract_parse_int("99999999999999999999999999999999", 0, INT64_MAX, &v) == 0);
  CHECK(ract_parse_int("11", 0, 10, &v) == 0);
  CHECK(ract_parse_int("-2", -1, 10, &v) == 0);
  // A sign only where the range has negatives.
  CHECK(ract_parse_int("-5", 0, 10, &v) == 0);
  CHECK(ract_parse_int("-0", 0, 10, &v) == 0);
  CHECK(ract_parse_int(nullptr, 0, 10, &v) == 0);
  CHECK(v == 77);  // untouched by every failure
}

TEST_CASE("parse: numbers are decimal, finite as floats, in range") {
  float v = 7;
  CHECK(ract_parse_float("0", 0, 1, &v) == 1);
  CHECK(v == 0.0f);
  CHECK(ract_parse_float("0.5", 0, 1, &v) == 1);
  CHECK(v == 0.5f);
  CHECK(ract_parse_float(".5", 0, 1, &v) == 1);
  CHECK(ract_parse_float("5.", 0, 10, &v) == 1);
  CHECK(ract_parse_float("1e-3", 0, 10, &v) == 1);
  CHECK(v == 1e-3f);
  CHECK(ract_parse_float("2E+0", 0, 10, &v) == 1);
  CHECK(ract_parse_float("0e0", 0, 10, &v) == 1);
  CHECK(ract_parse_float("-0.25", -1, 1, &v) == 1);
  CHECK(v == -0.25f);
  CHECK(ract_parse_float("3e38", 0, HUGE_VAL, &v) == 1);
  v = 7;
  const char* bad[] = {"",    " 1",   "1 ",  "+1",    "1x",    "0x1p-3", "nan",  "NaN",
                       "inf", "-inf", "1e",  "1e+",   "e5",    ".",      "-.",   "1..2",
                       "1,5", "1e5.", "--1", "1e999", "1e-60", "4e38",   "1e-46"};
  for (const char* s : bad) {
    std::string text = s;
    CAPTURE(text);
    CHECK(ract_parse_float(s, -HUGE_VAL, HUGE_VAL, &v) == 0);
  }
  CHECK(ract_parse_float("-1", 0, 10, &v) == 0);  // no sign where lo >= 0
  CHECK(ract_parse_float("-0", 0, 10, &v) == 0);
  CHECK(ract_parse_float("10.5", 0, 10, &v) == 0);    // above hi
  CHECK(ract_parse_float("1e-3", 0.01, 1, &v) == 0);  // below lo
  CHECK(v == 7);
}

TEST_CASE("parse: integer lists, brackets both or neither, no empty items") {
  int out[8] = {0};
  int n = -1;
  CHECK(ract_parse_int_list("600", 1, 1 << 24, out, 8, &n) == 1);
  CHECK(n == 1);
  CHECK(out[0] == 600);
  CHECK(ract_parse_int_list("[100, 100, 10]", 1, 1 << 24, out, 8, &n) == 1);
  CHECK(n == 3);
  CHECK(out[2] == 10);
  CHECK(ract_parse_int_list("[ 64 ,32 ]", 1, 1 << 24, out, 8, &n) == 1);
  CHECK(n == 2);
  CHECK(ract_parse_int_list("1,2,3,4,5,6,7,8", 1, 1 << 24, out, 8, &n) == 1);
  CHECK(n == 8);
  n = -1;
  out[0] = 42;
  const char* bad[] = {"[600",
                       "600]",
                       "[[600]]",
                       "[600]]",
                       "[]",
                       "",
                       ",",
                       "[,600]",
                       "600,",
                       "[600,]",
                       "600,,200",
                       "[600][200]",
                       "6[0]0",
                       "[600]x",
                       "600 200",
                       "+600",
                       "-600",
                       "600.0",
                       "0",
                       "[16777217]",
                       "1,2,3,4,5,6,7,8,9",
                       "99999999999999999999",
                       "[600, ]",
                       "[ , ]",
                       "6 00",
                       "600\t",
                       "[0x10]",
                       "nan"};
  for (const char* s : bad) {
    std::string text = s;
    CAPTURE(text);
    CHECK(ract_parse_int_list(s, 1, 1 << 24, out, 8, &n) == 0);
  }
  CHECK(n == -1);
  CHECK(out[0] == 42);
  // Negative items only where the range has them.
  CHECK(ract_parse_int_list("[-1,2]", -5, 5, out, 8, &n) == 1);
  CHECK(out[0] == -1);
}
