// Fuzzes the pre-split path of ract_dataset_load: train, valid and test files (shared
// vocabularies, cold users, overlaps, items only in valid/test). Bad files must fail with
// a status and a message; an accepted dataset must be consistent (dataset_check.h).
//
// Input: 1 selector byte (bits 0-2: format mod 6; bits 3-4: header auto/0/1; bit 5:
// rating_col "none"), then the three files separated by NUL bytes (train NUL valid NUL
// test; missing parts are empty files).
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ract/data/dataset.h"
#include "tools/fuzz/dataset_check.h"
#include "tools/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t sel = data[0];
  data++;
  size--;
  const uint8_t* part[3] = {data, data + size, data + size};
  size_t len[3] = {size, 0, 0};
  for (int p = 0; p < 2; p++) {
    const uint8_t* nul = (const uint8_t*)memchr(part[p], 0, len[p]);
    if (!nul) break;
    size_t rest = len[p] - (size_t)(nul - part[p]) - 1;
    len[p] = (size_t)(nul - part[p]);
    part[p + 1] = nul + 1;
    len[p + 1] = rest;
  }
  std::string train = ract_fuzz::write_file("train.tsv", part[0], len[0]);
  std::string valid = ract_fuzz::write_file("valid.tsv", part[1], len[1]);
  std::string test = ract_fuzz::write_file("test.tsv", part[2], len[2]);

  ract_data_options o = ract_data_options_default();
  o.train = train.c_str();
  o.valid = valid.c_str();
  o.test = test.c_str();
  o.load.format = (ract_format)((sel & 7) % 6);
  o.load.header = ((sel >> 3) & 3) == 0 ? -1 : ((sel >> 3) & 3) == 1 ? 0 : 1;
  if (sel & 32) o.load.rating_col = "none";
  ract_dataset ds;
  ract_error err{};
  ract_status s = ract_dataset_load(&ds, &o, &err);
  if (getenv("RACT_FUZZ_VERBOSE")) {
    fprintf(stderr, "%s: %s\n", __FILE__, s == RACT_OK ? "loaded" : err.msg);
  }
  if (s == RACT_OK) {
    FUZZ_CHECK(ds.split == RACT_SPLIT_FILES);
    ract_fuzz::check_dataset(ds);
    ract_dataset_free(&ds);
  } else {
    FUZZ_CHECK(err.status == s);
    FUZZ_CHECK(err.msg[0] != '\0');
  }
  return 0;
}
