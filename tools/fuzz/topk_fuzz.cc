// Fuzzes top-K against its contract on arbitrary scores (NaN, infinities, -0, ties):
// min(k, n) entries, distinct in-range indices, values equal to the scores, in rank order,
// and no score left out that ranks before the last one kept. The streaming interface
// (init/push/finish) must agree with ract_topk_row entry for entry.
//
// Input: 1 byte k, 1 byte mode (even: raw float bits, 4 bytes a score; odd: one byte a
// score among 8 levels, for many ties), then the scores.
#include <stdint.h>
#include <string.h>

#include <vector>

#include "ract/math/topk.h"
#include "ract/math/topk_row.h"
#include "tools/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const int k = data[0] % 70;
  const bool levels = data[1] & 1;
  data += 2;
  size -= 2;

  std::vector<float> scores;
  if (levels) {
    static const float kLevels[8] = {-1.0f, 0.0f, -0.0f, 0.5f, 1.0f, 1e30f, -1e30f, 0.25f};
    for (size_t i = 0; i < size; i++) scores.push_back(kLevels[data[i] % 8]);
  } else {
    for (size_t i = 0; i + 4 <= size; i += 4) {
      float f;
      memcpy(&f, data + i, sizeof(f));
      scores.push_back(f);
    }
  }
  const int n = (int)scores.size();

  std::vector<int> idx(k > 0 ? k : 1, -1);
  std::vector<float> val(k > 0 ? k : 1, 0.0f);
  const int got = ract_topk_row(scores.data(), n, k, idx.data(), val.data());
  FUZZ_CHECK(got == (k < n ? k : n));

  std::vector<char> kept(n + 1, 0);
  for (int i = 0; i < got; i++) {
    FUZZ_CHECK(idx[i] >= 0 && idx[i] < n);
    FUZZ_CHECK(!kept[idx[i]]);
    kept[idx[i]] = 1;
    FUZZ_CHECK(memcmp(&val[i], &scores[idx[i]], sizeof(float)) == 0);
    if (i > 0) FUZZ_CHECK(!ract_topk_before(val[i], idx[i], val[i - 1], idx[i - 1]));
  }
  if (got > 0) {
    for (int j = 0; j < n; j++) {
      if (!kept[j]) {
        FUZZ_CHECK(!ract_topk_before(scores[j], j, val[got - 1], idx[got - 1]));
      }
    }
  }

  // Streaming gives the same answer.
  std::vector<int> sidx(k > 0 ? k : 1, -1);
  std::vector<float> sval(k > 0 ? k : 1, 0.0f);
  ract_topk t;
  ract_topk_init(&t, k < n ? k : n, sidx.data(), sval.data());
  for (int j = 0; j < n; j++) ract_topk_push(&t, j, scores[j]);
  FUZZ_CHECK(ract_topk_finish(&t) == got);
  for (int i = 0; i < got; i++) {
    FUZZ_CHECK(sidx[i] == idx[i]);
    FUZZ_CHECK(memcmp(&sval[i], &val[i], sizeof(float)) == 0);
  }
  return 0;
}
