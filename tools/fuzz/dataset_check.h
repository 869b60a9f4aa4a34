// Shared by the data fuzz targets: invariants of a loaded ract_dataset (valid CSR
// matrices of the model width, dense ids in range) and a per-process scratch folder for
// the files a fuzz input is written to.
#ifndef RACT_TOOLS_FUZZ_DATASET_CHECK_H_
#define RACT_TOOLS_FUZZ_DATASET_CHECK_H_

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <string>

#include "ract/data/dataset.h"
#include "tools/fuzz/fuzz_check.h"

namespace ract_fuzz {

inline void check_csr(const ract_csr& m, int rows, int cols) {
  FUZZ_CHECK(m.rows == rows && m.cols == cols);
  if (rows == 0) return;
  FUZZ_CHECK(m.ptr != nullptr && m.ptr[0] == 0 && m.ptr[rows] == m.nnz);
  for (int r = 0; r < rows; r++) {
    FUZZ_CHECK(m.ptr[r] <= m.ptr[r + 1]);
    for (int64_t k = m.ptr[r]; k < m.ptr[r + 1]; k++) {
      FUZZ_CHECK(m.idx[k] >= 0 && m.idx[k] < cols);
      if (k > m.ptr[r]) FUZZ_CHECK(m.idx[k] > m.idx[k - 1]);
    }
  }
}

inline void check_eval_set(const ract_eval_set& s, const ract_dataset& ds) {
  FUZZ_CHECK(s.rows >= 0 && s.rows <= ds.n_users);
  for (int r = 0; r < s.rows; r++) FUZZ_CHECK(s.users[r] >= 0 && s.users[r] < ds.n_users);
  check_csr(s.input, s.rows, ds.n_items);
  check_csr(s.mask, s.rows, ds.n_items);
  check_csr(s.truth, s.rows, ds.n_items);
  // Every evaluated row has a truth item.
  for (int r = 0; r < s.rows; r++) FUZZ_CHECK(s.truth.ptr[r + 1] > s.truth.ptr[r]);
}

inline void check_dataset(const ract_dataset& ds) {
  FUZZ_CHECK(ds.n_users >= 0 && ds.n_items >= 0);
  FUZZ_CHECK(ds.users.n == ds.n_users);
  FUZZ_CHECK(ds.items.n >= ds.n_items);
  check_csr(ds.train, ds.train.rows, ds.n_items);
  FUZZ_CHECK(ds.train.rows <= ds.n_users);
  for (int r = 0; r < ds.train.rows; r++) {
    FUZZ_CHECK(ds.train_users[r] >= 0 && ds.train_users[r] < ds.n_users);
  }
  check_eval_set(ds.valid, ds);
  check_eval_set(ds.test, ds);
}

// A folder of its own for this process (the fuzzer runs one input at a time).
inline const std::string& scratch_dir() {
  static std::string dir = [] {
    const char* base = getenv("TEST_TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/ract-fuzz-XXXXXX";
    FUZZ_CHECK(mkdtemp(&tmpl[0]) != nullptr);
    return tmpl;
  }();
  return dir;
}

inline std::string write_file(const char* name, const uint8_t* data, size_t size) {
  std::string path = scratch_dir() + "/" + name;
  FILE* f = fopen(path.c_str(), "wb");
  FUZZ_CHECK(f != nullptr);
  if (size) FUZZ_CHECK(fwrite(data, 1, size, f) == size);
  FUZZ_CHECK(fclose(f) == 0);
  return path;
}

}  // namespace ract_fuzz

#endif  // RACT_TOOLS_FUZZ_DATASET_CHECK_H_
