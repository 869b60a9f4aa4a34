#include "ract/core/atomic_file.h"

#include <dirent.h>
#include <doctest/doctest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <string>

namespace {

std::string tmpdir() {
  const char* t = getenv("TEST_TMPDIR");
  std::string d = std::string(t ? t : "/tmp") + "/atomic_XXXXXX";
  char* p = mkdtemp(&d[0]);
  REQUIRE(p != nullptr);
  return d;
}

std::string slurp(const std::string& path) {
  FILE* f = fopen(path.c_str(), "rb");
  if (f == nullptr) return "<absent>";
  std::string s;
  char buf[256];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), f)) > 0) s.append(buf, n);
  fclose(f);
  return s;
}

int entries(const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  int n = 0;
  while (dirent* e = readdir(d)) n += e->d_name[0] != '.';
  closedir(d);
  return n;
}

}  // namespace

TEST_CASE("atomic_file: commit replaces the file; abort leaves the old one and no litter") {
  std::string dir = tmpdir(), path = dir + "/model.bin";
  REQUIRE(ract_atomic_write(path.c_str(), "old", 3, nullptr) == RACT_OK);
  CHECK(slurp(path) == "old");
  ract_atomic_file af;
  REQUIRE(ract_atomic_open(&af, path.c_str(), nullptr) == RACT_OK);
  fprintf(af.f, "new contents");
  CHECK(slurp(path) == "old");  // not visible before commit
  CHECK(entries(dir) == 2);     // the destination and the temporary file
  ract_atomic_abort(&af);
  CHECK(slurp(path) == "old");
  CHECK(entries(dir) == 1);
  REQUIRE(ract_atomic_open(&af, path.c_str(), nullptr) == RACT_OK);
  fprintf(af.f, "new contents");
  REQUIRE(ract_atomic_commit(&af, nullptr) == RACT_OK);
  CHECK(slurp(path) == "new contents");
  CHECK(entries(dir) == 1);
  struct stat st;
  REQUIRE(stat(path.c_str(), &st) == 0);
  mode_t mask = umask(0);
  umask(mask);
  CHECK((st.st_mode & 0777) == (0666 & ~mask));  // as fopen would create it, not 0600
}

TEST_CASE("atomic_file: errors name the path; nothing is left behind") {
  ract_error err;
  CHECK(ract_atomic_write("/nonexistent-folder/x.bin", "a", 1, &err) == RACT_ERR_IO);
  CHECK(std::string(err.msg).find("/nonexistent-folder/x.bin") != std::string::npos);
  CHECK(ract_atomic_write("", "a", 1, &err) == RACT_ERR_ARG);
  // renaming over a folder fails after the data was written: the temp file goes away
  std::string dir = tmpdir(), sub = dir + "/sub";
  REQUIRE(mkdir(sub.c_str(), 0755) == 0);
  CHECK(ract_atomic_write(sub.c_str(), "a", 1, &err) == RACT_ERR_IO);
  CHECK(std::string(err.msg).find("rename") != std::string::npos);
  CHECK(entries(dir) == 1);
}
