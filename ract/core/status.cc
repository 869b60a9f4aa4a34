// Status names and message formatting.
#include "ract/core/status.h"

#include <stdarg.h>
#include <stdio.h>

extern "C" {

const char* ract_status_name(ract_status s) {
  switch (s) {
    case RACT_OK:
      return "RACT_OK";
    case RACT_ERR_ARG:
      return "RACT_ERR_ARG";
    case RACT_ERR_SHAPE:
      return "RACT_ERR_SHAPE";
    case RACT_ERR_NOMEM:
      return "RACT_ERR_NOMEM";
    case RACT_ERR_IO:
      return "RACT_ERR_IO";
    case RACT_ERR_PARSE:
      return "RACT_ERR_PARSE";
    case RACT_ERR_DATA:
      return "RACT_ERR_DATA";
    case RACT_ERR_NUMERIC:
      return "RACT_ERR_NUMERIC";
    case RACT_ERR_UNSUPPORTED:
      return "RACT_ERR_UNSUPPORTED";
    case RACT_ERR_FILE_TRUNCATED:
      return "RACT_ERR_FILE_TRUNCATED";
    case RACT_ERR_FILE_MAGIC:
      return "RACT_ERR_FILE_MAGIC";
    case RACT_ERR_FILE_VERSION:
      return "RACT_ERR_FILE_VERSION";
    case RACT_ERR_FILE_HEADER:
      return "RACT_ERR_FILE_HEADER";
    case RACT_ERR_FILE_CRC:
      return "RACT_ERR_FILE_CRC";
    case RACT_ERR_FILE_BOUNDS:
      return "RACT_ERR_FILE_BOUNDS";
    case RACT_ERR_FILE_ALIGN:
      return "RACT_ERR_FILE_ALIGN";
    case RACT_ERR_FILE_DIMS:
      return "RACT_ERR_FILE_DIMS";
    case RACT_ERR_FILE_DTYPE:
      return "RACT_ERR_FILE_DTYPE";
    case RACT_ERR_FILE_TENSOR:
      return "RACT_ERR_FILE_TENSOR";
    case RACT_ERR_FILE_KIND:
      return "RACT_ERR_FILE_KIND";
    case RACT_ERR_FILE_TOKENS:
      return "RACT_ERR_FILE_TOKENS";
    case RACT_ERR_FILE_META:
      return "RACT_ERR_FILE_META";
    case RACT_ERR_INTERRUPTED:
      return "RACT_ERR_INTERRUPTED";
    case RACT_ERR_COMM:
      return "RACT_ERR_COMM";
    case RACT_STATUS_COUNT:
      break;
  }
  return "RACT_ERR_UNKNOWN";
}

ract_status ract_fail(ract_error* err, ract_status s, const char* fmt, ...) {
  if (err != nullptr) {
    err->status = s;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
  }
  return s;
}

}  // extern "C"
