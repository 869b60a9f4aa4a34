// Temporary file + fsync + rename + fsync of the folder (POSIX).
#include "ract/core/atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void folder_of(const char* path, char* out, size_t n) {
  const char* slash = strrchr(path, '/');
  if (slash == nullptr) {
    snprintf(out, n, ".");
  } else if (slash == path) {
    snprintf(out, n, "/");
  } else {
    snprintf(out, n, "%.*s", (int)(slash - path), path);
  }
}

ract_status ract_atomic_open(ract_atomic_file* af, const char* path, ract_error* err) {
  af->f = nullptr;
  if (path == nullptr || path[0] == '\0') {
    return ract_fail(err, RACT_ERR_ARG, "atomic write: empty path");
  }
  if (strlen(path) >= sizeof(af->path)) {
    return ract_fail(err, RACT_ERR_ARG, "atomic write: path too long: %s", path);
  }
  snprintf(af->path, sizeof(af->path), "%s", path);
  snprintf(af->tmp, sizeof(af->tmp), "%s.tmp.XXXXXX", path);
  int fd = mkstemp(af->tmp);
  if (fd < 0) {
    return ract_fail(err, RACT_ERR_IO, "%s: cannot create a temporary file: %s", path,
                     strerror(errno));
  }
  // mkstemp creates the file 0600; give it the mode fopen would (0666 less the umask).
  mode_t mask = umask(0);
  umask(mask);
  fchmod(fd, 0666 & ~mask);
  af->f = fdopen(fd, "wb");
  if (af->f == nullptr) {
    close(fd);
    unlink(af->tmp);
    return ract_fail(err, RACT_ERR_IO, "%s: %s", path, strerror(errno));
  }
  return RACT_OK;
}

void ract_atomic_abort(ract_atomic_file* af) {
  if (af->f == nullptr) return;
  fclose(af->f);
  af->f = nullptr;
  unlink(af->tmp);
}

ract_status ract_atomic_commit(ract_atomic_file* af, ract_error* err) {
  if (af->f == nullptr) return ract_fail(err, RACT_ERR_ARG, "atomic write: file not open");
  FILE* f = af->f;
  af->f = nullptr;
  int bad = ferror(f) || fflush(f) != 0 || fsync(fileno(f)) != 0;
  int e = errno;
  if (fclose(f) != 0 && !bad) {
    bad = 1;
    e = errno;
  }
  if (bad) {
    unlink(af->tmp);
    return ract_fail(err, RACT_ERR_IO, "%s: write failed: %s", af->path, strerror(e));
  }
  if (rename(af->tmp, af->path) != 0) {
    e = errno;
    unlink(af->tmp);
    return ract_fail(err, RACT_ERR_IO, "%s: cannot rename into place: %s", af->path, strerror(e));
  }
  char dir[1024];
  folder_of(af->path, dir, sizeof(dir));
  int dfd = open(dir, O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    fsync(dfd);  // best effort: some file systems refuse fsync on folders
    close(dfd);
  }
  return RACT_OK;
}

ract_status ract_atomic_write(const char* path, const void* data, size_t bytes, ract_error* err) {
  ract_atomic_file af;
  RACT_CHECK(ract_atomic_open(&af, path, err));
  if (bytes > 0 && fwrite(data, 1, bytes, af.f) != bytes) {
    ract_atomic_abort(&af);
    return ract_fail(err, RACT_ERR_IO, "%s: write failed", path);
  }
  return ract_atomic_commit(&af, err);
}
