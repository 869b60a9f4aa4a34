// Writes a random synthetic model (fixture.h) for the tools' tests:
//   make_model OUT inference|checkpoint N_ITEMS
// The fixture uses doctest assertions; this binary carries doctest's implementation.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/deploy/fixture.h"

int main(int argc, char** argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: make_model OUT inference|checkpoint N_ITEMS\n");
    return 2;
  }
  int kind = strcmp(argv[2], "checkpoint") == 0 ? RACT_FILE_CHECKPOINT : RACT_FILE_INFERENCE;
  fixture::Model m = fixture::make_model(atoi(argv[3]), {32}, 8, 0.5f, kind, 42);
  ract_file_desc d = m.desc(kind);
  ract_error err{};
  if (ract_model_file_write(argv[1], &d, RACT_FILE_F32, &err) != RACT_OK) {
    fprintf(stderr, "make_model: %s\n", err.msg);
    return 1;
  }
  return 0;
}
