// Writes the score rows of a weight file for some histories (see score_rows.h). Built for
// the host by the x86_model genrule: the x86-64 side of cross_arch_test.
//   golden_scores MODEL HISTORIES K OUT
#include <stdio.h>
#include <stdlib.h>

#include "tests/toolchains/score_rows.h"

int main(int argc, char** argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: golden_scores MODEL HISTORIES K OUT\n");
    return 2;
  }
  ScoreRows r;
  std::string e = score_rows(argv[1], argv[2], atoi(argv[3]), &r);
  if (e.empty()) e = write_rows(argv[4], r);
  if (!e.empty()) {
    fprintf(stderr, "golden_scores: %s\n", e.c_str());
    return 1;
  }
  return 0;
}
