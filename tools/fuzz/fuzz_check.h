// Invariant checks inside fuzz entry points: a failed check prints the condition and
// aborts, which libFuzzer reports as a crash (and saves the input) and the corpus replay
// test reports as a failed test case.
#ifndef RACT_TOOLS_FUZZ_FUZZ_CHECK_H_
#define RACT_TOOLS_FUZZ_FUZZ_CHECK_H_

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ract/core/status.h"

#define FUZZ_CHECK(cond)                                                            \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      fprintf(stderr, "%s:%d: fuzz check failed: %s\n", __FILE__, __LINE__, #cond); \
      abort();                                                                      \
    }                                                                               \
  } while (0)

// A failure is a non-OK status with a message that matches it.
static inline void fuzz_check_failure(ract_status s, const ract_error& err) {
  FUZZ_CHECK(s != RACT_OK);
  FUZZ_CHECK(err.status == s);
  FUZZ_CHECK(err.msg[0] != '\0');
}

// Rewrites a weight file's CRC field (header bytes 160..163, ract/deploy/model_file.h) to
// match its bytes, so that mutations get past the checksum to the structural checks.
// crc32 is ract_crc32 (passed in: only targets that link the reader use this).
static inline void fuzz_fix_crc(uint8_t* b, size_t size,
                                uint32_t (*crc32)(uint32_t, const void*, size_t)) {
  if (size < 256) return;
  uint64_t file_size;
  memcpy(&file_size, b + 16, 8);
  size_t n = file_size < size ? (size_t)file_size : size;
  if (n < 164) return;
  uint32_t crc = crc32(0, b, 160);
  crc = crc32(crc, b + 164, n - 164);
  memcpy(b + 160, &crc, 4);
}

#endif  // RACT_TOOLS_FUZZ_FUZZ_CHECK_H_
