// GEMM/GEMV throughput of the library's BLIS path for the shapes that matter to RaCT
// (TOOLCHAIN.md's table), and the BLIS kernel family it selected.
//
//   bazel run -c opt //tools:bench_gemm -- [--threads=N] [--seconds=S]
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <vector>

#include "ract/core/clock.h"
#include "ract/core/rng.h"
#include "ract/math/gemm.h"

int main(int argc, char** argv) {
  int threads = 1;
  double seconds = 0.5;
  for (int i = 1; i < argc; i++) {
    if (strncmp(argv[i], "--threads=", 10) == 0) {
      threads = atoi(argv[i] + 10);
    } else if (strncmp(argv[i], "--seconds=", 10) == 0) {
      seconds = atof(argv[i] + 10);
    } else {
      fprintf(stderr, "usage: bench_gemm [--threads=N] [--seconds=S]\n");
      return 2;
    }
  }
  ract_gemm_set_threads(threads);
  printf("BLIS kernel family: %s, threads: %d\n", ract_gemm_kernel(), ract_gemm_threads());
  const int shapes[][3] = {{500, 1682, 600}, {500, 600, 1682}, {4096, 3706, 600}, {1, 600, 3706}};
  ract_rng rng;
  ract_rng_seed(&rng, 1, 0);
  printf("%-16s %-6s %10s\n", "M x K x N", "path", "GFLOP/s");
  for (auto& s : shapes) {
    int m = s[0], k = s[1], n = s[2];
    std::vector<float> a((size_t)m * k), b((size_t)k * n), c((size_t)m * n);
    for (float& x : a) x = ract_rng_uniform(&rng);
    for (float& x : b) x = ract_rng_uniform(&rng);
    ract_tensor ta = ract_tensor_make(a.data(), m, k), tb = ract_tensor_make(b.data(), k, n),
                tc = ract_tensor_make(c.data(), m, n);
    for (int path = 0; path < (m == 1 ? 2 : 1); path++) {
      int reps = 0;
      double t0 = ract_clock_seconds(), t = 0;
      do {
        if (path == 0) {
          ract_gemm(tc, RACT_NOTRANS, ta, RACT_NOTRANS, tb, 1.0f, 0.0f);
        } else {  // y(N) = B^T(N,K) x(K): the single-row product as a GEMV
          ract_gemv(c.data(), RACT_TRANS, tb, a.data(), 1.0f, 0.0f);
        }
        reps++;
        t = ract_clock_seconds() - t0;
      } while (t < seconds);
      double gflops = 2.0 * m * k * n * reps / t * 1e-9;
      char name[32];
      snprintf(name, sizeof(name), "%dx%dx%d", m, k, n);
      printf("%-16s %-6s %10.1f\n", name, path ? "gemv" : "gemm", gflops);
    }
  }
  return 0;
}
