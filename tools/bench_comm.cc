// Allreduce speed of the MPI communicator (ract/dist/comm_mpi.h): the in-place float sum
// of a gradient-sized buffer, for each buffer size and piece size (comm.chunk_bytes).
// Prints rank 0's time per call (minimum and median over --reps calls, each after a
// barrier), the buffer bytes moved per second, and rank 0's minor page faults per call
// (memory that Open MPI mapped afresh for the call).
//
//   bazel build //tools:bench_comm
//   export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1  # as root
//   mpirun --oversubscribe -np 2 bazel-bin/tools/bench_comm [--sizes_mib=1,16,96]
//       [--chunks_mib=16] [--reps=10]
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <vector>

#include "ract/dist/comm.h"
#include "ract/dist/comm_mpi.h"
#include "tools/flags.h"

static double now() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static long minor_faults() {
  rusage u;
  getrusage(RUSAGE_SELF, &u);
  return u.ru_minflt;
}

static int fail(ract_comm* comm, const ract_error& err) {
  fprintf(stderr, "bench_comm: %s\n", err.msg);
  ract_comm_abort(comm, 1, err.msg);
  return 1;
}

int main(int argc, char** argv) {
  ract_comm comm;
  ract_error err;
  if (ract_comm_init_mpi(&argc, &argv, 0, &comm, &err) != RACT_OK) {
    fprintf(stderr, "bench_comm: %s\n", err.msg);
    return 1;
  }
  int sizes[16] = {1, 16, 96}, nsizes = 3;
  int chunks[16] = {(int)(RACT_COMM_DEFAULT_CHUNK_BYTES >> 20)}, nchunks = 1;
  int reps = 10;
  for (int i = 1; i < argc; i++) {
    const char* v;
    int ok = 1;
    if ((v = ract_flag_value(argv[i], "sizes_mib"))) {
      ok = ract_flag_list(v, sizes, 16, &nsizes);
    } else if ((v = ract_flag_value(argv[i], "chunks_mib"))) {
      ok = ract_flag_list(v, chunks, 16, &nchunks);
    } else if ((v = ract_flag_value(argv[i], "reps"))) {
      ok = ract_flag_int(v, 1, 100000, &reps);
    } else {
      ok = 0;
    }
    if (!ok) {
      if (comm.rank == 0) {
        fprintf(stderr,
                "usage: mpirun -np N bench_comm [--sizes_mib=1,16,96] [--chunks_mib=16] "
                "[--reps=10]\n");
      }
      ract_comm_finalize(&comm, &err);
      return 2;
    }
  }
  if (comm.rank == 0) {
    printf("ranks: %d\n%10s %10s %12s %12s %10s %12s\n", comm.size, "MiB", "piece MiB", "min s",
           "median s", "GB/s", "faults/call");
  }
  for (int si = 0; si < nsizes; si++) {
    size_t n = ((size_t)sizes[si] << 20) / sizeof(float);
    std::vector<float> buf(n);
    for (size_t i = 0; i < n; i++) buf[i] = (float)(i & 1023);
    for (int ci = 0; ci < nchunks; ci++) {
      comm.chunk_bytes = (size_t)chunks[ci] << 20;
      std::vector<double> times;
      long faults = 0;
      for (int r = -1; r < reps; r++) {  // r = -1: warm-up
        if (ract_comm_barrier(&comm, &err) != RACT_OK) return fail(&comm, err);
        long f0 = minor_faults();
        double t0 = now();
        if (ract_comm_allreduce_sum_f32(&comm, buf.data(), n, &err) != RACT_OK) {
          return fail(&comm, err);
        }
        if (r >= 0) {
          times.push_back(now() - t0);
          faults += minor_faults() - f0;
        }
        // Keep the values small and exact: the sum of `size` copies, back to one copy.
        for (size_t i = 0; i < n; i++) buf[i] = (float)(i & 1023);
      }
      std::sort(times.begin(), times.end());
      double median = times[times.size() / 2];
      if (comm.rank == 0) {
        printf("%10d %10d %12.5f %12.5f %10.3f %12ld\n", sizes[si], std::min(chunks[ci], sizes[si]),
               times[0], median, (double)(n * sizeof(float)) / median * 1e-9, faults / reps);
        fflush(stdout);
      }
    }
  }
  if (ract_comm_finalize(&comm, &err) != RACT_OK) {
    fprintf(stderr, "bench_comm: %s\n", err.msg);
    return 1;
  }
  return 0;
}
