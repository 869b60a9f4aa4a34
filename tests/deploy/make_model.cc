// Writes a random synthetic model (fixture.h) for the tools' tests:
//   make_model OUT inference|checkpoint N_ITEMS [H1 L [TOKENS]]
// TOKENS: a file with one item token per line (the first N_ITEMS are used).
// The fixture uses doctest assertions; this binary carries doctest's implementation.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/deploy/fixture.h"

int main(int argc, char** argv) {
  if (argc != 4 && argc != 6 && argc != 7) {
    fprintf(stderr, "usage: make_model OUT inference|checkpoint N_ITEMS [H1 L [TOKENS]]\n");
    return 2;
  }
  int kind = strcmp(argv[2], "checkpoint") == 0 ? RACT_FILE_CHECKPOINT : RACT_FILE_INFERENCE;
  fixture::Model m = fixture::make_model(atoi(argv[3]), {argc >= 6 ? atoi(argv[4]) : 32},
                                         argc >= 6 ? atoi(argv[5]) : 8, 0.5f, kind, 42);
  if (argc == 7) {
    FILE* f = fopen(argv[6], "r");
    char line[256];
    for (size_t i = 0; f != nullptr && i < m.tokens.size() && fgets(line, sizeof(line), f); i++) {
      line[strcspn(line, "\r\n")] = '\0';
      m.tokens[i] = line;
    }
    if (f != nullptr) fclose(f);
  }
  ract_file_desc d = m.desc(kind);
  ract_error err{};
  if (ract_file_write(argv[1], &d, RACT_FILE_F32, &err) != RACT_OK) {
    fprintf(stderr, "make_model: %s\n", err.msg);
    return 1;
  }
  return 0;
}
