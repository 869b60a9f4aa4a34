// Resource limits of the on-device side (issue 7 item 5): counts read from a weight file
// are checked against the file's size before anything is used (the reader is zero-copy and
// allocates nothing), and the scorer reports a too-small arena as a status.
#include <doctest/doctest.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include <string>
#include <vector>

#include "ract/deploy/kernels.h"
#include "ract/deploy/model_file.h"
#include "ract/ract.h"
#include "tests/deploy/fixture.h"

namespace {

using fixture::Blob;

void wr32(uint8_t* p, uint32_t v) { memcpy(p, &v, 4); }
void wr64(uint8_t* p, uint64_t v) { memcpy(p, &v, 8); }
uint64_t rd64(const uint8_t* p) {
  uint64_t v;
  memcpy(&v, p, 8);
  return v;
}

void fix_crc(Blob* b) {
  uint32_t crc = ract_crc32(0, b->data(), 160);
  crc = ract_crc32(crc, b->data() + 164, b->size - 164);
  wr32(b->data() + 160, crc);
}

Blob base() {
  static fixture::Model m = fixture::make_model(10, {6}, 3, 0.5f, RACT_FILE_INFERENCE, 1);
  return fixture::write(m, RACT_FILE_INFERENCE, RACT_FILE_F32);
}

ract_status open_both(const Blob& b, ract_error* err) {
  ract_file f;
  ract_status s = ract_file_open(&f, b.data(), b.size, err);
  ract_model m;
  ract_error e2 = {};
  ract_status s2 = ract_model_load(&m, b.data(), b.size, &e2);
  CHECK(s2 == s);  // the public loader says the same
  return s;
}

}  // namespace

TEST_CASE("limits: a weight file claiming 2^31 items in 100 bytes is truncated, not read") {
  Blob full = base();
  Blob b = full.prefix(100);
  wr32(b.data() + 36, 0x80000000u);  // n_items
  ract_error err = {};
  CHECK(open_both(b, &err) == RACT_ERR_FILE_TRUNCATED);
  CHECK(err.msg[0] != '\0');
}

TEST_CASE("limits: a lone header claiming INT32_MAX items and a huge file size") {
  Blob full = base();
  Blob b = full.prefix(RACT_FILE_HEADER_BYTES);
  wr32(b.data() + 36, INT32_MAX);
  wr64(b.data() + 16, RACT_FILE_HEADER_BYTES);
  fix_crc(&b);
  ract_error err = {};
  ract_status s = open_both(b, &err);
  CHECK(s != RACT_OK);
  CHECK(err.msg[0] != '\0');
  // The header's file size says 2^62 bytes: refused against the buffer's size.
  wr64(b.data() + 16, 1ull << 62);
  fix_crc(&b);
  CHECK(open_both(b, &err) == RACT_ERR_FILE_TRUNCATED);
}

TEST_CASE("limits: a token table claiming 2^32-1 tokens, with a valid CRC, is refused") {
  Blob b = base();
  const uint64_t tokens = rd64(b.data() + 96);
  wr32(b.data() + tokens, UINT32_MAX);  // the table's count
  fix_crc(&b);
  ract_error err = {};
  CHECK(open_both(b, &err) == RACT_ERR_FILE_TOKENS);
  CHECK(std::string(err.msg).find("count") != std::string::npos);
}

TEST_CASE("limits: the scorer with an arena of 10 bytes, 0 bytes or none: a status") {
  Blob b = base();
  ract_model m;
  ract_error err = {};
  REQUIRE(ract_model_load(&m, b.data(), b.size, &err) == RACT_OK);
  alignas(64) uint8_t small[64];
  ract_scorer s;
  CHECK(ract_scorer_init(&s, &m, small, 10, &err) == RACT_ERR_NOMEM);
  CHECK(std::string(err.msg).find("ract_scorer_arena_bytes") != std::string::npos);
  CHECK(ract_scorer_init(&s, &m, small, 0, &err) != RACT_OK);
  CHECK(ract_scorer_init(&s, &m, nullptr, 1 << 20, &err) == RACT_ERR_ARG);
  // A failed init leaves a scorer that refuses to score.
  int32_t top[3];
  float val[3];
  int got = 0;
  int32_t h = 1;
  int unknown = 0;
  CHECK(ract_scorer_set_history(&s, &h, 1, &unknown, &err) == RACT_ERR_ARG);
  CHECK(ract_scorer_topk(&s, 3, 1, top, val, &got, &err) != RACT_OK);
}

// Found by //tools/fuzz:model_file (corpus file nan_activation_int8): an int8 file whose
// weights make a hidden activation NaN reached (int8_t)NaN in the activation quantiser
// (UBSan: float-cast-overflow). NaN and inf * 0 now quantise to 0.
TEST_CASE("fuzz regression: int8 activation quantisation of NaN and inf stays defined") {
  const float x[6] = {1.0f, NAN, -2.0f, INFINITY, -INFINITY, 0.5f};
  int8_t q[6];
  float sx = ract_kernel_quantise_i8(q, x, 2);  // {1, NaN}: max 1, NaN -> 0
  CHECK(sx == doctest::Approx(1.0f / 127.0f));
  CHECK(q[0] == 127);
  CHECK(q[1] == 0);
  sx = ract_kernel_quantise_i8(q, x, 6);  // max |x| = inf: every finite value -> 0
  for (int c = 0; c < 6; c++) CHECK((q[c] >= -127 && q[c] <= 127));
  const float nan_only[2] = {NAN, NAN};
  CHECK(ract_kernel_quantise_i8(q, nan_only, 2) == 0.0f);
  CHECK(q[0] == 0);
  CHECK(q[1] == 0);
}
