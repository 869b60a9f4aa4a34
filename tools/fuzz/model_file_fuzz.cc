// Fuzzes the weight-file reader and the on-device scorer on arbitrary bytes: the loader
// must reject anything malformed with a RACT_ERR_* status and a message, never read
// outside the buffer (ASan: the copy is exactly the input's size), and whatever it accepts
// must be usable: every tensor readable, tokens consistent, the scorer's top-K in range
// and in order.
//
// Input: 1 flag byte (bit 0: re-compute the CRC at offset 160 so mutations reach the
// checks after it and the scorer; bits 1-7: the history), then the file.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <vector>

#include "ract/deploy/model_file.h"
#include "ract/ract.h"
#include "tools/fuzz/fuzz_check.h"

namespace {

void use_file(const ract_file& f) {
  for (int32_t i = 0; i < f.n_tensors; i++) {
    ract_file_tensor_view t;
    ract_error err{};
    ract_status s = ract_file_tensor_at(&f, i, &t, &err);
    if (s != RACT_OK) {
      fuzz_check_failure(s, err);
      continue;
    }
    int64_t n = ract_file_tensor_size(&t);
    FUZZ_CHECK(n >= 0);
    if (n <= (1 << 20)) {
      std::vector<float> out((size_t)n + 1);
      ract_file_tensor_f32(&t, out.data());
    }
  }
  for (int32_t i = 0; i < f.dims.n_items && i < 64; i++) {
    const char* tok = ract_file_token(&f, i);
    FUZZ_CHECK(tok != nullptr);
    FUZZ_CHECK(ract_file_token_index(&f, tok, strlen(tok)) == i);  // tokens are unique
  }
  for (int32_t i = 0; i < f.n_meta; i++) {
    const char *key = nullptr, *value = nullptr;
    if (ract_file_meta_at(&f, i, &key, &value) == RACT_OK) {
      FUZZ_CHECK(key != nullptr && value != nullptr);
    }
  }
}

void use_model(const ract_model& m, uint8_t flags) {
  size_t bytes = ract_scorer_arena_bytes(&m);
  if (bytes > (64u << 20)) return;
  std::vector<uint8_t> arena(bytes);
  ract_scorer sc;
  ract_error err{};
  ract_status s = ract_scorer_init(&sc, &m, arena.data(), arena.size(), &err);
  FUZZ_CHECK(s == RACT_OK);  // the arena is as large as it asked for
  const int32_t items = ract_model_n_items(&m);
  int32_t history[8];
  int n = 0;
  for (int b = 1; b < 8; b++) {
    if (flags & (1 << b)) history[n++] = (int32_t)(b * 7) - 3;  // some out of range
  }
  int unknown = 0;
  FUZZ_CHECK(ract_scorer_set_history(&sc, history, n, &unknown, &err) == RACT_OK);
  FUZZ_CHECK(unknown >= 0 && unknown <= n);
  int32_t top[5];
  float val[5];
  int got = 0;
  FUZZ_CHECK(ract_scorer_topk(&sc, 5, 1, top, val, &got, &err) == RACT_OK);
  FUZZ_CHECK(got >= 0 && got <= 5 && got <= items);
  for (int i = 0; i < got; i++) {
    FUZZ_CHECK(top[i] >= 0 && top[i] < items);
    if (i > 0) FUZZ_CHECK(!(val[i] > val[i - 1]));
  }
  if (items <= (1 << 20)) {
    std::vector<float> all((size_t)items + 1);
    FUZZ_CHECK(ract_scorer_full_sort_predict(&sc, all.data(), &err) == RACT_OK);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t flags = data[0];
  data++;
  size--;
  // Exactly `size` bytes at the 16-byte alignment the reader asks for.
  void* p = nullptr;
  FUZZ_CHECK(posix_memalign(&p, RACT_FILE_BLOB_ALIGN, size ? size : 1) == 0);
  uint8_t* b = (uint8_t*)p;
  if (size) memcpy(b, data, size);
  if (flags & 1) fuzz_fix_crc(b, size, ract_crc32);

  ract_file f;
  ract_error err{};
  ract_status s = ract_file_open(&f, b, size, &err);
  if (s == RACT_OK) {
    FUZZ_CHECK(f.size <= size);
    use_file(f);
  } else {
    fuzz_check_failure(s, err);
  }

  ract_model m;
  ract_error merr{};
  s = ract_model_load(&m, b, size, &merr);
  if (s == RACT_OK) {
    use_model(m, flags);
  } else {
    fuzz_check_failure(s, merr);
  }
  free(p);
  return 0;
}
