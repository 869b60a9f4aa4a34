// ract weight files: one format for the inference file an edge app scores with and for the
// training checkpoint a run resumes from. Modelled on GGUF (explicit byte order, a tensor
// table, aligned data) and TensorFlow Lite Micro (the file is validated, then used in place:
// flash, mmap or a static array; no weight is copied). Unlike GGUF it carries a checksum.
//
// ract/deploy/FORMAT.md is the specification: every byte of the header, tensor table,
// item tokens, metadata and training state, the tensor names of inference files and
// checkpoints, dtypes, the CRC, and the order of the loader's checks. In short:
// little-endian; a 256-byte header (magic "RACTWGTS", version, file size, kind, dtype,
// preset, model dims, section offsets, CRC-32 over the file at byte 160); then, each
// 64-byte aligned, the tensor table (128-byte entries: name, dtype, dims, offset, bytes),
// the item tokens, the metadata pairs, the training state (checkpoints) and the tensor
// data. The constants below are that document's numbers.
//
// The loader (ract_file_open) checks everything before any tensor is read; each
// failure has its own status code (RACT_ERR_FILE_*) and a message naming the field. All
// size arithmetic is overflow-checked. The writer (model_file_write.h, a separate target
// that on-device apps need not link) quantises, lays out and checksums; it writes files
// atomically (temp file, fsync, rename, fsync of the folder).
#ifndef RACT_DEPLOY_MODEL_FILE_H_
#define RACT_DEPLOY_MODEL_FILE_H_

#include <stddef.h>
#include <stdint.h>

#include "ract/core/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RACT_FILE_MAGIC "RACTWGTS"
#define RACT_FILE_VERSION 1
#define RACT_FILE_HEADER_BYTES 256
#define RACT_FILE_ENTRY_BYTES 128
#define RACT_FILE_ALIGN 64       // sections and tensors
#define RACT_FILE_BLOB_ALIGN 16  // the caller's buffer
#define RACT_FILE_MAX_HIDDEN 8
#define RACT_FILE_MAX_DIMS 4
#define RACT_FILE_MAX_TENSORS 1024
#define RACT_FILE_MAX_META 1024
#define RACT_FILE_NAME_BYTES 64

// Metadata keys tools/train writes into every weight file and checkpoint (values are text;
// FORMAT.md, "Metadata").
#define RACT_META_DATASET "dataset"                // the dataset's name (file or folder)
#define RACT_META_PRESET "preset"                  // "recbole", "paper"
#define RACT_META_DATE "date"                      // ISO 8601 UTC, "2026-12-05T10:00:00Z"
#define RACT_META_N_USERS "n_users"                // users of the dataset
#define RACT_META_N_ITEMS "n_items"                // items (the model width)
#define RACT_META_N_INTERACTIONS "n_interactions"  // user-item pairs: train + valid + test
#define RACT_META_N_TRAIN_INTERACTIONS "n_train_interactions"  // pairs of the training matrix
// "test." + a metric key of ract/eval/metrics.h: "test.ndcg@10", "test.recall@10",
// "test.mrr@10", "test.hit@10", "test.precision@10", "test.recall_paper@10", and the same
// @K for every cut-off of the run's topk (default 10 and 100). Written with the inference
// file and the final checkpoint (not into checkpoints written before training ends).
#define RACT_META_TEST_PREFIX "test."
// Added by ract_file_convert: the source's kind and dtype, "checkpoint fp32".
#define RACT_META_CONVERTED_FROM "converted_from"

typedef enum ract_file_kind {
  RACT_FILE_INFERENCE = 1,
  RACT_FILE_CHECKPOINT = 2,
} ract_file_kind;

typedef enum ract_file_dtype {
  RACT_FILE_F32 = 0,
  RACT_FILE_F16 = 1,
  RACT_FILE_I8 = 2,
} ract_file_dtype;

typedef enum ract_file_preset {
  RACT_PRESET_CUSTOM = 0,
  RACT_PRESET_RECBOLE = 1,
  RACT_PRESET_PAPER = 2,
} ract_file_preset;

// "fp32", "fp16", "int8" / "inference", "checkpoint" / "custom", "recbole", "paper".
const char* ract_file_dtype_name(int dtype);
const char* ract_file_kind_name(int kind);
const char* ract_file_preset_name(int preset);
// Parses "fp32" | "fp16" | "int8"; RACT_ERR_ARG otherwise.
ract_status ract_file_parse_dtype(const char* s, ract_file_dtype* out, ract_error* err);

// Model dims, as in the header.
typedef struct ract_file_dims {
  int32_t n_items;
  int32_t latent;
  int32_t n_hidden;
  int32_t hidden[RACT_FILE_MAX_HIDDEN];
  int32_t preset;     // ract_file_preset
  float input_scale;  // s
} ract_file_dims;

// The actor tensors a file of `kind` must hold (FORMAT.md, "Tensors"), in file order.
#define RACT_FILE_MAX_REQUIRED (4 * RACT_FILE_MAX_HIDDEN + 4)
typedef struct ract_file_required {
  char name[24];   // "enc.0.w", "mu.b", "enc.head.w", "dec.out.b", ...
  int32_t n_dims;  // 2 for weights, 1 for biases
  int64_t dims[2];
} ract_file_required;
// Fills out (RACT_FILE_MAX_REQUIRED slots) for valid dims; returns the count.
int32_t ract_file_required_of(const ract_file_dims* d, int32_t kind, ract_file_required* out);

// ---------------------------------------------------------------------------------------
// Reading, in place. The view points into the caller's buffer, which must outlive it.

typedef struct ract_file {
  const uint8_t* blob;
  size_t size;  // file size (the buffer may be longer)
  int32_t version;
  int32_t kind;   // ract_file_kind
  int32_t dtype;  // weight dtype
  ract_file_dims dims;
  uint32_t crc;
  int32_t n_tensors;
  const uint8_t* table;  // n_tensors entries
  // Item tokens.
  const uint32_t* tok_off;     // n_items + 1
  const uint32_t* tok_sorted;  // n_items
  const char* tok_chars;
  // Metadata.
  int32_t n_meta;
  const char* meta;  // first "key\0value\0" pair
  const char* meta_end;
  // Opaque state blob.
  const void* state;
  size_t state_bytes;
} ract_file;

// One tensor of the table, pointing into the blob.
typedef struct ract_file_tensor_view {
  const char* name;
  int32_t dtype;  // ract_file_dtype
  int32_t n_dims;
  int64_t dims[RACT_FILE_MAX_DIMS];
  int64_t rows;        // dims[0]
  int64_t cols;        // product of the other dims (1 for a vector)
  const void* data;    // rows * cols elements of dtype
  const float* scale;  // int8: rows scales; else NULL
  uint64_t offset;
  uint64_t bytes;
} ract_file_tensor_view;

// Validates the whole file (FORMAT.md, "Validation") and fills the view.
ract_status ract_file_open(ract_file* f, const void* blob, size_t len, ract_error* err);

// Tensor i of the table, 0 <= i < n_tensors.
ract_status ract_file_tensor_at(const ract_file* f, int32_t i, ract_file_tensor_view* t,
                                ract_error* err);
// Tensor by name: RACT_ERR_FILE_TENSOR if absent. With n_dims > 0, also checks the dims
// (RACT_ERR_FILE_DIMS naming both shapes); n_dims = 0 accepts any.
ract_status ract_file_find(const ract_file* f, const char* name, int32_t n_dims,
                           const int64_t* dims, ract_file_tensor_view* t, ract_error* err);
// Element count of a tensor, and its values as fp32 into out (dequantised if needed).
int64_t ract_file_tensor_size(const ract_file_tensor_view* t);
void ract_file_tensor_f32(const ract_file_tensor_view* t, float* out);

// Item tokens: token of item index i (NUL-terminated, in the blob) or NULL; index of a
// token of len bytes (no NUL needed) or -1. Binary search over the sorted table.
const char* ract_file_token(const ract_file* f, int32_t i);
int32_t ract_file_token_index(const ract_file* f, const char* token, size_t len);

// Metadata: pair i, or the value of key (NULL if absent).
ract_status ract_file_meta_at(const ract_file* f, int32_t i, const char** key, const char** value);
const char* ract_file_meta_get(const ract_file* f, const char* key);

// CRC-32 (IEEE, reflected, as zlib): crc = ract_crc32(crc, data, n), starting from 0.
uint32_t ract_crc32(uint32_t crc, const void* data, size_t n);

#ifdef __cplusplus
}  // extern "C"
#endif

#endif  // RACT_DEPLOY_MODEL_FILE_H_
