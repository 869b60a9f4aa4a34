// Fuzzes the interaction-file parser (ract_load_buffer) in every format: anything
// malformed must fail with a status and a message; whatever it accepts must be consistent
// (every dense id below its vocabulary's size, a rating per row when ratings were read).
//
// Input: 1 selector byte (bits 0-2: format mod 6 = auto, inter, udata, dat, csv, tsv;
// bits 3-4: header auto/0/1; bit 5: rating_col "none"; bit 6: columns by name
// "user_id"/"item_id"; bit 7: load the same bytes twice into the same vocabularies, as
// pre-split files are), then the file.
#include <stdint.h>
#include <string.h>

#include <vector>

#include "ract/data/loader.h"
#include "ract/data/vocab.h"
#include "tools/fuzz/fuzz_check.h"

namespace {

void check_inter(const ract_inter& x, const ract_vocab& users, const ract_vocab& items) {
  FUZZ_CHECK(x.n >= 0 && x.n <= x.cap);
  for (int64_t i = 0; i < x.n; i++) {
    FUZZ_CHECK(x.user[i] >= 0 && x.user[i] < users.n);
    FUZZ_CHECK(x.item[i] >= 0 && x.item[i] < items.n);
  }
  for (int32_t i = 0; i < users.n; i++) {
    const char* tok = ract_vocab_token(&users, i);
    FUZZ_CHECK(ract_vocab_find(&users, tok, strlen(tok)) == i);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t sel = data[0];
  // An exact-size copy: a read past the end is an ASan report.
  std::vector<char> buf(data + 1, data + size);
  ract_load_options opt = ract_load_options_default();
  opt.format = (ract_format)((sel & 7) % 6);
  opt.header = ((sel >> 3) & 3) == 0 ? -1 : ((sel >> 3) & 3) == 1 ? 0 : 1;
  if (sel & 32) opt.rating_col = "none";
  if (sel & 64) {
    opt.user_col = "user_id";
    opt.item_col = "item_id";
  }
  ract_vocab users, items;
  ract_vocab_init(&users);
  ract_vocab_init(&items);
  const int passes = (sel & 128) ? 2 : 1;
  for (int p = 0; p < passes; p++) {
    ract_inter x{};
    ract_error err{};
    ract_status s =
        ract_load_buffer(&x, &users, &items, "fuzz.inter", buf.data(), buf.size(), &opt, &err);
    if (s == RACT_OK) {
      check_inter(x, users, items);
      FUZZ_CHECK(x.format != RACT_FORMAT_AUTO);
    } else {
      FUZZ_CHECK(err.status == s);
      FUZZ_CHECK(err.msg[0] != '\0');
    }
    ract_inter_free(&x);
  }
  ract_vocab_free(&users);
  ract_vocab_free(&items);
  return 0;
}
