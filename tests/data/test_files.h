// Test helper: writes small inline files under $TEST_TMPDIR.
#ifndef RACT_TESTS_DATA_TEST_FILES_H_
#define RACT_TESTS_DATA_TEST_FILES_H_

#include <stdio.h>
#include <stdlib.h>

#include <string>

// Writes `text` to $TEST_TMPDIR/name and returns the path.
inline std::string write_tmp(const char* name, const std::string& text) {
  const char* dir = getenv("TEST_TMPDIR");
  std::string path = std::string(dir ? dir : "/tmp") + "/" + name;
  FILE* f = fopen(path.c_str(), "wb");
  if (f) {
    fwrite(text.data(), 1, text.size(), f);
    fclose(f);
  }
  return path;
}

inline std::string read_all(const std::string& path) {
  std::string s;
  FILE* f = fopen(path.c_str(), "rb");
  if (!f) return s;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), f)) > 0) s.append(buf, n);
  fclose(f);
  return s;
}

#endif  // RACT_TESTS_DATA_TEST_FILES_H_
