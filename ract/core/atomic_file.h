// Atomic file writes: a file a tool writes is either absent, its old version, or complete.
// Data goes to a temporary file in the destination folder; commit flushes and fsyncs it,
// renames it over the destination and fsyncs the folder; abort (or a crash) leaves the
// destination untouched. Every file the tools write (weight files, checkpoints, reports,
// plots, splits) goes through here.
#ifndef RACT_CORE_ATOMIC_FILE_H_
#define RACT_CORE_ATOMIC_FILE_H_

#include <stddef.h>
#include <stdio.h>

#include "ract/core/status.h"

typedef struct ract_atomic_file {
  FILE* f;  // write here (fwrite, fprintf) between open and commit/abort
  char path[1024];
  char tmp[1040];
} ract_atomic_file;

ract_status ract_atomic_open(ract_atomic_file* af, const char* path, ract_error* err);
// Flush, fsync, rename over the destination, fsync the folder. On any failure the
// temporary file is removed, the destination is untouched, and the error names the path.
ract_status ract_atomic_commit(ract_atomic_file* af, ract_error* err);
// Drops what was written; the destination is untouched.
void ract_atomic_abort(ract_atomic_file* af);

// The whole file from one buffer.
ract_status ract_atomic_write(const char* path, const void* data, size_t bytes, ract_error* err);

#endif  // RACT_CORE_ATOMIC_FILE_H_
