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
// The loader (ract_model_file_open) checks everything before any tensor is read; each
// failure has its own status code (RACT_ERR_FILE_*) and a message naming the field. All
// size arithmetic is overflow-checked. The writer quantises, lays out and checksums; it
// writes files atomically (temp file, fsync, rename, fsync of the folder).
#ifndef RACT_DEPLOY_MODEL_FILE_H_
#define RACT_DEPLOY_MODEL_FILE_H_

#include <stddef.h>
#include <stdint.h>

#include "ract/core/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RACT_MODEL_FILE_MAGIC "RACTWGTS"
#define RACT_MODEL_FILE_VERSION 1
#define RACT_MODEL_FILE_HEADER_BYTES 256
#define RACT_MODEL_FILE_ENTRY_BYTES 128
#define RACT_MODEL_FILE_ALIGN 64       // sections and tensors
#define RACT_MODEL_FILE_BLOB_ALIGN 16  // the caller's buffer
#define RACT_MODEL_FILE_MAX_HIDDEN 8
#define RACT_MODEL_FILE_MAX_DIMS 4
#define RACT_MODEL_FILE_MAX_TENSORS 1024
#define RACT_MODEL_FILE_MAX_META 1024
#define RACT_MODEL_FILE_NAME_BYTES 64

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
// Added by ract_model_file_convert: the source's kind and dtype, "checkpoint fp32".
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
const char* ract_model_file_dtype_name(int dtype);
const char* ract_model_file_kind_name(int kind);
const char* ract_model_file_preset_name(int preset);
// Parses "fp32" | "fp16" | "int8"; RACT_ERR_ARG otherwise.
ract_status ract_model_file_parse_dtype(const char* s, ract_file_dtype* out, ract_error* err);

// Model dims, as in the header.
typedef struct ract_model_dims {
  int32_t n_items;
  int32_t latent;
  int32_t n_hidden;
  int32_t hidden[RACT_MODEL_FILE_MAX_HIDDEN];
  int32_t preset;     // ract_file_preset
  float input_scale;  // s
} ract_model_dims;

// The actor tensors a file of `kind` must hold (FORMAT.md, "Tensors"), in file order.
#define RACT_MODEL_FILE_MAX_REQUIRED (4 * RACT_MODEL_FILE_MAX_HIDDEN + 4)
typedef struct ract_file_required {
  char name[24];   // "enc.0.w", "mu.b", "enc.head.w", "dec.out.b", ...
  int32_t n_dims;  // 2 for weights, 1 for biases
  int64_t dims[2];
} ract_file_required;
// Fills out (RACT_MODEL_FILE_MAX_REQUIRED slots) for valid dims; returns the count.
int32_t ract_model_file_required(const ract_model_dims* d, int32_t kind, ract_file_required* out);

// ---------------------------------------------------------------------------------------
// Writing. The caller describes the model with fp32 tensors; the writer converts every
// tensor of 2+ dims to the target dtype (inference files), keeps 1-dim tensors fp32.

typedef struct ract_file_tensor {
  const char* name;
  int32_t n_dims;
  int64_t dims[RACT_MODEL_FILE_MAX_DIMS];
  const float* data;  // product(dims) floats, row-major
} ract_file_tensor;

typedef struct ract_file_kv {
  const char* key;
  const char* value;
} ract_file_kv;

typedef struct ract_file_desc {
  int32_t kind;  // ract_file_kind
  ract_model_dims dims;
  const ract_file_tensor* tensors;
  int32_t n_tensors;
  const char* const* tokens;  // n_items item tokens; NULL: the indices "0", "1", ...
  const ract_file_kv* meta;
  int32_t n_meta;
  const void* state;  // checkpoints: the training state (FORMAT.md), stored as it is; else NULL
  size_t state_bytes;
} ract_file_desc;

// Bytes the file for (desc, dtype) takes. Checks the arguments and sizes only (no tensor
// value is read): RACT_ERR_ARG for a bad kind, dtype, dims, name or count.
ract_status ract_model_file_bytes(const ract_file_desc* d, ract_file_dtype dtype, size_t* bytes,
                                  ract_error* err);
// Serialises into buf (16-byte aligned, len >= ract_model_file_bytes); *written receives
// the file size. Rejects NaN/inf weights and fp16 overflow (RACT_ERR_NUMERIC, naming the
// tensor and element) and duplicate tokens (RACT_ERR_ARG); then opens its own output with
// ract_model_file_open, so anything the loader would refuse (a missing or misshapen actor
// tensor, a duplicate name, a bad token or metadata byte) fails here with the loader's
// status and message, and no such file is ever written.
ract_status ract_model_file_write_buffer(void* buf, size_t len, const ract_file_desc* d,
                                         ract_file_dtype dtype, size_t* written, ract_error* err);
// Serialises and writes path atomically (temp file in the same folder, fsync, rename).
ract_status ract_model_file_write(const char* path, const ract_file_desc* d, ract_file_dtype dtype,
                                  ract_error* err);

// ---------------------------------------------------------------------------------------
// Reading, in place. The view points into the caller's buffer, which must outlive it.

typedef struct ract_model_file {
  const uint8_t* blob;
  size_t size;  // file size (the buffer may be longer)
  int32_t version;
  int32_t kind;   // ract_file_kind
  int32_t dtype;  // weight dtype
  ract_model_dims dims;
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
} ract_model_file;

// One tensor of the table, pointing into the blob.
typedef struct ract_file_tensor_view {
  const char* name;
  int32_t dtype;  // ract_file_dtype
  int32_t n_dims;
  int64_t dims[RACT_MODEL_FILE_MAX_DIMS];
  int64_t rows;        // dims[0]
  int64_t cols;        // product of the other dims (1 for a vector)
  const void* data;    // rows * cols elements of dtype
  const float* scale;  // int8: rows scales; else NULL
  uint64_t offset;
  uint64_t bytes;
} ract_file_tensor_view;

// Validates the whole file (FORMAT.md, "Validation") and fills the view.
ract_status ract_model_file_open(ract_model_file* f, const void* blob, size_t len, ract_error* err);

// Tensor i of the table, 0 <= i < n_tensors.
ract_status ract_model_file_tensor_at(const ract_model_file* f, int32_t i, ract_file_tensor_view* t,
                                      ract_error* err);
// Tensor by name: RACT_ERR_FILE_TENSOR if absent. With n_dims > 0, also checks the dims
// (RACT_ERR_FILE_DIMS naming both shapes); n_dims = 0 accepts any.
ract_status ract_model_file_find(const ract_model_file* f, const char* name, int32_t n_dims,
                                 const int64_t* dims, ract_file_tensor_view* t, ract_error* err);
// Element count of a tensor, and its values as fp32 into out (dequantised if needed).
int64_t ract_model_file_tensor_size(const ract_file_tensor_view* t);
void ract_model_file_tensor_f32(const ract_file_tensor_view* t, float* out);

// Item tokens: token of item index i (NUL-terminated, in the blob) or NULL; index of a
// token of len bytes (no NUL needed) or -1. Binary search over the sorted table.
const char* ract_model_file_token(const ract_model_file* f, int32_t i);
int32_t ract_model_file_token_index(const ract_model_file* f, const char* token, size_t len);

// Metadata: pair i, or the value of key (NULL if absent).
ract_status ract_model_file_meta_at(const ract_model_file* f, int32_t i, const char** key,
                                    const char** value);
const char* ract_model_file_meta_get(const ract_model_file* f, const char* key);

// CRC-32 (IEEE, reflected, as zlib): crc = ract_crc32(crc, data, n), starting from 0.
uint32_t ract_crc32(uint32_t crc, const void* data, size_t n);

// ---------------------------------------------------------------------------------------
// Conversion (tools/score --convert, the trainer's export): an inference file in `dtype`
// from an open inference file (any dtype; dequantised first) or checkpoint (its actor
// parameters; the mu half of enc.head). Tokens and metadata are carried over; the
// metadata gains "converted_from" = the source kind and dtype.
ract_status ract_model_file_convert(const char* out_path, const ract_model_file* src,
                                    ract_file_dtype dtype, ract_error* err);

// Reads a whole file into a buffer aligned for ract_model_file_open (release with free()).
ract_status ract_model_file_read(const char* path, void** blob, size_t* len, ract_error* err);

#ifdef __cplusplus
}  // extern "C"
#endif

#endif  // RACT_DEPLOY_MODEL_FILE_H_
