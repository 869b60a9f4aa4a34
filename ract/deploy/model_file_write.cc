// Weight-file writer, converter and file reader (the host side of model_file.h). Separate
// from the reader so an edge app that only scores links none of this (nor stdio's file
// functions, fsync or rename). Allocation is fine here: it runs once, on a workstation.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif

#include <algorithm>

#include "ract/core/atomic_file.h"
#include "ract/deploy/kernels.h"
#include "ract/deploy/model_file.h"
#include "ract/deploy/model_file_write.h"

namespace {

inline void wr32(uint8_t* p, uint32_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
  p[2] = (uint8_t)(v >> 16);
  p[3] = (uint8_t)(v >> 24);
}

inline void wr64(uint8_t* p, uint64_t v) {
  wr32(p, (uint32_t)v);
  wr32(p + 4, (uint32_t)(v >> 32));
}

inline void wrf32(uint8_t* p, float f) {
  uint32_t u;
  memcpy(&u, &f, sizeof(u));
  wr32(p, u);
}

inline uint64_t round64(uint64_t n) { return (n + 63u) & ~(uint64_t)63u; }

inline bool mul_ok(uint64_t a, uint64_t b, uint64_t* r) {
  if (a != 0 && b > UINT64_MAX / a) return false;
  *r = a * b;
  return true;
}

const char* kWriter = "weight file writer";

// Offsets and sizes of one file.
struct Layout {
  uint64_t table, tokens, tokens_bytes, meta, meta_bytes, state, state_bytes, data, data_bytes;
  uint64_t size;
  uint64_t chars;  // token chars, NULs included
};

int decimal_len(int32_t i) {
  int n = 1;
  while (i >= 10) {
    i /= 10;
    n++;
  }
  return n;
}

// Rows, cols and stored bytes of desc tensor t in the file.
bool desc_tensor_bytes(const ract_file_tensor* t, int32_t file_dtype, uint64_t* rows,
                       uint64_t* cols, uint64_t* bytes) {
  *rows = (uint64_t)t->dims[0];
  *cols = 1;
  for (int d = 1; d < t->n_dims; d++) {
    if (!mul_ok(*cols, (uint64_t)t->dims[d], cols)) return false;
  }
  uint64_t n;
  if (!mul_ok(*rows, *cols, &n) || n > ((uint64_t)1 << 56)) return false;
  int32_t dtype = t->n_dims == 1 ? RACT_FILE_F32 : file_dtype;
  if (dtype == RACT_FILE_F32) *bytes = 4 * n;
  if (dtype == RACT_FILE_F16) *bytes = 2 * n;
  if (dtype == RACT_FILE_I8) *bytes = round64(n) + 4 * *rows;
  return true;
}

ract_status plan(const ract_file_desc* d, ract_file_dtype dtype, Layout* L, ract_error* err) {
  if (d == nullptr) return ract_fail(err, RACT_ERR_ARG, "%s: null description", kWriter);
  if (d->kind != RACT_FILE_INFERENCE && d->kind != RACT_FILE_CHECKPOINT) {
    return ract_fail(err, RACT_ERR_ARG, "%s: kind %d is neither inference nor checkpoint", kWriter,
                     d->kind);
  }
  if (dtype != RACT_FILE_F32 && dtype != RACT_FILE_F16 && dtype != RACT_FILE_I8) {
    return ract_fail(err, RACT_ERR_ARG, "%s: unknown dtype %d", kWriter, (int)dtype);
  }
  if (d->kind == RACT_FILE_CHECKPOINT && dtype != RACT_FILE_F32) {
    return ract_fail(err, RACT_ERR_ARG, "%s: checkpoints are fp32, not %s", kWriter,
                     ract_file_dtype_name(dtype));
  }
  if (d->kind == RACT_FILE_INFERENCE && d->state_bytes != 0) {
    return ract_fail(err, RACT_ERR_ARG, "%s: an inference file takes no state blob", kWriter);
  }
  if (d->state_bytes != 0 && d->state == nullptr) {
    return ract_fail(err, RACT_ERR_ARG, "%s: null state blob", kWriter);
  }
  const ract_file_dims* m = &d->dims;
  if (m->n_items < 1 || m->latent < 1 || m->latent > INT32_MAX / 2 || m->n_hidden < 1 ||
      m->n_hidden > RACT_FILE_MAX_HIDDEN) {
    return ract_fail(err, RACT_ERR_ARG, "%s: bad dims (n_items %d, latent %d, n_hidden %d)",
                     kWriter, m->n_items, m->latent, m->n_hidden);
  }
  for (int j = 0; j < m->n_hidden; j++) {
    if (m->hidden[j] < 1) {
      return ract_fail(err, RACT_ERR_ARG, "%s: hidden[%d] = %d", kWriter, j, m->hidden[j]);
    }
  }
  if (d->n_tensors < 0 || d->n_tensors > RACT_FILE_MAX_TENSORS ||
      (d->n_tensors > 0 && d->tensors == nullptr)) {
    return ract_fail(err, RACT_ERR_ARG, "%s: %d tensors (at most %d)", kWriter, d->n_tensors,
                     RACT_FILE_MAX_TENSORS);
  }
  if (d->n_meta < 0 || d->n_meta > RACT_FILE_MAX_META || (d->n_meta > 0 && d->meta == nullptr)) {
    return ract_fail(err, RACT_ERR_ARG, "%s: %d metadata pairs (at most %d)", kWriter, d->n_meta,
                     RACT_FILE_MAX_META);
  }

  uint64_t I = (uint64_t)m->n_items;
  L->chars = 0;
  for (uint64_t i = 0; i < I; i++) {
    size_t n =
        d->tokens ? (d->tokens[i] ? strlen(d->tokens[i]) : 0) : (size_t)decimal_len((int32_t)i);
    if (n == 0) {
      return ract_fail(err, RACT_ERR_ARG, "%s: item %llu has an empty token", kWriter,
                       (unsigned long long)i);
    }
    L->chars += n + 1;
  }
  if (L->chars > UINT32_MAX) {
    return ract_fail(err, RACT_ERR_ARG, "%s: tokens take more than 4 GiB", kWriter);
  }
  uint64_t meta = 8;
  for (int32_t i = 0; i < d->n_meta; i++) {
    if (d->meta[i].key == nullptr || d->meta[i].value == nullptr) {
      return ract_fail(err, RACT_ERR_ARG, "%s: metadata pair %d has a null key or value", kWriter,
                       i);
    }
    meta += strlen(d->meta[i].key) + strlen(d->meta[i].value) + 2;
  }
  uint64_t data = 0;
  for (int32_t i = 0; i < d->n_tensors; i++) {
    const ract_file_tensor* t = &d->tensors[i];
    if (t->name == nullptr || strlen(t->name) == 0 || strlen(t->name) >= RACT_FILE_NAME_BYTES) {
      return ract_fail(err, RACT_ERR_ARG, "%s: tensor %d name is empty or longer than %d", kWriter,
                       i, RACT_FILE_NAME_BYTES - 1);
    }
    if (t->n_dims < 1 || t->n_dims > RACT_FILE_MAX_DIMS || t->data == nullptr) {
      return ract_fail(err, RACT_ERR_ARG, "%s: tensor '%s' has n_dims %d or no data", kWriter,
                       t->name, t->n_dims);
    }
    for (int k = 0; k < t->n_dims; k++) {
      if (t->dims[k] < 1) {
        return ract_fail(err, RACT_ERR_ARG, "%s: tensor '%s' dim %d is %lld", kWriter, t->name, k,
                         (long long)t->dims[k]);
      }
    }
    uint64_t rows, cols, bytes;
    if (!desc_tensor_bytes(t, dtype, &rows, &cols, &bytes)) {
      return ract_fail(err, RACT_ERR_ARG, "%s: tensor '%s' is too large", kWriter, t->name);
    }
    data += round64(bytes);
  }
  L->table = RACT_FILE_HEADER_BYTES;
  L->tokens = round64(L->table + (uint64_t)d->n_tensors * RACT_FILE_ENTRY_BYTES);
  L->tokens_bytes = 8 + 4 * (I + 1) + 4 * I + L->chars;
  L->meta = round64(L->tokens + L->tokens_bytes);
  L->meta_bytes = meta;
  L->state = round64(L->meta + L->meta_bytes);
  L->state_bytes = d->state_bytes;
  L->data = round64(L->state + L->state_bytes);
  L->data_bytes = data;
  L->size = L->data + L->data_bytes;
  if (L->size > (uint64_t)SIZE_MAX) {
    return ract_fail(err, RACT_ERR_ARG, "%s: the file would not fit in memory", kWriter);
  }
  return RACT_OK;
}

// Stores tensor t at p in `dtype` (1-dim tensors fp32). Rejects non-finite values and
// values beyond the fp16 range.
ract_status put_tensor(uint8_t* p, const ract_file_tensor* t, int32_t dtype, uint64_t rows,
                       uint64_t cols, ract_error* err) {
  uint64_t n = rows * cols;
  for (uint64_t i = 0; i < n; i++) {
    if (!isfinite(t->data[i])) {
      return ract_fail(err, RACT_ERR_NUMERIC, "%s: tensor '%s' element %llu is %g", kWriter,
                       t->name, (unsigned long long)i, (double)t->data[i]);
    }
  }
  if (dtype == RACT_FILE_F32) {
    memcpy(p, t->data, n * sizeof(float));
  } else if (dtype == RACT_FILE_F16) {
    for (uint64_t i = 0; i < n; i++) {
      uint16_t h = ract_kernel_float_to_half(t->data[i]);
      if ((h & 0x7c00u) == 0x7c00u) {
        return ract_fail(err, RACT_ERR_NUMERIC,
                         "%s: tensor '%s' element %llu = %g is beyond the fp16 range", kWriter,
                         t->name, (unsigned long long)i, (double)t->data[i]);
      }
      memcpy(p + 2 * i, &h, 2);
    }
  } else {
    // Symmetric per-row quantisation: scale = max|w| / 127, q = round(w / scale).
    int8_t* q = (int8_t*)p;
    uint8_t* scales = p + round64(n);
    for (uint64_t r = 0; r < rows; r++) {
      const float* w = t->data + r * cols;
      float amax = 0.0f;
      for (uint64_t c = 0; c < cols; c++) amax = fmaxf(amax, fabsf(w[c]));
      float scale = amax / 127.0f;
      for (uint64_t c = 0; c < cols; c++) {
        long v = scale > 0.0f ? lrintf(w[c] / scale) : 0;
        q[r * cols + c] = (int8_t)(v > 127 ? 127 : (v < -127 ? -127 : v));
      }
      wrf32(scales + 4 * r, scale);
    }
  }
  return RACT_OK;
}

}  // namespace

extern "C" {

ract_status ract_file_bytes(const ract_file_desc* d, ract_file_dtype dtype, size_t* bytes,
                            ract_error* err) {
  Layout L;
  RACT_CHECK(plan(d, dtype, &L, err));
  if (bytes != nullptr) *bytes = (size_t)L.size;
  return RACT_OK;
}

ract_status ract_file_write_buffer(void* buf, size_t len, const ract_file_desc* d,
                                   ract_file_dtype dtype, size_t* written, ract_error* err) {
  Layout L;
  RACT_CHECK(plan(d, dtype, &L, err));
  if (buf == nullptr || len < L.size || (uintptr_t)buf % RACT_FILE_BLOB_ALIGN != 0) {
    return ract_fail(err, RACT_ERR_ARG, "%s: buffer of %zu bytes (need %llu, %d-byte aligned)",
                     kWriter, len, (unsigned long long)L.size, RACT_FILE_BLOB_ALIGN);
  }
  uint8_t* p = (uint8_t*)buf;
  memset(p, 0, (size_t)L.size);
  const ract_file_dims* m = &d->dims;

  // Header.
  memcpy(p, RACT_FILE_MAGIC, 8);
  wr32(p + 8, RACT_FILE_VERSION);
  wr32(p + 12, RACT_FILE_HEADER_BYTES);
  wr64(p + 16, L.size);
  wr32(p + 24, (uint32_t)d->kind);
  wr32(p + 28, (uint32_t)dtype);
  wr32(p + 32, (uint32_t)m->preset);
  wr32(p + 36, (uint32_t)m->n_items);
  wr32(p + 40, (uint32_t)m->latent);
  wr32(p + 44, (uint32_t)m->n_hidden);
  for (int j = 0; j < m->n_hidden; j++) wr32(p + 48 + 4 * j, (uint32_t)m->hidden[j]);
  wrf32(p + 80, m->input_scale);
  wr32(p + 84, (uint32_t)d->n_tensors);
  wr64(p + 88, L.table);
  wr64(p + 96, L.tokens);
  wr64(p + 104, L.tokens_bytes);
  wr64(p + 112, L.meta);
  wr64(p + 120, L.meta_bytes);
  wr64(p + 128, L.state);
  wr64(p + 136, L.state_bytes);
  wr64(p + 144, L.data);
  wr64(p + 152, L.data_bytes);

  // Tensor table and data.
  uint64_t off = L.data;
  for (int32_t i = 0; i < d->n_tensors; i++) {
    const ract_file_tensor* t = &d->tensors[i];
    uint8_t* e = p + L.table + (uint64_t)i * RACT_FILE_ENTRY_BYTES;
    uint64_t rows, cols, bytes;
    desc_tensor_bytes(t, dtype, &rows, &cols, &bytes);
    int32_t tdtype = t->n_dims == 1 ? RACT_FILE_F32 : dtype;
    memcpy(e, t->name, strlen(t->name));
    wr32(e + 64, (uint32_t)tdtype);
    wr32(e + 68, (uint32_t)t->n_dims);
    for (int k = 0; k < t->n_dims; k++) wr64(e + 72 + 8 * k, (uint64_t)t->dims[k]);
    wr64(e + 104, off);
    wr64(e + 112, bytes);
    RACT_CHECK(put_tensor(p + off, t, tdtype, rows, cols, err));
    off += round64(bytes);
  }

  // Item tokens: offsets and chars, then the indices sorted by token.
  uint64_t I = (uint64_t)m->n_items;
  uint8_t* tp = p + L.tokens;
  wr32(tp, (uint32_t)I);
  wr32(tp + 4, (uint32_t)L.chars);
  uint32_t* toff = (uint32_t*)(tp + 8);
  uint32_t* sorted = toff + I + 1;
  char* text = (char*)(sorted + I);
  uint32_t at = 0;
  for (uint64_t i = 0; i < I; i++) {
    toff[i] = at;
    if (d->tokens != nullptr) {
      size_t n = strlen(d->tokens[i]);
      memcpy(text + at, d->tokens[i], n + 1);
      at += (uint32_t)(n + 1);
    } else {
      at += (uint32_t)snprintf(text + at, 12, "%d", (int)i) + 1;
    }
    sorted[i] = (uint32_t)i;
  }
  toff[I] = at;
  std::sort(sorted, sorted + I,
            [&](uint32_t a, uint32_t b) { return strcmp(text + toff[a], text + toff[b]) < 0; });
  for (uint64_t j = 1; j < I; j++) {
    if (strcmp(text + toff[sorted[j - 1]], text + toff[sorted[j]]) == 0) {
      return ract_fail(err, RACT_ERR_ARG, "%s: token '%s' is used by items %u and %u", kWriter,
                       text + toff[sorted[j]], sorted[j - 1], sorted[j]);
    }
  }

  // Metadata.
  uint8_t* mp = p + L.meta;
  wr32(mp, (uint32_t)d->n_meta);
  char* s = (char*)mp + 8;
  for (int32_t i = 0; i < d->n_meta; i++) {
    size_t k = strlen(d->meta[i].key) + 1, v = strlen(d->meta[i].value) + 1;
    memcpy(s, d->meta[i].key, k);
    memcpy(s + k, d->meta[i].value, v);
    s += k + v;
  }

  if (d->state_bytes != 0) memcpy(p + L.state, d->state, d->state_bytes);

  uint32_t crc = ract_crc32(0, p, 160);
  crc = ract_crc32(crc, p + 164, (size_t)L.size - 164);
  wr32(p + 160, crc);

  // The reader checks what the writer did not (required tensors and their dims, token and
  // key bytes, unique names), so a bad description never reaches a file.
  ract_file check;
  RACT_CHECK(ract_file_open(&check, p, (size_t)L.size, err));
  if (written != nullptr) *written = (size_t)L.size;
  return RACT_OK;
}

ract_status ract_file_write(const char* path, const ract_file_desc* d, ract_file_dtype dtype,
                            ract_error* err) {
  size_t bytes = 0;
  RACT_CHECK(ract_file_bytes(d, dtype, &bytes, err));
  void* buf = aligned_alloc(RACT_FILE_ALIGN, (size_t)round64(bytes));
  if (buf == nullptr) {
    return ract_fail(err, RACT_ERR_NOMEM, "%s: cannot allocate %zu bytes for %s", kWriter, bytes,
                     path);
  }
  ract_status s = ract_file_write_buffer(buf, bytes, d, dtype, nullptr, err);
  if (s == RACT_OK) s = ract_atomic_write(path, buf, bytes, err);
  free(buf);
  return s;
}

ract_status ract_file_read(const char* path, void** blob, size_t* len, ract_error* err) {
  *blob = nullptr;
  *len = 0;
  FILE* f = fopen(path, "rb");
  if (f == nullptr) return ract_fail(err, RACT_ERR_IO, "%s: cannot open", path);
  long n = -1;
  if (fseek(f, 0, SEEK_END) == 0) n = ftell(f);
  if (n < 0 || fseek(f, 0, SEEK_SET) != 0) {
    fclose(f);
    return ract_fail(err, RACT_ERR_IO, "%s: cannot determine the size", path);
  }
  // A file of megabytes goes on 2 MiB pages where Linux offers them: the scorer streams the
  // decoder's weights once per user, and with 4 KiB pages that walks the TLB (5% of its time).
  const size_t huge = (size_t)2 << 20;
  const bool big = (uint64_t)n >= huge;
  const size_t cap = big ? ((size_t)n + huge) / huge * huge : (size_t)round64((uint64_t)n + 1);
  void* buf = aligned_alloc(big ? huge : RACT_FILE_ALIGN, cap);
  if (buf == nullptr) {
    fclose(f);
    return ract_fail(err, RACT_ERR_NOMEM, "%s: cannot allocate %ld bytes", path, n);
  }
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  if (big) madvise(buf, cap, MADV_HUGEPAGE);  // advice only: failure is harmless
#endif
  size_t got = fread(buf, 1, (size_t)n, f);
  fclose(f);
  if (got != (size_t)n) {
    free(buf);
    return ract_fail(err, RACT_ERR_IO, "%s: read %zu of %ld bytes", path, got, n);
  }
  *blob = buf;
  *len = (size_t)n;
  return RACT_OK;
}

ract_status ract_file_convert(const char* out_path, const ract_file* src, ract_file_dtype dtype,
                              ract_error* err) {
  if (src == nullptr || src->blob == nullptr) {
    return ract_fail(err, RACT_ERR_ARG, "convert: the source is not open");
  }
  const ract_file_dims* m = &src->dims;
  ract_file_required want[RACT_FILE_MAX_REQUIRED];
  int32_t n = ract_file_required_of(m, RACT_FILE_INFERENCE, want);
  ract_file_tensor tensors[RACT_FILE_MAX_REQUIRED];
  float* bufs[RACT_FILE_MAX_REQUIRED] = {nullptr};
  const char** tokens = nullptr;
  ract_file_kv* meta = nullptr;
  ract_status s = RACT_OK;
  for (int32_t i = 0; i < n && s == RACT_OK; i++) {
    // A checkpoint's mu.* is the first half of enc.head.*: rows [0, L) of the weight, which
    // row-major are its first L * hk values.
    const char* from = want[i].name;
    bool mu = src->kind == RACT_FILE_CHECKPOINT && strncmp(from, "mu.", 3) == 0;
    if (mu) from = want[i].name[3] == 'w' ? "enc.head.w" : "enc.head.b";
    ract_file_tensor_view v;
    s = ract_file_find(src, from, 0, nullptr, &v, err);
    if (s != RACT_OK) break;
    int64_t size = ract_file_tensor_size(&v);
    bufs[i] = (float*)malloc((size_t)size * sizeof(float));
    if (bufs[i] == nullptr) {
      s = ract_fail(err, RACT_ERR_NOMEM, "convert: cannot allocate tensor '%s'", from);
      break;
    }
    ract_file_tensor_f32(&v, bufs[i]);
    tensors[i].name = want[i].name;
    tensors[i].n_dims = want[i].n_dims;
    memset(tensors[i].dims, 0, sizeof(tensors[i].dims));
    tensors[i].dims[0] = want[i].dims[0];
    tensors[i].dims[1] = want[i].dims[1];
    tensors[i].data = bufs[i];
  }
  if (s == RACT_OK) {
    tokens = (const char**)malloc((size_t)m->n_items * sizeof(char*));
    meta = (ract_file_kv*)malloc(((size_t)src->n_meta + 1) * sizeof(ract_file_kv));
    if (tokens == nullptr || meta == nullptr)
      s = ract_fail(err, RACT_ERR_NOMEM, "convert: out of memory");
  }
  if (s == RACT_OK) {
    for (int32_t i = 0; i < m->n_items; i++) tokens[i] = ract_file_token(src, i);
    int32_t n_meta = 0;
    for (int32_t i = 0; i < src->n_meta; i++) {
      ract_file_meta_at(src, i, &meta[n_meta].key, &meta[n_meta].value);
      if (strcmp(meta[n_meta].key, RACT_META_CONVERTED_FROM) != 0) n_meta++;
    }
    char from[64];
    snprintf(from, sizeof(from), "%s %s", ract_file_kind_name(src->kind),
             ract_file_dtype_name(src->dtype));
    meta[n_meta].key = RACT_META_CONVERTED_FROM;
    meta[n_meta].value = from;
    n_meta++;
    ract_file_desc d;
    memset(&d, 0, sizeof(d));
    d.kind = RACT_FILE_INFERENCE;
    d.dims = *m;
    d.tensors = tensors;
    d.n_tensors = n;
    d.tokens = tokens;
    d.meta = meta;
    d.n_meta = n_meta;
    s = ract_file_write(out_path, &d, dtype, err);
  }
  for (int32_t i = 0; i < n; i++) free(bufs[i]);
  free(tokens);
  free(meta);
  return s;
}

}  // extern "C"
