// Status codes and error messages. No exceptions, no exit(): every fallible function
// returns a ract_status, and takes an optional ract_error* that receives a readable
// message naming the file, line or field at fault. C-compatible: ract/ract.h includes it.
#ifndef RACT_CORE_STATUS_H_
#define RACT_CORE_STATUS_H_

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ract_status {
  RACT_OK = 0,
  RACT_ERR_ARG,          // an argument is invalid (null pointer, negative size, bad flag)
  RACT_ERR_SHAPE,        // tensor shapes do not fit together
  RACT_ERR_NOMEM,        // arena exhausted or an allocation failed
  RACT_ERR_IO,           // a file cannot be opened, read, written or renamed
  RACT_ERR_PARSE,        // malformed text input (names file and line)
  RACT_ERR_DATA,         // well-formed input with unusable content (empty, unknown id)
  RACT_ERR_NUMERIC,      // a NaN or infinity appeared
  RACT_ERR_UNSUPPORTED,  // valid but not supported by this build or CPU
  // Weight files (ract/deploy/model_file.h): each failure of validation its own code.
  RACT_ERR_FILE_TRUNCATED,  // shorter than its header or table says
  RACT_ERR_FILE_MAGIC,      // not a ract weight file
  RACT_ERR_FILE_VERSION,    // a format version this build does not read
  RACT_ERR_FILE_HEADER,     // a header field is out of its range
  RACT_ERR_FILE_CRC,        // the checksum does not match the contents
  RACT_ERR_FILE_BOUNDS,     // an offset or length points outside the file
  RACT_ERR_FILE_ALIGN,      // a tensor is not aligned as the format requires
  RACT_ERR_FILE_DIMS,       // tensor dims inconsistent with the model dims, or overflow
  RACT_ERR_FILE_DTYPE,      // unknown element type
  RACT_ERR_FILE_TENSOR,     // a required tensor is missing or duplicated
  RACT_ERR_FILE_KIND,       // an inference file where a checkpoint is needed, or back
  RACT_ERR_FILE_TOKENS,     // the item-token table is malformed (bad offsets, duplicates)
  RACT_ERR_FILE_META,       // the metadata key/value table is malformed
  RACT_ERR_INTERRUPTED,     // stopped by a signal; a checkpoint was written
  RACT_ERR_COMM,            // a collective between ranks failed (ract/dist/comm.h)
  RACT_STATUS_COUNT
} ract_status;

// A status with a human-readable message. Functions fill it only on failure.
typedef struct ract_error {
  ract_status status;
  char msg[512];
} ract_error;

// Short stable name of a status, e.g. "RACT_ERR_FILE_CRC".
const char* ract_status_name(ract_status s);

// Sets err (if not NULL) to s and a printf-style message; returns s. Use as
// `return ract_fail(err, RACT_ERR_PARSE, "%s:%d: ...", path, line);`
ract_status ract_fail(ract_error* err, ract_status s, const char* fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

#ifdef __cplusplus
}  // extern "C"
#endif

// Propagates a non-OK status to the caller.
#define RACT_CHECK(expr)                                \
  do {                                                  \
    ract_status ract_check_s_ = (expr);                 \
    if (ract_check_s_ != RACT_OK) return ract_check_s_; \
  } while (0)

#endif  // RACT_CORE_STATUS_H_
