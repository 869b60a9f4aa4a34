// Writing ract weight files (ract/deploy/FORMAT.md), converting between dtypes, and reading
// a file from disk: the host side of model_file.h, in the //ract/deploy:model_file target
// (the on-device scorer links only the reader, //ract/deploy:model_file_reader).
#ifndef RACT_DEPLOY_MODEL_FILE_WRITE_H_
#define RACT_DEPLOY_MODEL_FILE_WRITE_H_

#include <stddef.h>
#include <stdint.h>

#include "ract/core/status.h"
#include "ract/deploy/model_file.h"

#ifdef __cplusplus
extern "C" {
#endif

// ---------------------------------------------------------------------------------------
// Writing. The caller describes the model with fp32 tensors; the writer converts every
// tensor of 2+ dims to the target dtype (inference files), keeps 1-dim tensors fp32.

typedef struct ract_file_tensor {
  const char* name;
  int32_t n_dims;
  int64_t dims[RACT_FILE_MAX_DIMS];
  const float* data;  // product(dims) floats, row-major
} ract_file_tensor;

typedef struct ract_file_kv {
  const char* key;
  const char* value;
} ract_file_kv;

typedef struct ract_file_desc {
  int32_t kind;  // ract_file_kind
  ract_file_dims dims;
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
ract_status ract_file_bytes(const ract_file_desc* d, ract_file_dtype dtype, size_t* bytes,
                            ract_error* err);
// Serialises into buf (16-byte aligned, len >= ract_file_bytes); *written receives
// the file size. Rejects NaN/inf weights and fp16 overflow (RACT_ERR_NUMERIC, naming the
// tensor and element) and duplicate tokens (RACT_ERR_ARG); then opens its own output with
// ract_file_open, so anything the loader would refuse (a missing or misshapen actor
// tensor, a duplicate name, a bad token or metadata byte) fails here with the loader's
// status and message, and no such file is ever written.
ract_status ract_file_write_buffer(void* buf, size_t len, const ract_file_desc* d,
                                   ract_file_dtype dtype, size_t* written, ract_error* err);
// Serialises and writes path atomically (temp file in the same folder, fsync, rename).
ract_status ract_file_write(const char* path, const ract_file_desc* d, ract_file_dtype dtype,
                            ract_error* err);

// ---------------------------------------------------------------------------------------
// Conversion (tools/score --convert, the trainer's export): an inference file in `dtype`
// from an open inference file (any dtype; dequantised first) or checkpoint (its actor
// parameters; the mu half of enc.head). Tokens and metadata are carried over; the
// metadata gains "converted_from" = the source kind and dtype.
ract_status ract_file_convert(const char* out_path, const ract_file* src, ract_file_dtype dtype,
                              ract_error* err);

// Reads a whole file into a buffer aligned for ract_file_open (release with free()).
ract_status ract_file_read(const char* path, void** blob, size_t* len, ract_error* err);

#ifdef __cplusplus
}  // extern "C"
#endif

#endif  // RACT_DEPLOY_MODEL_FILE_WRITE_H_
