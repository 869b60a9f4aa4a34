// libFuzzer target: any bytes through the loader, and through the scorer when they load.
// Build and run with clang (not part of `bazel test`; see tests/deploy/BUILD), or directly:
//   clang++ -std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined -I. \
//     tests/deploy/model_file_fuzz.cc ract/deploy/{model_file,kernels,scorer}.cc \
//     ract/math/topk.cc ract/core/{arena,status}.cc -o /tmp/model_file_fuzz
//   /tmp/model_file_fuzz -max_total_time=60 CORPUS_DIR   (seed it with small .ract files)
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ract/deploy/model_file.h"
#include "ract/ract.h"

static void run(uint8_t* buf, size_t size);

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The loader needs a 16-byte aligned buffer; exactly `size` bytes, so ASan sees overreads.
  void* mem = nullptr;
  if (posix_memalign(&mem, 16, size == 0 ? 1 : size) != 0) return 0;
  uint8_t* buf = (uint8_t*)mem;
  if (size > 0) memcpy(buf, data, size);
  run(buf, size);
  // Again with the CRC repaired, so mutations reach past the checksum into the scorer.
  uint64_t file_size = 0;
  if (size >= 164) memcpy(&file_size, buf + 16, 8);
  if (file_size >= 164 && file_size <= size) {
    uint32_t crc = ract_crc32(0, buf, 160);
    crc = ract_crc32(crc, buf + 164, (size_t)file_size - 164);
    memcpy(buf + 160, &crc, 4);
    run(buf, size);
  }
  free(buf);
  return 0;
}

static void run(uint8_t* buf, size_t size) {
  ract_model_file f;
  ract_error err;
  if (ract_model_file_open(&f, buf, size, &err) == RACT_OK) {
    for (int32_t i = 0; i < f.n_tensors; i++) {
      ract_file_tensor_view t;
      ract_model_file_tensor_at(&f, i, &t, nullptr);
    }
    for (int32_t i = 0; i < f.n_meta; i++) {
      const char *k, *v;
      ract_model_file_meta_at(&f, i, &k, &v);
    }
    ract_model_file_token_index(&f, "1", 1);
  }
  ract_model w;
  if (ract_model_load(&w, buf, size, &err) == RACT_OK && w.n_items <= 100000) {
    size_t need = ract_scorer_arena_bytes(&w);
    void* arena = malloc(need);
    ract_scorer s;
    if (arena != nullptr && ract_scorer_init(&s, &w, arena, need, &err) == RACT_OK) {
      int32_t h[3] = {0, 1, w.n_items - 1};
      int32_t items[8];
      float scores[8];
      int n;
      ract_scorer_set_history(&s, h, 3, nullptr, nullptr);
      ract_scorer_topk(&s, 8, 1, items, scores, &n, nullptr);
    }
    free(arena);
  }
}
