// Fuzzes the whole data pipeline of ract_dataset_load on one small interaction file:
// load -> rating threshold -> k-core -> dense ids -> CSR -> RS or paper split, and
// optionally writing the split out and loading it back as pre-split files. Bad input must
// fail with a status and a message; an accepted dataset must be consistent.
//
// Input: 4 option bytes, then the file.
//   b0: bits 0-2 format mod 6; bits 3-4 header auto/0/1; bit 5 paper split (else RS);
//       bit 6 rating threshold; bit 7 write the split and load it back.
//   b1: bits 0-2 user k-core lower bound; bits 3-5 item k-core lower bound; bit 6 user
//       upper bound 6 (closed); bit 7 open lower bounds.
//   b2: bits 0-2 held-out users (0: default 10%); bits 3-4 holdout fraction
//       0.2/0.5/0.01/0.99; bits 5-7 RS ratio preset.
//   b3: seed; threshold = b3 % 6.
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ract/data/dataset.h"
#include "tools/fuzz/dataset_check.h"
#include "tools/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 4) return 0;
  const uint8_t b0 = data[0], b1 = data[1], b2 = data[2], b3 = data[3];
  std::string path = ract_fuzz::write_file("data.inter", data + 4, size - 4);

  ract_data_options o = ract_data_options_default();
  o.data = path.c_str();
  o.load.format = (ract_format)((b0 & 7) % 6);
  o.load.header = ((b0 >> 3) & 3) == 0 ? -1 : ((b0 >> 3) & 3) == 1 ? 0 : 1;
  o.split = (b0 & 32) ? RACT_SPLIT_PAPER : RACT_SPLIT_RS;
  if (b0 & 64) {
    o.use_threshold = 1;
    o.threshold = (float)(b3 % 6);
  }
  o.user_inter_num = ract_interval_all();
  o.user_inter_num.lo = b1 & 7;
  o.user_inter_num.lo_open = (b1 >> 7) & 1;
  if (b1 & 64) o.user_inter_num.hi = 6;
  o.item_inter_num = ract_interval_all();
  o.item_inter_num.lo = (b1 >> 3) & 7;
  o.item_inter_num.lo_open = (b1 >> 7) & 1;
  o.heldout_users = (b2 & 7) ? (b2 & 7) : -1;
  static const double fractions[4] = {0.2, 0.5, 0.01, 0.99};
  o.holdout_fraction = fractions[(b2 >> 3) & 3];
  static const double ratios[8][3] = {{0.8, 0.1, 0.1}, {1, 0, 0},      {0, 0, 1},
                                      {0.5, 0.5, 0},   {1, 1, 1},      {1e308, 1e308, 1},
                                      {0.9, 0, 0.1},   {0.1, 0.1, 0.8}};
  memcpy(o.split_ratio, ratios[(b2 >> 5) & 7], sizeof(o.split_ratio));
  o.seed = b3;

  ract_dataset ds;
  ract_error err{};
  ract_status s = ract_dataset_load(&ds, &o, &err);
  if (getenv("RACT_FUZZ_VERBOSE")) {
    fprintf(stderr, "%s: %s\n", __FILE__, s == RACT_OK ? "loaded" : err.msg);
  }
  if (s != RACT_OK) {
    FUZZ_CHECK(err.status == s);
    FUZZ_CHECK(err.msg[0] != '\0');
    return 0;
  }
  FUZZ_CHECK(ds.split == o.split);
  ract_fuzz::check_dataset(ds);
  FUZZ_CHECK(ds.counts.kept_rows <= ds.counts.loaded_rows);
  if ((b0 & 128) && ds.split == RACT_SPLIT_RS) {
    std::string dir = ract_fuzz::scratch_dir() + "/split";
    s = ract_dataset_write_split(&ds, dir.c_str(), &err);
    // A dataset that loaded can be written out, unless a token would not read back from a
    // TSV line (a tab inside a CSV id, ...): that is refused before anything is written.
    if (s != RACT_OK) {
      FUZZ_CHECK(s == RACT_ERR_DATA && strstr(err.msg, "cannot be written as TSV"));
      ract_dataset_free(&ds);
      return 0;
    }
    std::string tr = dir + "/train.tsv", va = dir + "/valid.tsv", te = dir + "/test.tsv";
    ract_data_options p = ract_data_options_default();
    p.train = tr.c_str();
    p.valid = va.c_str();
    p.test = te.c_str();
    p.load.format = RACT_FORMAT_TSV;
    p.load.header = 1;
    ract_dataset back;
    s = ract_dataset_load(&back, &p, &err);
    if (s == RACT_OK) {
      ract_fuzz::check_dataset(back);
      // The written split holds every interaction of the three parts.
      FUZZ_CHECK(back.train.nnz == ds.train.nnz);
      ract_dataset_free(&back);
    } else {
      // Only an empty part may be refused (a written split is otherwise valid input).
      FUZZ_CHECK(ds.train.nnz == 0 || ds.counts.valid_pairs == 0 || ds.counts.test_pairs == 0);
    }
  }
  ract_dataset_free(&ds);
  return 0;
}
