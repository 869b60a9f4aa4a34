// Weight-file reader and validator (the device side of model_file.h): checks every field
// before any tensor is read, then serves views into the caller's buffer. No allocation,
// no stdio beyond the error message; the writer lives in model_file_write.cc.
#include "ract/deploy/model_file.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ract/deploy/kernels.h"

namespace {

// Header field offsets (see model_file.h).
enum {
  kOffMagic = 0,
  kOffVersion = 8,
  kOffHeaderSize = 12,
  kOffFileSize = 16,
  kOffKind = 24,
  kOffDtype = 28,
  kOffPreset = 32,
  kOffItems = 36,
  kOffLatent = 40,
  kOffNHidden = 44,
  kOffHidden = 48,
  kOffScale = 80,
  kOffNTensors = 84,
  kOffTable = 88,
  kOffTokens = 96,
  kOffMeta = 112,
  kOffState = 128,
  kOffData = 144,
  kOffCrc = 160,
  kOffReserved = 164,
};

// Entry field offsets.
enum {
  kEntName = 0,
  kEntDtype = 64,
  kEntNDims = 68,
  kEntDims = 72,
  kEntOffset = 104,
  kEntBytes = 112,
  kEntReserved = 120,
};

inline uint32_t rd32(const uint8_t* p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

inline uint64_t rd64(const uint8_t* p) { return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32; }

inline float rdf32(const uint8_t* p) {
  uint32_t u = rd32(p);
  float f;
  memcpy(&f, &u, sizeof(f));
  return f;
}

// Checked arithmetic: false on overflow.
inline bool mul_ok(uint64_t a, uint64_t b, uint64_t* r) {
  if (a != 0 && b > UINT64_MAX / a) return false;
  *r = a * b;
  return true;
}

inline bool add_ok(uint64_t a, uint64_t b, uint64_t* r) {
  if (b > UINT64_MAX - a) return false;
  *r = a + b;
  return true;
}

inline uint64_t round64(uint64_t n) { return (n + 63u) & ~(uint64_t)63u; }

// CRC-32 tables for slicing by 4 (4 KiB, built at compile time): t[0] is the classic
// byte table; t[k][b] is the CRC of byte b followed by k zero bytes, so four bytes are
// folded per step.
struct CrcTable {
  uint32_t t[4][256];
  constexpr CrcTable() : t() {
    for (uint32_t i = 0; i < 256; i++) {
      uint32_t c = i;
      for (int k = 0; k < 8; k++) c = (c & 1u) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++) {
      for (int k = 1; k < 4; k++) t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xffu];
    }
  }
};
constexpr CrcTable kCrc;

bool host_little_endian() {
  const uint32_t one = 1;
  uint8_t b;
  memcpy(&b, &one, 1);
  return b == 1;
}

const char* kFile = "weight file";

typedef ract_file_required Required;

void req_set(Required* r, const char* name, int64_t rows, int64_t cols) {
  strncpy(r->name, name, sizeof(r->name) - 1);
  r->name[sizeof(r->name) - 1] = '\0';
  r->n_dims = cols > 0 ? 2 : 1;
  r->dims[0] = rows;
  r->dims[1] = cols > 0 ? cols : 0;
}

// A weight rows x cols and its bias of b values.
void req_layer(Required* out, int* n, const char* prefix, int64_t rows, int64_t cols, int64_t b) {
  char name[24];
  // prefix is short ("enc.12", "dec.out"): the names fit.
  size_t p = strlen(prefix);
  memcpy(name, prefix, p);
  memcpy(name + p, ".w", 3);
  req_set(&out[(*n)++], name, rows, cols);
  memcpy(name + p, ".b", 3);
  req_set(&out[(*n)++], name, b, 0);
}

void layer_prefix(char* buf, const char* part, int j) {
  // "enc." / "dec." + a one-digit index (j < 8).
  memcpy(buf, part, 4);
  buf[4] = (char)('0' + j);
  buf[5] = '\0';
}

}  // namespace

// The actor tensors an inference file (mu.*) or checkpoint (enc.head.*) must hold.
extern "C" int32_t ract_file_required_of(const ract_file_dims* d, int32_t kind, Required* out) {
  int n = 0, k = d->n_hidden;
  const int32_t* h = d->hidden;
  char prefix[8];
  layer_prefix(prefix, "enc.", 0);
  req_layer(out, &n, prefix, d->n_items, h[0], h[0]);  // item-major
  for (int j = 1; j < k; j++) {
    layer_prefix(prefix, "enc.", j);
    req_layer(out, &n, prefix, h[j], h[j - 1], h[j]);
  }
  if (kind == RACT_FILE_INFERENCE) {
    req_layer(out, &n, "mu", d->latent, h[k - 1], d->latent);
  } else {
    req_layer(out, &n, "enc.head", 2 * (int64_t)d->latent, h[k - 1], 2 * (int64_t)d->latent);
  }
  layer_prefix(prefix, "dec.", 0);
  req_layer(out, &n, prefix, h[k - 1], d->latent, h[k - 1]);
  for (int j = 1; j < k; j++) {
    layer_prefix(prefix, "dec.", j);
    req_layer(out, &n, prefix, h[k - 1 - j], h[k - j], h[k - 1 - j]);
  }
  req_layer(out, &n, "dec.out", d->n_items, h[0], d->n_items);
  return n;
}

namespace {

const char* kSectionName[] = {"tensor table", "tokens", "metadata", "state", "data"};

bool token_byte_ok(uint8_t c) { return c > 0x20 && c != ',' && c != 0x7f; }

// strcmp on NUL-terminated tokens vs (s, len).
int token_cmp(const char* tok, const char* s, size_t len) {
  for (size_t i = 0; i < len; i++) {
    uint8_t a = (uint8_t)tok[i], b = (uint8_t)s[i];
    if (a == 0) return -1;  // tok is a prefix of s
    if (a != b) return a < b ? -1 : 1;
  }
  return tok[len] == 0 ? 0 : 1;
}

ract_status check_tokens(ract_file* f, const uint8_t* p, uint64_t bytes, ract_error* err) {
  const uint64_t I = (uint64_t)f->dims.n_items;
  if (bytes < 8) {
    return ract_fail(err, RACT_ERR_FILE_TOKENS, "%s: token table is %llu bytes, less than 8", kFile,
                     (unsigned long long)bytes);
  }
  uint32_t count = rd32(p), chars = rd32(p + 4);
  if (count != I) {
    return ract_fail(err, RACT_ERR_FILE_TOKENS,
                     "%s: token table count %u differs from n_items %llu", kFile, count,
                     (unsigned long long)I);
  }
  uint64_t want = 8 + 4 * (I + 1) + 4 * I + chars;  // I < 2^31: no overflow
  if (want != bytes) {
    return ract_fail(err, RACT_ERR_FILE_TOKENS,
                     "%s: token table of %llu tokens and %u chars needs %llu bytes, the header "
                     "says %llu",
                     kFile, (unsigned long long)I, chars, (unsigned long long)want,
                     (unsigned long long)bytes);
  }
  const uint32_t* off = (const uint32_t*)(p + 8);
  const uint32_t* sorted = off + I + 1;
  const char* text = (const char*)(sorted + I);
  if (off[0] != 0 || off[I] != chars) {
    return ract_fail(err, RACT_ERR_FILE_TOKENS,
                     "%s: token offsets must start at 0 and end at %u (they run %u..%u)", kFile,
                     chars, off[0], off[I]);
  }
  for (uint64_t i = 0; i < I; i++) {
    uint32_t a = off[i], b = off[i + 1];
    if (b <= a + 1 || b > chars) {
      return ract_fail(err, RACT_ERR_FILE_TOKENS,
                       "%s: token %llu has offsets %u..%u (empty, decreasing or past %u chars)",
                       kFile, (unsigned long long)i, a, b, chars);
    }
    if (text[b - 1] != '\0') {
      return ract_fail(err, RACT_ERR_FILE_TOKENS, "%s: token %llu is not NUL-terminated", kFile,
                       (unsigned long long)i);
    }
    for (uint32_t c = a; c + 1 < b; c++) {
      if (!token_byte_ok((uint8_t)text[c])) {
        return ract_fail(err, RACT_ERR_FILE_TOKENS,
                         "%s: token %llu has byte 0x%02x at %u (space, control, ',' or NUL)", kFile,
                         (unsigned long long)i, (unsigned)(uint8_t)text[c], c - a);
      }
    }
  }
  // Strictly increasing tokens along a sequence of in-range indices: the indices are then
  // distinct (equal indices would give equal tokens), so it is a permutation and the tokens
  // are unique.
  for (uint64_t j = 0; j < I; j++) {
    if (sorted[j] >= I) {
      return ract_fail(err, RACT_ERR_FILE_TOKENS, "%s: sorted token index %llu is %u, >= %llu",
                       kFile, (unsigned long long)j, sorted[j], (unsigned long long)I);
    }
    if (j > 0 && strcmp(text + off[sorted[j - 1]], text + off[sorted[j]]) >= 0) {
      return ract_fail(err, RACT_ERR_FILE_TOKENS,
                       "%s: tokens '%s' (item %u) and '%s' (item %u) are duplicated or out of "
                       "sorted order",
                       kFile, text + off[sorted[j - 1]], sorted[j - 1], text + off[sorted[j]],
                       sorted[j]);
    }
  }
  f->tok_off = off;
  f->tok_sorted = sorted;
  f->tok_chars = text;
  return RACT_OK;
}

bool key_byte_ok(uint8_t c) { return c > 0x20 && c < 0x7f && c != '='; }
bool value_byte_ok(uint8_t c) { return c >= 0x20 && c != 0x7f; }

ract_status check_meta(ract_file* f, const uint8_t* p, uint64_t bytes, ract_error* err) {
  if (bytes < 8) {
    return ract_fail(err, RACT_ERR_FILE_META, "%s: metadata section is %llu bytes, less than 8",
                     kFile, (unsigned long long)bytes);
  }
  uint32_t count = rd32(p);
  if (count > RACT_FILE_MAX_META) {
    return ract_fail(err, RACT_ERR_FILE_META, "%s: metadata count %u exceeds %d", kFile, count,
                     RACT_FILE_MAX_META);
  }
  if (rd32(p + 4) != 0) {
    return ract_fail(err, RACT_ERR_FILE_META, "%s: metadata reserved field is not zero", kFile);
  }
  const char* s = (const char*)p + 8;
  const char* end = (const char*)p + bytes;
  const char* first = s;
  for (uint32_t i = 0; i < count; i++) {
    for (int part = 0; part < 2; part++) {
      const char* start = s;
      while (s < end && *s != '\0') {
        uint8_t c = (uint8_t)*s;
        if (part == 0 ? !key_byte_ok(c) : !value_byte_ok(c)) {
          return ract_fail(err, RACT_ERR_FILE_META, "%s: metadata %s %u has byte 0x%02x", kFile,
                           part == 0 ? "key" : "value", i, (unsigned)c);
        }
        s++;
      }
      if (s == end) {
        return ract_fail(err, RACT_ERR_FILE_META,
                         "%s: metadata %s %u runs past the end of its section", kFile,
                         part == 0 ? "key" : "value", i);
      }
      if (part == 0 && s == start) {
        return ract_fail(err, RACT_ERR_FILE_META, "%s: metadata key %u is empty", kFile, i);
      }
      s++;  // the NUL
    }
  }
  if (s != end) {
    return ract_fail(err, RACT_ERR_FILE_META,
                     "%s: metadata section has %llu bytes after its %u pairs", kFile,
                     (unsigned long long)(end - s), count);
  }
  // Unique keys.
  const char* a = first;
  for (uint32_t i = 0; i < count; i++) {
    const char* b = a + strlen(a) + 1;
    b += strlen(b) + 1;
    for (uint32_t j = i + 1; j < count; j++) {
      if (strcmp(a, b) == 0) {
        return ract_fail(err, RACT_ERR_FILE_META, "%s: metadata key '%s' appears twice", kFile, a);
      }
      b += strlen(b) + 1;
      b += strlen(b) + 1;
    }
    a += strlen(a) + 1;
    a += strlen(a) + 1;
  }
  f->n_meta = (int32_t)count;
  f->meta = first;
  f->meta_end = end;
  return RACT_OK;
}

// Name field of entry e: NUL-terminated within 64 bytes, printable, zero-padded.
ract_status check_name(const uint8_t* e, int32_t i, ract_error* err) {
  const uint8_t* name = e + kEntName;
  int len = 0;
  while (len < RACT_FILE_NAME_BYTES && name[len] != 0) len++;
  if (len == 0 || len == RACT_FILE_NAME_BYTES) {
    return ract_fail(err, RACT_ERR_FILE_TENSOR, "%s: tensor %d has an empty or unterminated name",
                     kFile, i);
  }
  for (int c = 0; c < len; c++) {
    if (name[c] <= 0x20 || name[c] >= 0x7f) {
      return ract_fail(err, RACT_ERR_FILE_TENSOR, "%s: tensor %d name has byte 0x%02x", kFile, i,
                       (unsigned)name[c]);
    }
  }
  for (int c = len; c < RACT_FILE_NAME_BYTES; c++) {
    if (name[c] != 0) {
      return ract_fail(err, RACT_ERR_FILE_TENSOR, "%s: tensor %d ('%s') name padding is not zero",
                       kFile, i, (const char*)name);
    }
  }
  return RACT_OK;
}

// Bytes a tensor of rows x cols takes in dtype; false on overflow.
bool tensor_bytes(int32_t dtype, uint64_t rows, uint64_t cols, uint64_t* bytes) {
  uint64_t n;
  if (!mul_ok(rows, cols, &n)) return false;
  switch (dtype) {
    case RACT_FILE_F32:
      return mul_ok(n, 4, bytes);
    case RACT_FILE_F16:
      return mul_ok(n, 2, bytes);
    case RACT_FILE_I8: {
      if (n > UINT64_MAX - 63) return false;
      uint64_t s;
      if (!mul_ok(rows, 4, &s)) return false;
      return add_ok(round64(n), s, bytes);
    }
  }
  return false;
}

// Fills a view of entry i (already validated).
void entry_view(const ract_file* f, int32_t i, ract_file_tensor_view* t) {
  const uint8_t* e = f->table + (size_t)i * RACT_FILE_ENTRY_BYTES;
  t->name = (const char*)e + kEntName;
  t->dtype = (int32_t)rd32(e + kEntDtype);
  t->n_dims = (int32_t)rd32(e + kEntNDims);
  t->cols = 1;
  for (int d = 0; d < RACT_FILE_MAX_DIMS; d++) {
    t->dims[d] = (int64_t)rd64(e + kEntDims + 8 * d);
    if (d >= 1 && d < t->n_dims) t->cols *= t->dims[d];
  }
  t->rows = t->dims[0];
  t->offset = rd64(e + kEntOffset);
  t->bytes = rd64(e + kEntBytes);
  t->data = f->blob + t->offset;
  t->scale = nullptr;
  if (t->dtype == RACT_FILE_I8) {
    t->scale = (const float*)(f->blob + t->offset + round64((uint64_t)(t->rows * t->cols)));
  }
}

ract_status check_entries(ract_file* f, uint64_t data_off, uint64_t data_bytes, ract_error* err) {
  uint64_t prev_end = data_off, data_end = data_off + data_bytes;
  for (int32_t i = 0; i < f->n_tensors; i++) {
    const uint8_t* e = f->table + (size_t)i * RACT_FILE_ENTRY_BYTES;
    RACT_CHECK(check_name(e, i, err));
    const char* name = (const char*)e;
    uint32_t dtype = rd32(e + kEntDtype);
    if (dtype > RACT_FILE_I8) {
      return ract_fail(err, RACT_ERR_FILE_DTYPE, "%s: tensor '%s' has unknown dtype %u", kFile,
                       name, dtype);
    }
    uint32_t n_dims = rd32(e + kEntNDims);
    if (n_dims < 1 || n_dims > RACT_FILE_MAX_DIMS) {
      return ract_fail(err, RACT_ERR_FILE_DIMS, "%s: tensor '%s' has n_dims %u, must be 1..%d",
                       kFile, name, n_dims, RACT_FILE_MAX_DIMS);
    }
    uint32_t want_dtype = n_dims == 1 ? (uint32_t)RACT_FILE_F32 : (uint32_t)f->dtype;
    if (dtype != want_dtype) {
      return ract_fail(err, RACT_ERR_FILE_DTYPE,
                       "%s: tensor '%s' (%u dims) is %s, this file's %s must be %s", kFile, name,
                       n_dims, ract_file_dtype_name((int)dtype),
                       n_dims == 1 ? "vectors" : "matrices", ract_file_dtype_name((int)want_dtype));
    }
    uint64_t rows = 0, cols = 1;
    for (uint32_t d = 0; d < RACT_FILE_MAX_DIMS; d++) {
      uint64_t v = rd64(e + kEntDims + 8 * d);
      if (d < n_dims && (v < 1 || v > (uint64_t)INT64_MAX)) {
        return ract_fail(err, RACT_ERR_FILE_DIMS, "%s: tensor '%s' dim %u is %llu", kFile, name, d,
                         (unsigned long long)v);
      }
      if (d >= n_dims && v != 0) {
        return ract_fail(err, RACT_ERR_FILE_DIMS,
                         "%s: tensor '%s' unused dim %u is %llu, must be 0", kFile, name, d,
                         (unsigned long long)v);
      }
      if (d == 0) {
        rows = v;
      } else if (d < n_dims && !mul_ok(cols, v, &cols)) {
        return ract_fail(err, RACT_ERR_FILE_DIMS, "%s: tensor '%s' dims overflow", kFile, name);
      }
    }
    uint64_t want_bytes;
    if (!tensor_bytes((int32_t)dtype, rows, cols, &want_bytes) ||
        rows * cols > (uint64_t)INT64_MAX) {
      return ract_fail(err, RACT_ERR_FILE_DIMS, "%s: tensor '%s' size overflows (%llu x %llu)",
                       kFile, name, (unsigned long long)rows, (unsigned long long)cols);
    }
    uint64_t bytes = rd64(e + kEntBytes);
    if (bytes != want_bytes) {
      return ract_fail(err, RACT_ERR_FILE_DIMS,
                       "%s: tensor '%s' has %llu bytes, its dims and dtype need %llu", kFile, name,
                       (unsigned long long)bytes, (unsigned long long)want_bytes);
    }
    uint64_t off = rd64(e + kEntOffset);
    if (off % RACT_FILE_ALIGN != 0) {
      return ract_fail(err, RACT_ERR_FILE_ALIGN,
                       "%s: tensor '%s' offset %llu is not a multiple of %d", kFile, name,
                       (unsigned long long)off, RACT_FILE_ALIGN);
    }
    uint64_t end;
    if (off < prev_end || !add_ok(off, bytes, &end) || end > data_end) {
      return ract_fail(err, RACT_ERR_FILE_BOUNDS,
                       "%s: tensor '%s' at offset %llu, %llu bytes, is outside [%llu, %llu) "
                       "(the data section after the previous tensor)",
                       kFile, name, (unsigned long long)off, (unsigned long long)bytes,
                       (unsigned long long)prev_end, (unsigned long long)data_end);
    }
    for (int r = 0; r < 8; r++) {
      if (e[kEntReserved + r] != 0) {
        return ract_fail(err, RACT_ERR_FILE_TENSOR, "%s: tensor '%s' reserved bytes are not zero",
                         kFile, name);
      }
    }
    prev_end = end;
  }
  // Unique names.
  for (int32_t i = 0; i < f->n_tensors; i++) {
    const char* a = (const char*)f->table + (size_t)i * RACT_FILE_ENTRY_BYTES;
    for (int32_t j = i + 1; j < f->n_tensors; j++) {
      const char* b = (const char*)f->table + (size_t)j * RACT_FILE_ENTRY_BYTES;
      if (memcmp(a, b, RACT_FILE_NAME_BYTES) == 0) {
        return ract_fail(err, RACT_ERR_FILE_TENSOR, "%s: tensor '%s' appears twice (%d and %d)",
                         kFile, a, i, j);
      }
    }
  }
  return RACT_OK;
}

}  // namespace

extern "C" {

const char* ract_file_dtype_name(int dtype) {
  switch (dtype) {
    case RACT_FILE_F32:
      return "fp32";
    case RACT_FILE_F16:
      return "fp16";
    case RACT_FILE_I8:
      return "int8";
  }
  return "unknown";
}

const char* ract_file_kind_name(int kind) {
  switch (kind) {
    case RACT_FILE_INFERENCE:
      return "inference";
    case RACT_FILE_CHECKPOINT:
      return "checkpoint";
  }
  return "unknown";
}

const char* ract_file_preset_name(int preset) {
  switch (preset) {
    case RACT_PRESET_CUSTOM:
      return "custom";
    case RACT_PRESET_RECBOLE:
      return "recbole";
    case RACT_PRESET_PAPER:
      return "paper";
  }
  return "unknown";
}

ract_status ract_file_parse_dtype(const char* s, ract_file_dtype* out, ract_error* err) {
  static const ract_file_dtype all[] = {RACT_FILE_F32, RACT_FILE_F16, RACT_FILE_I8};
  for (ract_file_dtype d : all) {
    if (s != nullptr && strcmp(s, ract_file_dtype_name(d)) == 0) {
      *out = d;
      return RACT_OK;
    }
  }
  return ract_fail(err, RACT_ERR_ARG, "dtype '%s': expected fp32, fp16 or int8",
                   s != nullptr ? s : "(null)");
}

uint32_t ract_crc32(uint32_t crc, const void* data, size_t n) {
  const uint8_t* p = (const uint8_t*)data;
  const uint32_t(*t)[256] = kCrc.t;
  crc = ~crc;
  for (; n >= 4; n -= 4, p += 4) {
    crc ^= (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    crc =
        t[3][crc & 0xffu] ^ t[2][(crc >> 8) & 0xffu] ^ t[1][(crc >> 16) & 0xffu] ^ t[0][crc >> 24];
  }
  for (; n > 0; n--, p++) crc = t[0][(crc ^ *p) & 0xffu] ^ (crc >> 8);
  return ~crc;
}

ract_status ract_file_open(ract_file* f, const void* blob, size_t len, ract_error* err) {
  if (f == nullptr || (blob == nullptr && len != 0)) {
    return ract_fail(err, RACT_ERR_ARG, "%s: null view or buffer", kFile);
  }
  memset(f, 0, sizeof(*f));
  if (!host_little_endian()) {
    return ract_fail(err, RACT_ERR_UNSUPPORTED,
                     "%s: this build reads weight files in place on little-endian CPUs only",
                     kFile);
  }
  const uint8_t* p = (const uint8_t*)blob;
  if ((uintptr_t)p % RACT_FILE_BLOB_ALIGN != 0) {
    return ract_fail(err, RACT_ERR_FILE_ALIGN,
                     "%s: buffer at %p is not %d-byte aligned (use alignas(64), mmap or malloc)",
                     kFile, blob, RACT_FILE_BLOB_ALIGN);
  }
  if (len < 8) {
    return ract_fail(err, RACT_ERR_FILE_TRUNCATED, "%s: %zu bytes, shorter than the magic", kFile,
                     len);
  }
  if (memcmp(p + kOffMagic, RACT_FILE_MAGIC, 8) != 0) {
    return ract_fail(err, RACT_ERR_FILE_MAGIC, "%s: magic is not \"%s\": not a ract weight file",
                     kFile, RACT_FILE_MAGIC);
  }
  if (len < 16) {
    return ract_fail(err, RACT_ERR_FILE_TRUNCATED, "%s: %zu bytes, shorter than the header", kFile,
                     len);
  }
  uint32_t version = rd32(p + kOffVersion);
  if (version != RACT_FILE_VERSION) {
    return ract_fail(err, RACT_ERR_FILE_VERSION,
                     "%s: format version %u, this build reads version %d", kFile, version,
                     RACT_FILE_VERSION);
  }
  uint32_t header_size = rd32(p + kOffHeaderSize);
  if (header_size != RACT_FILE_HEADER_BYTES) {
    return ract_fail(err, RACT_ERR_FILE_HEADER, "%s: header size %u, version 1 has %d", kFile,
                     header_size, RACT_FILE_HEADER_BYTES);
  }
  if (len < header_size) {
    return ract_fail(err, RACT_ERR_FILE_TRUNCATED, "%s: %zu bytes, shorter than the %u-byte header",
                     kFile, len, header_size);
  }
  uint64_t size = rd64(p + kOffFileSize);
  if (size > len) {
    return ract_fail(err, RACT_ERR_FILE_TRUNCATED,
                     "%s: the header says %llu bytes, the buffer has %zu", kFile,
                     (unsigned long long)size, len);
  }
  if (size < header_size) {
    return ract_fail(err, RACT_ERR_FILE_HEADER, "%s: file size field %llu is below the header",
                     kFile, (unsigned long long)size);
  }
  f->blob = p;
  f->size = (size_t)size;
  f->version = (int32_t)version;

  uint32_t kind = rd32(p + kOffKind);
  if (kind != RACT_FILE_INFERENCE && kind != RACT_FILE_CHECKPOINT) {
    return ract_fail(err, RACT_ERR_FILE_KIND,
                     "%s: kind %u, expected 1 (inference) or 2 (checkpoint)", kFile, kind);
  }
  f->kind = (int32_t)kind;
  uint32_t dtype = rd32(p + kOffDtype);
  if (dtype > RACT_FILE_I8) {
    return ract_fail(err, RACT_ERR_FILE_DTYPE, "%s: header weight dtype %u is unknown", kFile,
                     dtype);
  }
  if (kind == RACT_FILE_CHECKPOINT && dtype != RACT_FILE_F32) {
    return ract_fail(err, RACT_ERR_FILE_DTYPE, "%s: a checkpoint must be fp32, header says %s",
                     kFile, ract_file_dtype_name((int)dtype));
  }
  f->dtype = (int32_t)dtype;
  uint32_t preset = rd32(p + kOffPreset);
  if (preset > RACT_PRESET_PAPER) {
    return ract_fail(err, RACT_ERR_FILE_HEADER, "%s: preset %u is unknown (0, 1 or 2)", kFile,
                     preset);
  }
  float scale = rdf32(p + kOffScale);
  if (!(scale > 0.0f) || !isfinite(scale)) {
    return ract_fail(err, RACT_ERR_FILE_HEADER, "%s: input scale %g must be finite and > 0", kFile,
                     (double)scale);
  }
  for (int b = kOffReserved; b < RACT_FILE_HEADER_BYTES; b++) {
    if (p[b] != 0) {
      return ract_fail(err, RACT_ERR_FILE_HEADER, "%s: reserved header byte %d is not zero", kFile,
                       b);
    }
  }

  // Dims.
  ract_file_dims* d = &f->dims;
  d->preset = (int32_t)preset;
  d->input_scale = scale;
  uint32_t n_items = rd32(p + kOffItems), latent = rd32(p + kOffLatent);
  uint32_t n_hidden = rd32(p + kOffNHidden);
  if (n_items < 1 || n_items > INT32_MAX) {
    return ract_fail(err, RACT_ERR_FILE_DIMS, "%s: n_items %u out of range", kFile, n_items);
  }
  if (latent < 1 || latent > INT32_MAX / 2) {
    return ract_fail(err, RACT_ERR_FILE_DIMS, "%s: latent %u out of range", kFile, latent);
  }
  if (n_hidden < 1 || n_hidden > RACT_FILE_MAX_HIDDEN) {
    return ract_fail(err, RACT_ERR_FILE_DIMS, "%s: n_hidden %u, must be 1..%d", kFile, n_hidden,
                     RACT_FILE_MAX_HIDDEN);
  }
  d->n_items = (int32_t)n_items;
  d->latent = (int32_t)latent;
  d->n_hidden = (int32_t)n_hidden;
  for (uint32_t j = 0; j < RACT_FILE_MAX_HIDDEN; j++) {
    uint32_t h = rd32(p + kOffHidden + 4 * j);
    if (j < n_hidden && (h < 1 || h > INT32_MAX)) {
      return ract_fail(err, RACT_ERR_FILE_DIMS, "%s: hidden[%u] = %u out of range", kFile, j, h);
    }
    if (j >= n_hidden && h != 0) {
      return ract_fail(err, RACT_ERR_FILE_DIMS, "%s: hidden[%u] = %u past n_hidden %u, must be 0",
                       kFile, j, h, n_hidden);
    }
    d->hidden[j] = (int32_t)h;
  }

  // Sections: aligned, inside the file, in order, not overlapping.
  uint32_t n_tensors = rd32(p + kOffNTensors);
  if (n_tensors > RACT_FILE_MAX_TENSORS) {
    return ract_fail(err, RACT_ERR_FILE_HEADER, "%s: n_tensors %u exceeds %d", kFile, n_tensors,
                     RACT_FILE_MAX_TENSORS);
  }
  uint64_t sec_off[5], sec_bytes[5];
  sec_off[0] = rd64(p + kOffTable);
  sec_bytes[0] = (uint64_t)n_tensors * RACT_FILE_ENTRY_BYTES;
  const int field[4] = {kOffTokens, kOffMeta, kOffState, kOffData};
  for (int s = 1; s < 5; s++) {
    sec_off[s] = rd64(p + field[s - 1]);
    sec_bytes[s] = rd64(p + field[s - 1] + 8);
  }
  uint64_t prev_end = header_size;
  for (int s = 0; s < 5; s++) {
    if (sec_off[s] % RACT_FILE_ALIGN != 0) {
      return ract_fail(err, RACT_ERR_FILE_ALIGN, "%s: %s offset %llu is not a multiple of %d",
                       kFile, kSectionName[s], (unsigned long long)sec_off[s], RACT_FILE_ALIGN);
    }
    uint64_t end;
    if (sec_off[s] < prev_end || !add_ok(sec_off[s], sec_bytes[s], &end) || end > size) {
      return ract_fail(
          err, RACT_ERR_FILE_BOUNDS, "%s: %s at offset %llu, %llu bytes, is outside [%llu, %llu)",
          kFile, kSectionName[s], (unsigned long long)sec_off[s], (unsigned long long)sec_bytes[s],
          (unsigned long long)prev_end, (unsigned long long)size);
    }
    prev_end = end;
  }
  if (kind == RACT_FILE_INFERENCE && sec_bytes[3] != 0) {
    return ract_fail(err, RACT_ERR_FILE_KIND,
                     "%s: an inference file carries %llu bytes of training state", kFile,
                     (unsigned long long)sec_bytes[3]);
  }
  f->n_tensors = (int32_t)n_tensors;
  f->table = p + sec_off[0];
  f->state = p + sec_off[3];
  f->state_bytes = (size_t)sec_bytes[3];

  RACT_CHECK(check_tokens(f, p + sec_off[1], sec_bytes[1], err));
  RACT_CHECK(check_meta(f, p + sec_off[2], sec_bytes[2], err));
  RACT_CHECK(check_entries(f, sec_off[4], sec_bytes[4], err));

  // The actor tensors, with their dims.
  Required req[RACT_FILE_MAX_REQUIRED];
  int n_req = ract_file_required_of(d, f->kind, req);
  for (int r = 0; r < n_req; r++) {
    ract_file_tensor_view t;
    RACT_CHECK(ract_file_find(f, req[r].name, req[r].n_dims, req[r].dims, &t, err));
  }

  uint32_t stored = rd32(p + kOffCrc);
  uint32_t crc = ract_crc32(0, p, kOffCrc);
  crc = ract_crc32(crc, p + kOffCrc + 4, (size_t)size - (kOffCrc + 4));
  if (crc != stored) {
    return ract_fail(err, RACT_ERR_FILE_CRC, "%s: CRC-32 is %08x, the header says %08x", kFile, crc,
                     stored);
  }
  f->crc = crc;
  return RACT_OK;
}

ract_status ract_file_tensor_at(const ract_file* f, int32_t i, ract_file_tensor_view* t,
                                ract_error* err) {
  if (f == nullptr || t == nullptr || i < 0 || i >= f->n_tensors) {
    return ract_fail(err, RACT_ERR_ARG, "%s: tensor index %d out of range", kFile, i);
  }
  entry_view(f, i, t);
  return RACT_OK;
}

ract_status ract_file_find(const ract_file* f, const char* name, int32_t n_dims,
                           const int64_t* dims, ract_file_tensor_view* t, ract_error* err) {
  if (f == nullptr || name == nullptr || t == nullptr) {
    return ract_fail(err, RACT_ERR_ARG, "%s: null argument", kFile);
  }
  for (int32_t i = 0; i < f->n_tensors; i++) {
    const char* n = (const char*)f->table + (size_t)i * RACT_FILE_ENTRY_BYTES;
    if (strncmp(n, name, RACT_FILE_NAME_BYTES) != 0) continue;
    entry_view(f, i, t);
    bool same = n_dims <= 0 || t->n_dims == n_dims;
    for (int32_t k = 0; same && k < n_dims; k++) same = t->dims[k] == dims[k];
    if (!same) {
      char want[96] = "", have[96] = "";
      int w = 0, h = 0;
      // At most 4 dims of 20 digits and " x ": 92 characters, but stay clamped anyway.
      for (int32_t k = 0; k < n_dims && k < 4 && w < (int)sizeof(want); k++) {
        w += snprintf(want + w, sizeof(want) - (size_t)w, "%s%lld", k ? " x " : "",
                      (long long)dims[k]);
      }
      for (int32_t k = 0; k < t->n_dims && k < 4 && h < (int)sizeof(have); k++) {
        h += snprintf(have + h, sizeof(have) - (size_t)h, "%s%lld", k ? " x " : "",
                      (long long)t->dims[k]);
      }
      return ract_fail(err, RACT_ERR_FILE_DIMS, "%s: tensor '%s' is %s, the model dims need %s",
                       kFile, name, have, want);
    }
    return RACT_OK;
  }
  return ract_fail(err, RACT_ERR_FILE_TENSOR, "%s: tensor '%s' is missing", kFile, name);
}

int64_t ract_file_tensor_size(const ract_file_tensor_view* t) { return t->rows * t->cols; }

void ract_file_tensor_f32(const ract_file_tensor_view* t, float* out) {
  int64_t n = t->rows * t->cols;
  if (t->dtype == RACT_FILE_F32) {
    memcpy(out, t->data, (size_t)n * sizeof(float));
  } else if (t->dtype == RACT_FILE_F16) {
    const uint16_t* h = (const uint16_t*)t->data;
    for (int64_t i = 0; i < n; i++) out[i] = ract_kernel_half_to_float(h[i]);
  } else {
    const int8_t* q = (const int8_t*)t->data;
    for (int64_t r = 0; r < t->rows; r++) {
      for (int64_t c = 0; c < t->cols; c++) {
        out[r * t->cols + c] = t->scale[r] * (float)q[r * t->cols + c];
      }
    }
  }
}

const char* ract_file_token(const ract_file* f, int32_t i) {
  if (f == nullptr || f->tok_off == nullptr || i < 0 || i >= f->dims.n_items) return nullptr;
  return f->tok_chars + f->tok_off[i];
}

int32_t ract_file_token_index(const ract_file* f, const char* token, size_t len) {
  if (f == nullptr || f->tok_off == nullptr || token == nullptr) return -1;
  int32_t lo = 0, hi = f->dims.n_items;  // search [lo, hi)
  while (lo < hi) {
    int32_t mid = lo + (hi - lo) / 2;
    uint32_t item = f->tok_sorted[mid];
    int c = token_cmp(f->tok_chars + f->tok_off[item], token, len);
    if (c == 0) return (int32_t)item;
    if (c < 0) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return -1;
}

ract_status ract_file_meta_at(const ract_file* f, int32_t i, const char** key, const char** value) {
  if (f == nullptr || i < 0 || i >= f->n_meta) return RACT_ERR_ARG;
  const char* s = f->meta;
  for (int32_t j = 0; j < i; j++) {
    s += strlen(s) + 1;
    s += strlen(s) + 1;
  }
  if (key != nullptr) *key = s;
  if (value != nullptr) *value = s + strlen(s) + 1;
  return RACT_OK;
}

const char* ract_file_meta_get(const ract_file* f, const char* key) {
  if (f == nullptr || key == nullptr) return nullptr;
  const char* s = f->meta;
  for (int32_t j = 0; j < f->n_meta; j++) {
    const char* v = s + strlen(s) + 1;
    if (strcmp(s, key) == 0) return v;
    s = v + strlen(v) + 1;
  }
  return nullptr;
}

}  // extern "C"
