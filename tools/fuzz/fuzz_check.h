// Invariant checks inside fuzz entry points: a failed check prints the condition and
// aborts, which libFuzzer reports as a crash (and saves the input) and the corpus replay
// test reports as a failed test case.
#ifndef RACT_TOOLS_FUZZ_FUZZ_CHECK_H_
#define RACT_TOOLS_FUZZ_FUZZ_CHECK_H_

#include <stdio.h>
#include <stdlib.h>

#define FUZZ_CHECK(cond)                                                            \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      fprintf(stderr, "%s:%d: fuzz check failed: %s\n", __FILE__, __LINE__, #cond); \
      abort();                                                                      \
    }                                                                               \
  } while (0)

#endif  // RACT_TOOLS_FUZZ_FUZZ_CHECK_H_
