// Weight files: round trip of every dtype and kind, the size budget of int8, atomic write
// and conversion, and a table of corrupted files, each rejected with its own status.
#include "ract/deploy/model_file.h"

#include <doctest/doctest.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <functional>
#include <set>
#include <string>
#include <vector>

#include "ract/core/rng.h"
#include "ract/deploy/model_file_write.h"
#include "ract/ract.h"
#include "tests/deploy/fixture.h"

using fixture::Blob;

namespace {

uint32_t rd32(const uint8_t* p) {
  uint32_t v;
  memcpy(&v, p, 4);
  return v;
}
uint64_t rd64(const uint8_t* p) {
  uint64_t v;
  memcpy(&v, p, 8);
  return v;
}
void wr32(uint8_t* p, uint32_t v) { memcpy(p, &v, 4); }
void wr64(uint8_t* p, uint64_t v) { memcpy(p, &v, 8); }

void fix_crc(Blob* b) {
  size_t size = (size_t)rd64(b->data() + 16);
  if (size > b->size || size < 164) return;
  uint32_t crc = ract_crc32(0, b->data(), 160);
  crc = ract_crc32(crc, b->data() + 164, size - 164);
  wr32(b->data() + 160, crc);
}

ract_status open_status(const Blob& b, ract_error* err) {
  ract_file f;
  return ract_file_open(&f, b.data(), b.size, err);
}

// Offset of tensor entry `name` in the table.
size_t entry(const Blob& b, const char* name) {
  uint64_t table = rd64(b.data() + 88);
  uint32_t n = rd32(b.data() + 84);
  for (uint32_t i = 0; i < n; i++) {
    size_t e = (size_t)table + 128 * i;
    if (strcmp((const char*)b.data() + e, name) == 0) return e;
  }
  FAIL("no entry " << name);
  return 0;
}

// The small model every corruption starts from.
Blob base_file(int kind = RACT_FILE_INFERENCE, ract_file_dtype dt = RACT_FILE_F32) {
  static fixture::Model inf = fixture::make_model(10, {6}, 3, 0.5f, RACT_FILE_INFERENCE, 1);
  static fixture::Model ckpt = fixture::make_model(10, {6}, 3, 0.5f, RACT_FILE_CHECKPOINT, 1);
  return fixture::write(kind == RACT_FILE_INFERENCE ? inf : ckpt, kind, dt);
}

struct Case {
  const char* what;
  std::function<void(Blob*)> mutate;
  ract_status want;
  const char* in_msg;  // a word the message must contain
};

}  // namespace

TEST_CASE("model_file: fp32 round trip is exact, with tokens, metadata and dims") {
  fixture::Model m = fixture::make_model(50, {12, 7}, 4, 0.5f, RACT_FILE_INFERENCE, 2);
  Blob b = fixture::write(m, RACT_FILE_INFERENCE, RACT_FILE_F32);
  ract_file f;
  ract_error err{};
  REQUIRE(ract_file_open(&f, b.data(), b.size, &err) == RACT_OK);
  CHECK(f.size == b.size);
  CHECK(f.size % 64 == 0);
  CHECK(f.kind == RACT_FILE_INFERENCE);
  CHECK(f.dtype == RACT_FILE_F32);
  CHECK(f.dims.n_items == 50);
  CHECK(f.dims.latent == 4);
  CHECK(f.dims.n_hidden == 2);
  CHECK(f.dims.hidden[0] == 12);
  CHECK(f.dims.hidden[1] == 7);
  CHECK(f.dims.hidden[2] == 0);
  CHECK(f.dims.preset == RACT_PRESET_RECBOLE);
  CHECK(f.dims.input_scale == 0.5f);
  CHECK(f.state_bytes == 0);
  REQUIRE(f.n_tensors == (int32_t)m.names.size());
  for (int32_t i = 0; i < f.n_tensors; i++) {
    ract_file_tensor_view t;
    REQUIRE(ract_file_tensor_at(&f, i, &t, nullptr) == RACT_OK);
    CHECK(std::string(t.name) == m.names[i]);
    CHECK(t.n_dims == (int32_t)m.shapes[i].size());
    CHECK(t.offset % 64 == 0);
    CHECK((uintptr_t)t.data % 64 == 0);
    std::vector<float> v((size_t)ract_file_tensor_size(&t));
    ract_file_tensor_f32(&t, v.data());
    CHECK(v == m.values[i]);  // bit-exact
  }
  // Lookup by name and dims.
  ract_file_tensor_view t;
  int64_t dims[2] = {50, 12};
  CHECK(ract_file_find(&f, "enc.0.w", 2, dims, &t, nullptr) == RACT_OK);
  CHECK(ract_file_find(&f, "enc.0.w", 0, nullptr, &t, nullptr) == RACT_OK);
  dims[1] = 13;
  CHECK(ract_file_find(&f, "enc.0.w", 2, dims, &t, &err) == RACT_ERR_FILE_DIMS);
  CHECK(std::string(err.msg).find("50 x 12") != std::string::npos);
  CHECK(ract_file_find(&f, "nope", 0, nullptr, &t, &err) == RACT_ERR_FILE_TENSOR);
  CHECK(std::string(err.msg).find("nope") != std::string::npos);
  // Tokens.
  for (int32_t i = 0; i < 50; i++) {
    std::string tok = std::to_string(3 * i + 1);
    CHECK(std::string(ract_file_token(&f, i)) == tok);
    CHECK(ract_file_token_index(&f, tok.c_str(), tok.size()) == i);
  }
  CHECK(ract_file_token_index(&f, "0", 1) == -1);
  CHECK(ract_file_token_index(&f, "1000", 4) == -1);
  // Metadata.
  REQUIRE(f.n_meta == 4);
  const char *k = nullptr, *v = nullptr;
  REQUIRE(ract_file_meta_at(&f, 2, &k, &v) == RACT_OK);
  CHECK(std::string(k) == "test.ndcg@10");
  CHECK(std::string(v) == "0.4321");
  CHECK(std::string(ract_file_meta_get(&f, "date")) == "2026-11-29");
  CHECK(ract_file_meta_get(&f, "nope") == nullptr);
  CHECK(ract_file_meta_at(&f, 4, &k, &v) == RACT_ERR_ARG);
}

TEST_CASE("model_file: fp16 and int8 round trips are within their rounding; biases stay fp32") {
  fixture::Model m = fixture::make_model(40, {16}, 5, 1.0f, RACT_FILE_INFERENCE, 3);
  for (ract_file_dtype dt : {RACT_FILE_F16, RACT_FILE_I8}) {
    CAPTURE(ract_file_dtype_name(dt));
    Blob b = fixture::write(m, RACT_FILE_INFERENCE, dt);
    ract_file f;
    REQUIRE(ract_file_open(&f, b.data(), b.size, nullptr) == RACT_OK);
    CHECK(f.dtype == dt);
    for (int32_t i = 0; i < f.n_tensors; i++) {
      ract_file_tensor_view t;
      REQUIRE(ract_file_tensor_at(&f, i, &t, nullptr) == RACT_OK);
      std::vector<float> v((size_t)ract_file_tensor_size(&t));
      ract_file_tensor_f32(&t, v.data());
      const std::vector<float>& want = m.values[i];
      if (t.n_dims == 1) {
        CHECK(t.dtype == RACT_FILE_F32);
        CHECK(v == want);
        continue;
      }
      CHECK(t.dtype == dt);
      for (int64_t r = 0; r < t.rows; r++) {
        float amax = 0;
        for (int64_t c = 0; c < t.cols; c++) amax = fmaxf(amax, fabsf(want[r * t.cols + c]));
        if (dt == RACT_FILE_I8) CHECK(t.scale[r] == doctest::Approx(amax / 127.0f));
        for (int64_t c = 0; c < t.cols; c++) {
          float w = want[r * t.cols + c], got = v[r * t.cols + c];
          // fp16: half an ulp of 11 bits; int8: half a quantisation step.
          float tol = dt == RACT_FILE_F16 ? fabsf(w) * (1.0f / 2048) + 1e-7f
                                          : amax / 127.0f * 0.5f * 1.0001f;
          if (fabsf(got - w) > tol) {
            FAIL_CHECK(t.name << "[" << r << "," << c << "] " << w << " -> " << got);
          }
        }
      }
    }
  }
}

TEST_CASE("model_file: a checkpoint keeps every tensor and the state blob") {
  fixture::Model m = fixture::make_model(20, {8}, 3, 0.5f, RACT_FILE_CHECKPOINT, 4);
  Blob b = fixture::write(m, RACT_FILE_CHECKPOINT, RACT_FILE_F32);
  ract_file f;
  REQUIRE(ract_file_open(&f, b.data(), b.size, nullptr) == RACT_OK);
  CHECK(f.kind == RACT_FILE_CHECKPOINT);
  REQUIRE(f.state_bytes == m.state.size());
  CHECK(memcmp(f.state, m.state.data(), m.state.size()) == 0);
  REQUIRE(f.n_tensors == (int32_t)m.names.size());
  ract_file_tensor_view t;
  int64_t dims[3] = {1, 2, 2};
  REQUIRE(ract_file_find(&f, "counters", 3, dims, &t, nullptr) == RACT_OK);
  CHECK(t.rows == 1);
  CHECK(t.cols == 4);
  float c[4];
  ract_file_tensor_f32(&t, c);
  CHECK(c[3] == 4.0f);
  REQUIRE(ract_file_find(&f, "adam.m.enc.head.w", 0, nullptr, &t, nullptr) == RACT_OK);
  CHECK(t.rows == 6);
  // Checkpoints are fp32 only.
  ract_file_desc d = m.desc(RACT_FILE_CHECKPOINT);
  size_t bytes;
  ract_error err{};
  CHECK(ract_file_bytes(&d, RACT_FILE_I8, &bytes, &err) == RACT_ERR_ARG);
}

TEST_CASE("model_file: the int8 file is at most 27% of the fp32 file for I=3706, h1=600, L=200") {
  // Sizes only: ract_file_bytes reads no tensor values.
  ract_file_dims d{};
  d.n_items = 3706;
  d.latent = 200;
  d.n_hidden = 1;
  d.hidden[0] = 600;
  d.input_scale = 1.0f;
  d.preset = RACT_PRESET_PAPER;
  ract_file_required req[RACT_FILE_MAX_REQUIRED];
  int32_t n = ract_file_required_of(&d, RACT_FILE_INFERENCE, req);
  REQUIRE(n == 8);
  static const float dummy = 0;
  std::vector<ract_file_tensor> ts(n);
  for (int32_t i = 0; i < n; i++) {
    ts[i].name = req[i].name;
    ts[i].n_dims = req[i].n_dims;
    ts[i].dims[0] = req[i].dims[0];
    ts[i].dims[1] = req[i].dims[1];
    ts[i].data = &dummy;
  }
  std::vector<std::string> toks;
  std::vector<const char*> tp;
  for (int i = 0; i < 3706; i++) toks.push_back(std::to_string(i + 1));  // ml-1m ids 1..3952
  for (auto& s : toks) tp.push_back(s.c_str());
  ract_file_desc desc{};
  desc.kind = RACT_FILE_INFERENCE;
  desc.dims = d;
  desc.tensors = ts.data();
  desc.n_tensors = n;
  desc.tokens = tp.data();
  size_t f32 = 0, f16 = 0, i8 = 0;
  REQUIRE(ract_file_bytes(&desc, RACT_FILE_F32, &f32, nullptr) == RACT_OK);
  REQUIRE(ract_file_bytes(&desc, RACT_FILE_F16, &f16, nullptr) == RACT_OK);
  REQUIRE(ract_file_bytes(&desc, RACT_FILE_I8, &i8, nullptr) == RACT_OK);
  MESSAGE("I=3706 h1=600 L=200: fp32 " << f32 << " B, fp16 " << f16 << " B (" << 100.0 * f16 / f32
                                       << "%), int8 " << i8 << " B (" << 100.0 * i8 / f32 << "%)");
  CHECK(f32 > 4 * (2 * 3706 * 600 + 2 * 600 * 200));
  CHECK((double)i8 <= 0.27 * (double)f32);
  CHECK((double)f16 <= 0.51 * (double)f32);
}

TEST_CASE("model_file: the writer rejects bad descriptions") {
  fixture::Model m = fixture::make_model(10, {6}, 3, 0.5f, RACT_FILE_INFERENCE, 5);
  ract_error err{};
  size_t bytes;
  auto expect = [&](fixture::Model mm, ract_file_dtype dt, ract_status want, const char* word) {
    ract_file_desc d = mm.desc(RACT_FILE_INFERENCE);
    ract_status s = ract_file_bytes(&d, dt, &bytes, &err);
    if (s == RACT_OK) {
      Blob b = Blob::make(bytes);
      s = ract_file_write_buffer(b.data(), b.size, &d, dt, nullptr, &err);
    }
    CHECK(s == want);
    CHECK(std::string(err.msg).find(word) != std::string::npos);
  };
  {
    fixture::Model mm = m;
    mm.values[0][3] = NAN;
    expect(mm, RACT_FILE_F32, RACT_ERR_NUMERIC, "enc.0.w");
  }
  {
    fixture::Model mm = m;
    mm.values[0][3] = 1e6f;  // beyond fp16
    expect(mm, RACT_FILE_F16, RACT_ERR_NUMERIC, "fp16");
    expect(mm, RACT_FILE_I8, RACT_OK, "");  // int8 scales any range
  }
  {
    fixture::Model mm = m;
    mm.names.pop_back();  // no dec.out.b
    mm.shapes.pop_back();
    mm.values.pop_back();
    expect(mm, RACT_FILE_F32, RACT_ERR_FILE_TENSOR, "dec.out.b");
  }
  {
    fixture::Model mm = m;
    mm.names.push_back("mu.w");  // twice
    mm.shapes.push_back(m.shapes[2]);
    mm.values.push_back(m.values[2]);
    expect(mm, RACT_FILE_F32, RACT_ERR_FILE_TENSOR, "twice");
  }
  {
    fixture::Model mm = m;
    mm.shapes[2] = {4, 4};  // mu.w must be 3 x 6
    expect(mm, RACT_FILE_F32, RACT_ERR_FILE_DIMS, "mu.w");
  }
  {
    fixture::Model mm = m;
    mm.tokens[7] = mm.tokens[2];
    expect(mm, RACT_FILE_F32, RACT_ERR_ARG, mm.tokens[2].c_str());
  }
  {
    fixture::Model mm = m;
    mm.tokens[7] = "a b";
    expect(mm, RACT_FILE_F32, RACT_ERR_FILE_TOKENS, "token 7");
  }
  {
    fixture::Model mm = m;
    mm.tokens[7] = "";
    expect(mm, RACT_FILE_F32, RACT_ERR_ARG, "item 7");
  }
  {
    fixture::Model mm = m;
    mm.names[0] = std::string(64, 'x');
    expect(mm, RACT_FILE_F32, RACT_ERR_ARG, "name");
  }
  {
    fixture::Model mm = m;
    mm.meta.push_back({"dataset", "again"});
    expect(mm, RACT_FILE_F32, RACT_ERR_FILE_META, "dataset");
  }
  {
    fixture::Model mm = m;
    mm.dims.n_hidden = 9;
    expect(mm, RACT_FILE_F32, RACT_ERR_ARG, "n_hidden");
  }
  {
    fixture::Model mm = m;
    mm.tokens.clear();  // default tokens: "0", "1", ...
    ract_file_desc d = mm.desc(RACT_FILE_INFERENCE);
    REQUIRE(ract_file_bytes(&d, RACT_FILE_F32, &bytes, nullptr) == RACT_OK);
    Blob b = Blob::make(bytes);
    REQUIRE(ract_file_write_buffer(b.data(), b.size, &d, RACT_FILE_F32, nullptr, nullptr) ==
            RACT_OK);
    ract_file f;
    REQUIRE(ract_file_open(&f, b.data(), b.size, nullptr) == RACT_OK);
    CHECK(std::string(ract_file_token(&f, 9)) == "9");
    CHECK(ract_file_token_index(&f, "7", 1) == 7);
    // Too small a buffer.
    CHECK(ract_file_write_buffer(b.data(), b.size - 1, &d, RACT_FILE_F32, nullptr, &err) ==
          RACT_ERR_ARG);
  }
}

TEST_CASE("model_file: atomic write, read back, convert inference and checkpoint files") {
  const char* tmp = getenv("TEST_TMPDIR");
  std::string dir = tmp ? tmp : "/tmp";
  fixture::Model ck = fixture::make_model(30, {8}, 3, 0.5f, RACT_FILE_CHECKPOINT, 6);
  ract_file_desc d = ck.desc(RACT_FILE_CHECKPOINT);
  std::string ck_path = dir + "/model.ckpt";
  ract_error err{};
  REQUIRE(ract_file_write(ck_path.c_str(), &d, RACT_FILE_F32, &err) == RACT_OK);
  void* blob = nullptr;
  size_t len = 0;
  REQUIRE(ract_file_read(ck_path.c_str(), &blob, &len, &err) == RACT_OK);
  ract_file f;
  REQUIRE(ract_file_open(&f, blob, len, &err) == RACT_OK);
  CHECK(f.kind == RACT_FILE_CHECKPOINT);

  // Checkpoint -> int8 inference file: mu is the first half of enc.head.
  std::string inf_path = dir + "/model.int8";
  REQUIRE(ract_file_convert(inf_path.c_str(), &f, RACT_FILE_I8, &err) == RACT_OK);
  void* blob2 = nullptr;
  size_t len2 = 0;
  REQUIRE(ract_file_read(inf_path.c_str(), &blob2, &len2, &err) == RACT_OK);
  ract_file g;
  REQUIRE(ract_file_open(&g, blob2, len2, &err) == RACT_OK);
  CHECK(g.kind == RACT_FILE_INFERENCE);
  CHECK(g.dtype == RACT_FILE_I8);
  CHECK(g.n_tensors == 8);
  CHECK(std::string(ract_file_meta_get(&g, "converted_from")) == "checkpoint fp32");
  CHECK(std::string(ract_file_meta_get(&g, "dataset")) == "synthetic");
  CHECK(std::string(ract_file_token(&g, 29)) == "88");
  ract_file_tensor_view t;
  REQUIRE(ract_file_find(&g, "mu.b", 0, nullptr, &t, nullptr) == RACT_OK);
  const std::vector<float>& head_b = ck.get("enc.head.b");
  for (int i = 0; i < 3; i++) CHECK(((const float*)t.data)[i] == head_b[i]);
  // The int8 file back to fp32 equals its dequantised weights.
  std::string f32_path = dir + "/model.fp32";
  REQUIRE(ract_file_convert(f32_path.c_str(), &g, RACT_FILE_F32, &err) == RACT_OK);
  void* blob3 = nullptr;
  size_t len3 = 0;
  REQUIRE(ract_file_read(f32_path.c_str(), &blob3, &len3, &err) == RACT_OK);
  ract_file h;
  REQUIRE(ract_file_open(&h, blob3, len3, &err) == RACT_OK);
  CHECK(std::string(ract_file_meta_get(&h, "converted_from")) == "inference int8");
  CHECK(h.n_meta == g.n_meta);  // replaced, not added twice
  auto wg = fixture::weights_of(g), wh = fixture::weights_of(h);
  CHECK(wg == wh);
  free(blob);
  free(blob2);
  free(blob3);

  CHECK(ract_file_read((dir + "/missing").c_str(), &blob, &len, &err) == RACT_ERR_IO);
  CHECK(ract_file_write((dir + "/no/such/dir/x").c_str(), &d, RACT_FILE_F32, &err) == RACT_ERR_IO);
}

TEST_CASE("model_file: truncated at every length: RACT_ERR_FILE_TRUNCATED, never a crash") {
  for (ract_file_dtype dt : {RACT_FILE_F32, RACT_FILE_I8}) {
    Blob b = base_file(RACT_FILE_INFERENCE, dt);
    for (size_t n = 0; n < b.size; n++) {
      Blob p = b.prefix(n);
      ract_error err{};
      ract_status s = open_status(p, &err);
      if (s != RACT_ERR_FILE_TRUNCATED) FAIL_CHECK("length " << n << ": " << err.msg);
      ract_model model;
      if (ract_model_load(&model, p.data(), p.size, nullptr) != RACT_ERR_FILE_TRUNCATED) {
        FAIL_CHECK("ract_model_load at length " << n);
      }
    }
  }
}

TEST_CASE("model_file: every corrupted field is rejected with its own status") {
  Blob base = base_file();
  REQUIRE(open_status(base, nullptr) == RACT_OK);
  const uint64_t tokens = rd64(base.data() + 96), meta = rd64(base.data() + 112);
  const uint64_t data = rd64(base.data() + 144);
  const uint32_t I = 10;
  const uint64_t tok_text = tokens + 8 + 4 * (I + 1) + 4 * I;
  // Tensor "enc.0.w" is first in the data section, "dec.out.b" last.
  std::vector<Case> cases = {
      // Header fields, one by one.
      {"magic", [](Blob* b) { b->data()[3] ^= 1; }, RACT_ERR_FILE_MAGIC, "magic"},
      {"version 2", [](Blob* b) { wr32(b->data() + 8, 2); }, RACT_ERR_FILE_VERSION, "version"},
      {"version 0", [](Blob* b) { wr32(b->data() + 8, 0); }, RACT_ERR_FILE_VERSION, "version"},
      {"header size", [](Blob* b) { wr32(b->data() + 12, 320); }, RACT_ERR_FILE_HEADER, "header"},
      {"file size + 1", [](Blob* b) { wr64(b->data() + 16, b->size + 1); }, RACT_ERR_FILE_TRUNCATED,
       "bytes"},
      {"file size huge", [](Blob* b) { wr64(b->data() + 16, UINT64_MAX); }, RACT_ERR_FILE_TRUNCATED,
       "bytes"},
      {"file size below header", [](Blob* b) { wr64(b->data() + 16, 100); }, RACT_ERR_FILE_HEADER,
       "file size"},
      {"file size - 64", [](Blob* b) { wr64(b->data() + 16, b->size - 64); }, RACT_ERR_FILE_BOUNDS,
       "data"},
      {"kind 0", [](Blob* b) { wr32(b->data() + 24, 0); }, RACT_ERR_FILE_KIND, "kind"},
      {"kind 3", [](Blob* b) { wr32(b->data() + 24, 3); }, RACT_ERR_FILE_KIND, "kind"},
      {"kind checkpoint on an inference file", [](Blob* b) { wr32(b->data() + 24, 2); },
       RACT_ERR_FILE_TENSOR, "enc.head.w"},
      {"dtype 3", [](Blob* b) { wr32(b->data() + 28, 3); }, RACT_ERR_FILE_DTYPE, "dtype"},
      {"dtype fp16 over fp32 tensors", [](Blob* b) { wr32(b->data() + 28, 1); },
       RACT_ERR_FILE_DTYPE, "enc.0.w"},
      {"preset 3", [](Blob* b) { wr32(b->data() + 32, 3); }, RACT_ERR_FILE_HEADER, "preset"},
      {"n_items 0", [](Blob* b) { wr32(b->data() + 36, 0); }, RACT_ERR_FILE_DIMS, "n_items"},
      {"n_items 2^31", [](Blob* b) { wr32(b->data() + 36, 0x80000000u); }, RACT_ERR_FILE_DIMS,
       "n_items"},
      {"n_items 2^32-1", [](Blob* b) { wr32(b->data() + 36, UINT32_MAX); }, RACT_ERR_FILE_DIMS,
       "n_items"},
      {"n_items + 1", [](Blob* b) { wr32(b->data() + 36, 11); }, RACT_ERR_FILE_TOKENS, "count"},
      {"latent 0", [](Blob* b) { wr32(b->data() + 40, 0); }, RACT_ERR_FILE_DIMS, "latent"},
      {"latent huge", [](Blob* b) { wr32(b->data() + 40, 0xC0000000u); }, RACT_ERR_FILE_DIMS,
       "latent"},
      {"latent + 1", [](Blob* b) { wr32(b->data() + 40, 4); }, RACT_ERR_FILE_DIMS, "mu.w"},
      {"n_hidden 0", [](Blob* b) { wr32(b->data() + 44, 0); }, RACT_ERR_FILE_DIMS, "n_hidden"},
      {"n_hidden 9", [](Blob* b) { wr32(b->data() + 44, 9); }, RACT_ERR_FILE_DIMS, "n_hidden"},
      {"n_hidden 2", [](Blob* b) { wr32(b->data() + 44, 2); }, RACT_ERR_FILE_DIMS, "hidden[1]"},
      {"hidden[0] + 1", [](Blob* b) { wr32(b->data() + 48, 7); }, RACT_ERR_FILE_DIMS, "enc.0.w"},
      {"hidden[0] 2^32-1", [](Blob* b) { wr32(b->data() + 48, UINT32_MAX); }, RACT_ERR_FILE_DIMS,
       "hidden[0]"},
      {"hidden[5] set", [](Blob* b) { wr32(b->data() + 48 + 20, 4); }, RACT_ERR_FILE_DIMS,
       "hidden[5]"},
      {"input scale 0", [](Blob* b) { wr32(b->data() + 80, 0); }, RACT_ERR_FILE_HEADER, "scale"},
      {"input scale -1", [](Blob* b) { wr32(b->data() + 80, 0xBF800000u); }, RACT_ERR_FILE_HEADER,
       "scale"},
      {"input scale NaN", [](Blob* b) { wr32(b->data() + 80, 0x7FC00000u); }, RACT_ERR_FILE_HEADER,
       "scale"},
      {"input scale inf", [](Blob* b) { wr32(b->data() + 80, 0x7F800000u); }, RACT_ERR_FILE_HEADER,
       "scale"},
      {"n_tensors 5000", [](Blob* b) { wr32(b->data() + 84, 5000); }, RACT_ERR_FILE_HEADER,
       "n_tensors"},
      {"n_tensors - 1", [](Blob* b) { wr32(b->data() + 84, 7); }, RACT_ERR_FILE_TENSOR,
       "dec.out.b"},
      {"n_tensors + 1 (table overlaps tokens)", [](Blob* b) { wr32(b->data() + 84, 9); },
       RACT_ERR_FILE_BOUNDS, "tokens"},
      {"table offset misaligned", [](Blob* b) { wr64(b->data() + 88, 260); }, RACT_ERR_FILE_ALIGN,
       "tensor table"},
      {"table offset inside header", [](Blob* b) { wr64(b->data() + 88, 192); },
       RACT_ERR_FILE_BOUNDS, "tensor table"},
      {"table offset huge", [](Blob* b) { wr64(b->data() + 88, (uint64_t)1 << 63); },
       RACT_ERR_FILE_BOUNDS, "tensor table"},
      {"tokens offset misaligned", [&](Blob* b) { wr64(b->data() + 96, tokens + 4); },
       RACT_ERR_FILE_ALIGN, "tokens"},
      {"tokens bytes overflow", [](Blob* b) { wr64(b->data() + 104, UINT64_MAX - 10); },
       RACT_ERR_FILE_BOUNDS, "tokens"},
      {"tokens bytes - 1", [&](Blob* b) { wr64(b->data() + 104, rd64(b->data() + 104) - 1); },
       RACT_ERR_FILE_TOKENS, "token table"},
      {"meta offset misaligned", [&](Blob* b) { wr64(b->data() + 112, meta + 8); },
       RACT_ERR_FILE_ALIGN, "metadata"},
      {"meta offset before tokens end", [&](Blob* b) { wr64(b->data() + 112, tokens); },
       RACT_ERR_FILE_BOUNDS, "metadata"},
      {"meta bytes huge", [](Blob* b) { wr64(b->data() + 120, (uint64_t)1 << 40); },
       RACT_ERR_FILE_BOUNDS, "metadata"},
      {"state offset misaligned", [](Blob* b) { wr64(b->data() + 128, rd64(b->data() + 128) + 1); },
       RACT_ERR_FILE_ALIGN, "state"},
      {"state bytes overlap data", [](Blob* b) { wr64(b->data() + 136, 64); }, RACT_ERR_FILE_BOUNDS,
       "data at offset"},
      {"data offset misaligned", [&](Blob* b) { wr64(b->data() + 144, data + 32); },
       RACT_ERR_FILE_ALIGN, "data"},
      {"data bytes past the end",
       [](Blob* b) { wr64(b->data() + 152, rd64(b->data() + 152) + 64); }, RACT_ERR_FILE_BOUNDS,
       "data"},
      {"data bytes overflow", [](Blob* b) { wr64(b->data() + 152, UINT64_MAX); },
       RACT_ERR_FILE_BOUNDS, "data"},
      {"data bytes too short for the tensors",
       [](Blob* b) { wr64(b->data() + 152, rd64(b->data() + 152) - 64); }, RACT_ERR_FILE_BOUNDS,
       "dec.out.b"},
      {"reserved header byte", [](Blob* b) { b->data()[200] = 1; }, RACT_ERR_FILE_HEADER,
       "reserved"},
      // Tensor entries.
      {"unknown tensor dtype", [](Blob* b) { wr32(b->data() + entry(*b, "mu.w") + 64, 7); },
       RACT_ERR_FILE_DTYPE, "mu.w"},
      {"fp16 bias in an fp32 file", [](Blob* b) { wr32(b->data() + entry(*b, "mu.b") + 64, 1); },
       RACT_ERR_FILE_DTYPE, "mu.b"},
      {"n_dims 0", [](Blob* b) { wr32(b->data() + entry(*b, "mu.w") + 68, 0); }, RACT_ERR_FILE_DIMS,
       "n_dims"},
      {"n_dims 5", [](Blob* b) { wr32(b->data() + entry(*b, "mu.w") + 68, 5); }, RACT_ERR_FILE_DIMS,
       "n_dims"},
      {"n_dims 3, dim 2 is 0", [](Blob* b) { wr32(b->data() + entry(*b, "mu.w") + 68, 3); },
       RACT_ERR_FILE_DIMS, "dim 2"},
      {"dim 0 is 0", [](Blob* b) { wr64(b->data() + entry(*b, "mu.w") + 72, 0); },
       RACT_ERR_FILE_DIMS, "dim 0"},
      {"unused dim set", [](Blob* b) { wr64(b->data() + entry(*b, "mu.w") + 72 + 24, 1); },
       RACT_ERR_FILE_DIMS, "unused dim 3"},
      {"dims overflow (2^40 x 2^40)",
       [](Blob* b) {
         size_t e = entry(*b, "mu.w");
         wr64(b->data() + e + 72, (uint64_t)1 << 40);
         wr64(b->data() + e + 80, (uint64_t)1 << 40);
       },
       RACT_ERR_FILE_DIMS, "overflow"},
      {"dims overflow in bytes (2^31 x 2^31 fp32)",
       [](Blob* b) {
         size_t e = entry(*b, "mu.w");
         wr64(b->data() + e + 72, (uint64_t)1 << 31);
         wr64(b->data() + e + 80, (uint64_t)1 << 31);
       },
       RACT_ERR_FILE_DIMS, "overflow"},
      {"dims 4 x 6, consistent bytes, wrong for the model",
       [](Blob* b) {
         size_t e = entry(*b, "mu.w");
         wr64(b->data() + e + 72, 2);
         wr64(b->data() + e + 80, 9);
       },
       RACT_ERR_FILE_DIMS, "mu.w"},
      {"dims inconsistent with bytes", [](Blob* b) { wr64(b->data() + entry(*b, "mu.w") + 72, 4); },
       RACT_ERR_FILE_DIMS, "bytes"},
      {"bytes + 4", [](Blob* b) { wr64(b->data() + entry(*b, "mu.w") + 112, 76); },
       RACT_ERR_FILE_DIMS, "bytes"},
      {"offset misaligned",
       [](Blob* b) {
         size_t e = entry(*b, "mu.w");
         wr64(b->data() + e + 104, rd64(b->data() + e + 104) + 4);
       },
       RACT_ERR_FILE_ALIGN, "mu.w"},
      {"offset past the file",
       [](Blob* b) { wr64(b->data() + entry(*b, "dec.out.b") + 104, 1 << 20); },
       RACT_ERR_FILE_BOUNDS, "dec.out.b"},
      {"offset + bytes overflows",
       [](Blob* b) { wr64(b->data() + entry(*b, "dec.out.b") + 104, UINT64_MAX - 63); },
       RACT_ERR_FILE_BOUNDS, "dec.out.b"},
      {"offset before the data section",
       [](Blob* b) { wr64(b->data() + entry(*b, "enc.0.w") + 104, 0); }, RACT_ERR_FILE_BOUNDS,
       "enc.0.w"},
      {"tensors overlap",
       [](Blob* b) {
         wr64(b->data() + entry(*b, "enc.0.b") + 104, rd64(b->data() + entry(*b, "enc.0.w") + 104));
       },
       RACT_ERR_FILE_BOUNDS, "enc.0.b"},
      {"entry reserved", [](Blob* b) { b->data()[entry(*b, "mu.w") + 125] = 1; },
       RACT_ERR_FILE_TENSOR, "reserved"},
      {"name renamed: required tensor missing",
       [](Blob* b) { b->data()[entry(*b, "mu.w") + 3] = 'x'; }, RACT_ERR_FILE_TENSOR, "mu.w"},
      {"name duplicated", [](Blob* b) { memcpy(b->data() + entry(*b, "mu.b"), "mu.w", 4); },
       RACT_ERR_FILE_TENSOR, "twice"},
      {"name empty", [](Blob* b) { b->data()[entry(*b, "mu.w")] = 0; }, RACT_ERR_FILE_TENSOR,
       "empty"},
      {"name unterminated", [](Blob* b) { memset(b->data() + entry(*b, "mu.w"), 'a', 64); },
       RACT_ERR_FILE_TENSOR, "unterminated"},
      {"name with a space", [](Blob* b) { b->data()[entry(*b, "mu.w") + 2] = ' '; },
       RACT_ERR_FILE_TENSOR, "0x20"},
      {"name padding not zero", [](Blob* b) { b->data()[entry(*b, "mu.w") + 40] = 'z'; },
       RACT_ERR_FILE_TENSOR, "padding"},
      // Token table.
      {"token count", [&](Blob* b) { wr32(b->data() + tokens, 9); }, RACT_ERR_FILE_TOKENS, "count"},
      {"token chars bytes", [&](Blob* b) { wr32(b->data() + tokens + 4, 1000); },
       RACT_ERR_FILE_TOKENS, "chars"},
      {"token offset 0", [&](Blob* b) { wr32(b->data() + tokens + 8, 1); }, RACT_ERR_FILE_TOKENS,
       "start at 0"},
      {"token empty", [&](Blob* b) { wr32(b->data() + tokens + 12, 1); }, RACT_ERR_FILE_TOKENS,
       "token 0"},
      {"token offsets decreasing", [&](Blob* b) { wr32(b->data() + tokens + 16, 1); },
       RACT_ERR_FILE_TOKENS, "token 1"},
      {"token not terminated", [&](Blob* b) { b->data()[tok_text + 1] = '5'; },
       RACT_ERR_FILE_TOKENS, "NUL"},
      {"token with a comma", [&](Blob* b) { b->data()[tok_text] = ','; }, RACT_ERR_FILE_TOKENS,
       "0x2c"},
      {"token with a control byte", [&](Blob* b) { b->data()[tok_text] = '\n'; },
       RACT_ERR_FILE_TOKENS, "0x0a"},
      {"token duplicated", [&](Blob* b) { b->data()[tok_text + 2] = '1'; },  // "4" -> "1"
       RACT_ERR_FILE_TOKENS, "duplicated"},
      {"sorted index out of range", [&](Blob* b) { wr32(b->data() + tokens + 8 + 44, 10); },
       RACT_ERR_FILE_TOKENS, "sorted"},
      {"sorted order broken",
       [&](Blob* b) {
         uint8_t* s = b->data() + tokens + 8 + 44;
         uint32_t a = rd32(s), c = rd32(s + 4);
         wr32(s, c);
         wr32(s + 4, a);
       },
       RACT_ERR_FILE_TOKENS, "sorted order"},
      // Metadata.
      {"meta count + 1", [&](Blob* b) { wr32(b->data() + meta, 5); }, RACT_ERR_FILE_META,
       "past the end"},
      {"meta count - 1", [&](Blob* b) { wr32(b->data() + meta, 3); }, RACT_ERR_FILE_META, "after"},
      {"meta count huge", [&](Blob* b) { wr32(b->data() + meta, 100000); }, RACT_ERR_FILE_META,
       "exceeds"},
      {"meta reserved", [&](Blob* b) { wr32(b->data() + meta + 4, 1); }, RACT_ERR_FILE_META,
       "reserved"},
      {"meta key with '='", [&](Blob* b) { b->data()[meta + 8 + 1] = '='; }, RACT_ERR_FILE_META,
       "key 0"},
      {"meta key empty", [&](Blob* b) { b->data()[meta + 8] = 0; }, RACT_ERR_FILE_META, "key"},
      {"meta value with a control byte", [&](Blob* b) { b->data()[meta + 8 + 8] = 1; },
       RACT_ERR_FILE_META, "value 0"},
      {"meta key duplicated", [&](Blob* b) { memcpy(b->data() + meta + 8 + 18, "dataset", 7); },
       RACT_ERR_FILE_META, "twice"},
      // Checksum.
      {"CRC field", [](Blob* b) { b->data()[161] ^= 0x10; }, RACT_ERR_FILE_CRC, "CRC"},
  };
  std::set<ract_status> seen;
  for (const Case& c : cases) {
    std::string what = c.what;
    CAPTURE(what);
    Blob b = base.copy();
    c.mutate(&b);
    if (std::string(c.what) != "CRC field") fix_crc(&b);
    ract_error err{};
    ract_status s = open_status(b, &err);
    CHECK_MESSAGE(s == c.want, ract_status_name(s) << ": " << err.msg);
    CHECK_MESSAGE(std::string(err.msg).find(c.in_msg) != std::string::npos, err.msg);
    ract_model model;
    CHECK(ract_model_load(&model, b.data(), b.size, nullptr) == c.want);
    seen.insert(s);
    // Without the CRC fixed, a changed byte never passes.
    if (std::string(c.what) != "CRC field") {
      Blob raw = base.copy();
      c.mutate(&raw);
      CHECK(open_status(raw, nullptr) != RACT_OK);
    }
  }
  CHECK(seen.size() == 13);  // every RACT_ERR_FILE_* code
}

TEST_CASE("model_file: training state in an inference file, unaligned buffer, null") {
  Blob ck = base_file(RACT_FILE_CHECKPOINT);
  REQUIRE(open_status(ck, nullptr) == RACT_OK);
  Blob b = ck.copy();
  wr32(b.data() + 24, RACT_FILE_INFERENCE);
  fix_crc(&b);
  ract_error err{};
  CHECK(open_status(b, &err) == RACT_ERR_FILE_KIND);
  CHECK(std::string(err.msg).find("training state") != std::string::npos);
  // A checkpoint's dtype is fp32.
  b = ck.copy();
  wr32(b.data() + 28, RACT_FILE_I8);
  fix_crc(&b);
  CHECK(open_status(b, &err) == RACT_ERR_FILE_DTYPE);

  Blob inf = base_file();
  std::vector<uint8_t> shifted(inf.size + 64);
  uint8_t* p = shifted.data() + (16 - (uintptr_t)shifted.data() % 16) + 4;  // 4 mod 16
  memcpy(p, inf.data(), inf.size);
  ract_file f;
  CHECK(ract_file_open(&f, p, inf.size, &err) == RACT_ERR_FILE_ALIGN);
  CHECK(std::string(err.msg).find("aligned") != std::string::npos);
  CHECK(ract_file_open(&f, nullptr, 10, &err) == RACT_ERR_ARG);
  CHECK(ract_file_open(&f, nullptr, 0, &err) == RACT_ERR_FILE_TRUNCATED);
  // A longer buffer (a flash partition) is fine: the header says where the file ends.
  Blob longer = Blob::make(inf.size + 1000);
  memcpy(longer.data(), inf.data(), inf.size);
  CHECK(ract_file_open(&f, longer.data(), longer.size, &err) == RACT_OK);
  CHECK(f.size == inf.size);
}

TEST_CASE("model_file: random byte flips never crash and never pass") {
  ract_rng r;
  ract_rng_seed(&r, 99, 0);
  for (ract_file_dtype dt : {RACT_FILE_F32, RACT_FILE_F16, RACT_FILE_I8}) {
    Blob base = base_file(RACT_FILE_INFERENCE, dt);
    for (int trial = 0; trial < 600; trial++) {
      Blob b = base.copy();
      int flips = 1 + (int)ract_rng_below(&r, 3);
      bool changed = false;
      for (int k = 0; k < flips; k++) {
        size_t at = ract_rng_below(&r, (uint32_t)b.size);
        uint8_t v = (uint8_t)ract_rng_below(&r, 256);
        changed |= b.data()[at] != v;
        b.data()[at] = v;
      }
      if (changed) CHECK(open_status(b, nullptr) != RACT_OK);
      // With the CRC repaired, structure checks alone: any status, no crash, and a file
      // that passes still scores without touching memory outside the blob (ASan).
      fix_crc(&b);
      ract_model model;
      if (ract_model_load(&model, b.data(), b.size, nullptr) == RACT_OK) {
        std::vector<uint8_t> arena(ract_scorer_arena_bytes(&model));
        ract_scorer s;
        REQUIRE(ract_scorer_init(&s, &model, arena.data(), arena.size(), nullptr) == RACT_OK);
        int32_t h[2] = {1, 2};
        int32_t items[5];
        float scores[5];
        int n;
        REQUIRE(ract_scorer_set_history(&s, h, 2, nullptr, nullptr) == RACT_OK);
        REQUIRE(ract_scorer_topk(&s, 5, 1, items, scores, &n, nullptr) == RACT_OK);
      }
    }
  }
}

TEST_CASE("model_file: CRC-32 is the IEEE/zlib one, in one call or in pieces") {
  CHECK(ract_crc32(0, "123456789", 9) == 0xCBF43926u);  // the standard check value
  CHECK(ract_crc32(0, "", 0) == 0u);
  CHECK(ract_crc32(0, "a", 1) == 0xE8B7BE43u);
  CHECK(ract_crc32(0, "The quick brown fox jumps over the lazy dog", 43) == 0x414FA339u);
  std::vector<uint8_t> buf(1000);
  for (size_t i = 0; i < buf.size(); i++) buf[i] = (uint8_t)(i * 131 + 7);
  uint32_t whole = ract_crc32(0, buf.data(), buf.size());
  for (size_t cut : {0, 1, 2, 3, 5, 499, 997, 1000}) {
    uint32_t c = ract_crc32(0, buf.data(), cut);
    CHECK(ract_crc32(c, buf.data() + cut, buf.size() - cut) == whole);
  }
  // Unaligned starts give the same value.
  CHECK(ract_crc32(0, buf.data() + 1, 998) ==
        ract_crc32(ract_crc32(0, buf.data() + 1, 3), buf.data() + 4, 995));
}
