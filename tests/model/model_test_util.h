// Helpers shared by the model tests: a tiny binary batch, arenas, finite differences.
#ifndef RACT_TESTS_MODEL_MODEL_TEST_UTIL_H_
#define RACT_TESTS_MODEL_MODEL_TEST_UTIL_H_

#include <doctest/doctest.h>
#include <math.h>

#include <functional>
#include <string>
#include <vector>

#include "ract/core/arena.h"
#include "ract/core/tensor.h"

// Four users over I = 7 items.
struct TinyBatch {
  std::vector<int64_t> ptr = {0, 3, 5, 9, 13};
  std::vector<int32_t> idx = {0, 2, 5, 1, 3, 0, 1, 4, 6, 2, 3, 5, 6};
  ract_sparse view() const {
    ract_sparse s = {4, 7, ptr.data(), idx.data(), nullptr};
    return s;
  }
};
// A fixed dropout mask over the 13 entries: every user keeps some and drops some, except
// user 1 who keeps everything (unseen = 0).
static const uint8_t kTinyKeep[13] = {1, 0, 1, 1, 1, 0, 1, 1, 0, 0, 1, 0, 1};

// An owned arena, freed at scope exit.
struct OwnedArena {
  ract_arena a;
  explicit OwnedArena(size_t bytes) { REQUIRE(ract_arena_create(&a, bytes, nullptr) == RACT_OK); }
  ~OwnedArena() { ract_arena_free(&a); }
};

// Central differences of loss() w.r.t. each of n parameters at p against grad g.
inline int fd_check(const char* what, double* p, const double* g, size_t n,
                    const std::function<double()>& loss, double h = 1e-6, double tol = 1e-6) {
  int bad = 0;
  for (size_t i = 0; i < n; i++) {
    const double save = p[i];
    p[i] = save + h;
    const double lp = loss();
    p[i] = save - h;
    const double lm = loss();
    p[i] = save;
    const double fd = (lp - lm) / (2 * h);
    if (fabs(fd - g[i]) > tol * (1 + fabs(fd))) {
      if (bad++ < 5)
        MESSAGE(std::string(what) << "[" << i << "]: analytic " << g[i] << " numeric " << fd);
    }
  }
  CHECK_MESSAGE(bad == 0, std::string(what) << ": " << bad << " of " << n << " elements off");
  return bad;
}

#endif  // RACT_TESTS_MODEL_MODEL_TEST_UTIL_H_
