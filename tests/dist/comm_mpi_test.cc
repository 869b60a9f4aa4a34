// The MPI communicator under mpirun (run by comm_mpi_test.sh, which checks what each mode
// must do to the job).
//
//   comm_mpi_test --mode=primitives [doctest flags]   every collective against known
//       answers, on every rank; exit status 0 iff all ranks pass.
//   comm_mpi_test --mode=FAULT [--timeout=S] [--pid_dir=D]   the last rank misbehaves while
//       the others wait in a collective; the job must end non-zero within seconds:
//     kill_waiting   SIGKILLs itself while the others wait in an allreduce
//     kill_during    SIGKILLed (a timer) in the middle of a series of 96 MiB allreduces
//     exit_waiting   exit(3) while the others wait in a barrier
//     abort          ract_comm_abort(4) while the others wait in a barrier
//     stuck          "computes" (sleeps) for 10 minutes while the others wait in an allreduce
//     skip           finalises, skipping the allreduce the others wait in
//     external_kill  writes D/pid.RANK and sleeps; the others wait in a barrier; the script
//                    kill -9s it
// The misbehaving rank prints "fault_time=<unix time>" when it misbehaves; the waiting ranks
// print "wait_time=<unix time>" as they enter the collective.
#define DOCTEST_CONFIG_IMPLEMENT
#include "ract/dist/comm_mpi.h"

#include <doctest/doctest.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "ract/dist/comm.h"

static ract_comm g_comm;

static double unix_time() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

// ---------------------------------------------------------------------------------------
// Primitives: known answers. Rank r contributes values depending on r; with N ranks the sum
// of (base + r + 1) is N * base + N (N + 1) / 2, exact in float while below 2^24.

static int expected_size() {
  const char* s = getenv("OMPI_COMM_WORLD_SIZE");
  return s != nullptr ? atoi(s) : 1;
}

TEST_CASE("mpi: rank and size are mpirun's") {
  CHECK(g_comm.size == expected_size());
  CHECK(g_comm.rank >= 0);
  CHECK(g_comm.rank < g_comm.size);
  const char* r = getenv("OMPI_COMM_WORLD_RANK");
  if (r != nullptr) CHECK(g_comm.rank == atoi(r));
  REQUIRE(g_comm.impl != nullptr);
  CHECK(std::string(g_comm.impl->name) == "mpi");
}

// Sums n floats in pieces of chunk_bytes and checks every element, and that the element after
// the buffer is untouched.
static void check_f32(size_t n, size_t chunk_bytes) {
  CAPTURE(n);
  CAPTURE(chunk_bytes);
  const int N = g_comm.size, r = g_comm.rank;
  std::vector<float> buf(n + 1);
  for (size_t i = 0; i < n; i++) buf[i] = (float)(i % 1021) + (float)(r + 1);
  buf[n] = -7.5f;
  g_comm.chunk_bytes = chunk_bytes;
  ract_error err;
  REQUIRE(ract_comm_allreduce_sum_f32(&g_comm, buf.data(), n, &err) == RACT_OK);
  g_comm.chunk_bytes = RACT_COMM_DEFAULT_CHUNK_BYTES;
  size_t wrong = 0, first_wrong = n;
  for (size_t i = 0; i < n; i++) {
    float want = (float)N * (float)(i % 1021) + (float)(N * (N + 1) / 2);
    if (buf[i] != want) {
      if (wrong++ == 0) first_wrong = i;
    }
  }
  CHECK(wrong == 0);
  CHECK(first_wrong == n);
  CHECK(buf[n] == -7.5f);
}

TEST_CASE("mpi: allreduce_sum_f32, sizes and pieces") {
  check_f32(1, RACT_COMM_DEFAULT_CHUNK_BYTES);
  check_f32(7, RACT_COMM_DEFAULT_CHUNK_BYTES);
  check_f32(1000003, RACT_COMM_DEFAULT_CHUNK_BYTES);
  check_f32(5, 8);           // pieces of 2 floats, the last of 1
  check_f32(12345, 4000);    // pieces of 1000 floats, the last of 345
  check_f32(12345, 4003);    // a piece size that is not a whole number of floats
  check_f32(1000, 1 << 20);  // one piece smaller than chunk_bytes
  check_f32((1 << 24) + 3, RACT_COMM_DEFAULT_CHUNK_BYTES);  // > 2^24 floats: 5 pieces of 4 Mi
}

static void check_f64(size_t n, size_t chunk_bytes) {
  CAPTURE(n);
  CAPTURE(chunk_bytes);
  const int N = g_comm.size, r = g_comm.rank;
  std::vector<double> buf(n + 1);
  // 1e15 + ...: sums that a float would round, exact in a double (below 2^53).
  for (size_t i = 0; i < n; i++) buf[i] = 1e15 + 0.25 * (double)(i % 977) + (double)r;
  buf[n] = 3.0;
  g_comm.chunk_bytes = chunk_bytes;
  ract_error err;
  REQUIRE(ract_comm_allreduce_sum_f64(&g_comm, buf.data(), n, &err) == RACT_OK);
  g_comm.chunk_bytes = RACT_COMM_DEFAULT_CHUNK_BYTES;
  size_t wrong = 0;
  for (size_t i = 0; i < n; i++) {
    double want = N * 1e15 + N * 0.25 * (double)(i % 977) + (double)(N * (N - 1) / 2);
    if (buf[i] != want) wrong++;
  }
  CHECK(wrong == 0);
  CHECK(buf[n] == 3.0);
}

TEST_CASE("mpi: allreduce_sum_f64, sizes and pieces") {
  check_f64(1, RACT_COMM_DEFAULT_CHUNK_BYTES);
  check_f64(3, RACT_COMM_DEFAULT_CHUNK_BYTES);
  check_f64(100003, RACT_COMM_DEFAULT_CHUNK_BYTES);
  check_f64(3, 8);         // pieces of 1 double
  check_f64(10007, 8000);  // pieces of 1000 doubles, the last of 7
  check_f64(10007, 8007);  // a piece size that is not a whole number of doubles
  check_f64((1 << 21) + 1, RACT_COMM_DEFAULT_CHUNK_BYTES);  // 16 MiB + 8 bytes: 2 pieces
}

static void check_bcast(size_t bytes, int root, size_t chunk_bytes) {
  CAPTURE(bytes);
  CAPTURE(root);
  CAPTURE(chunk_bytes);
  std::vector<unsigned char> buf(bytes + 1, 0xEE);
  if (g_comm.rank == root) {
    for (size_t i = 0; i < bytes; i++) buf[i] = (unsigned char)((i * 31 + (size_t)root) & 255);
  }
  g_comm.chunk_bytes = chunk_bytes;
  ract_error err;
  REQUIRE(ract_comm_bcast(&g_comm, buf.data(), bytes, root, &err) == RACT_OK);
  g_comm.chunk_bytes = RACT_COMM_DEFAULT_CHUNK_BYTES;
  size_t wrong = 0;
  for (size_t i = 0; i < bytes; i++) {
    if (buf[i] != (unsigned char)((i * 31 + (size_t)root) & 255)) wrong++;
  }
  CHECK(wrong == 0);
  CHECK(buf[bytes] == 0xEE);
}

TEST_CASE("mpi: bcast from the first and the last rank, sizes and pieces") {
  const int last = g_comm.size - 1;
  for (int root : {0, last}) {
    check_bcast(1, root, RACT_COMM_DEFAULT_CHUNK_BYTES);
    check_bcast(13, root, RACT_COMM_DEFAULT_CHUNK_BYTES);
    check_bcast(13, root, 8);                // pieces of 8 bytes, the last of 5
    check_bcast((1 << 20) + 5, root, 4099);  // 257 pieces, the last of 4
    check_bcast((40 << 20) + 1, root, RACT_COMM_DEFAULT_CHUNK_BYTES);  // 3 pieces
  }
}

TEST_CASE("mpi: barrier") {
  ract_error err;
  for (int i = 0; i < 5; i++) CHECK(ract_comm_barrier(&g_comm, &err) == RACT_OK);
}

TEST_CASE("mpi: agree on the min and the max of an int") {
  const int N = g_comm.size, r = g_comm.rank;
  ract_error err;
  int v = r + 1;
  REQUIRE(ract_comm_agree(&g_comm, &v, RACT_COMM_MAX, &err) == RACT_OK);
  CHECK(v == N);
  v = r + 1;
  REQUIRE(ract_comm_agree(&g_comm, &v, RACT_COMM_MIN, &err) == RACT_OK);
  CHECK(v == 1);
  v = -1000 * r;
  REQUIRE(ract_comm_agree(&g_comm, &v, RACT_COMM_MIN, &err) == RACT_OK);
  CHECK(v == -1000 * (N - 1));
  // A flag raised on the last rank only (stop requested, NaN seen) reaches every rank.
  int stop = r == N - 1;
  REQUIRE(ract_comm_agree(&g_comm, &stop, RACT_COMM_MAX, &err) == RACT_OK);
  CHECK(stop == 1);
  // A flag every rank must hold ("all can go on") fails when one rank lacks it.
  int ok = r != N - 1;
  REQUIRE(ract_comm_agree(&g_comm, &ok, RACT_COMM_MIN, &err) == RACT_OK);
  CHECK(ok == 0);
  int extreme = r == 0 ? INT_MAX : INT_MIN;
  REQUIRE(ract_comm_agree(&g_comm, &extreme, RACT_COMM_MAX, &err) == RACT_OK);
  CHECK(extreme == INT_MAX);
}

TEST_CASE("mpi: an MPI error comes back as RACT_ERR_COMM with MPI's message") {
  // A size larger than the job's passes the shared root check, so the root reaches MPI,
  // which refuses it on every rank (MPI_ERR_ROOT) without any communication.
  ract_error err;
  const int size = g_comm.size;
  g_comm.size = size + 5;
  char byte = 0;
  ract_status s = ract_comm_bcast(&g_comm, &byte, 1, size + 2, &err);
  g_comm.size = size;
  CHECK(s == RACT_ERR_COMM);
  CHECK(err.status == RACT_ERR_COMM);
  std::string msg = err.msg;
  CAPTURE(msg);
  CHECK(msg.find("bcast: MPI error") != std::string::npos);
  CHECK(msg.find("root") != std::string::npos);  // Open MPI: "MPI_ERR_ROOT: invalid root"
  // The communicator still works afterwards.
  CHECK(ract_comm_barrier(&g_comm, &err) == RACT_OK);
}

TEST_CASE("mpi: a second communicator in the same process is refused") {
  ract_comm other;
  ract_error err;
  CHECK(ract_comm_init_mpi(nullptr, nullptr, 1, &other, &err) == RACT_ERR_ARG);
  CHECK(std::string(err.msg).find("already has an MPI communicator") != std::string::npos);
}

// ---------------------------------------------------------------------------------------
// Faults.

static void print_time(const char* what) {
  printf("rank %d: %s=%.3f\n", g_comm.rank, what, unix_time());
  fflush(stdout);
}

static void on_alarm(int) {
  // Async-signal-safe: the time through write(2), then SIGKILL.
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  char line[64];
  int len = snprintf(line, sizeof(line), "fault_time=%lld.%03ld\n", (long long)ts.tv_sec,
                     ts.tv_nsec / 1000000);
  ssize_t unused = write(STDOUT_FILENO, line, (size_t)len);
  (void)unused;
  kill(getpid(), SIGKILL);
}

static int run_fault(const std::string& mode, const char* pid_dir) {
  const bool culprit = g_comm.rank == g_comm.size - 1;
  ract_error err;
  if (ract_comm_barrier(&g_comm, &err) != RACT_OK) {
    fprintf(stderr, "%s\n", err.msg);
    return 1;
  }
  std::vector<float> grad((size_t)4 << 20, 1.0f);  // 16 MiB
  ract_status s = RACT_OK;
  if (mode == "kill_during") {
    std::vector<float> big((size_t)24 << 20, 1.0f);  // 96 MiB
    if (culprit) {
      signal(SIGALRM, on_alarm);
      itimerval t = {};
      t.it_value.tv_usec = 300000;
      setitimer(ITIMER_REAL, &t, nullptr);
    }
    print_time("wait_time");
    // Nothing but allreduces (the values double each time and overflow; nobody reads them).
    for (int i = 0; i < 200 && s == RACT_OK; i++) {
      s = ract_comm_allreduce_sum_f32(&g_comm, big.data(), big.size(), &err);
    }
  } else if (!culprit) {
    print_time("wait_time");
    if (mode == "exit_waiting" || mode == "abort" || mode == "external_kill") {
      s = ract_comm_barrier(&g_comm, &err);
    } else {
      s = ract_comm_allreduce_sum_f32(&g_comm, grad.data(), grad.size(), &err);
    }
  } else {
    usleep(200000);  // the others are waiting by now
    if (mode == "external_kill") {
      std::string path = std::string(pid_dir) + "/pid." + std::to_string(g_comm.rank);
      std::string tmp = path + ".tmp";
      FILE* f = fopen(tmp.c_str(), "w");
      if (f == nullptr || fprintf(f, "%d\n", (int)getpid()) < 0 || fclose(f) != 0 ||
          rename(tmp.c_str(), path.c_str()) != 0) {
        fprintf(stderr, "cannot write %s\n", path.c_str());
        return 1;
      }
      sleep(600);
    }
    print_time("fault_time");
    if (mode == "kill_waiting") {
      raise(SIGKILL);
    } else if (mode == "exit_waiting") {
      exit(3);
    } else if (mode == "abort") {
      ract_comm_abort(&g_comm, 4, "test: this rank gives up");
    } else if (mode == "stuck") {
      sleep(600);
    } else if (mode == "skip") {
      s = ract_comm_finalize(&g_comm, &err);
      printf("rank %d: finalised (%s)\n", g_comm.rank, ract_status_name(s));
      return 0;
    } else {
      fprintf(stderr, "unknown mode %s\n", mode.c_str());
      return 2;
    }
  }
  // Only reached if the job survived the fault.
  printf("rank %d: the collective returned %s %s\n", g_comm.rank, ract_status_name(s),
         s == RACT_OK ? "" : err.msg);
  return 1;
}

int main(int argc, char** argv) {
  std::string mode = "primitives";
  double timeout_s = 60;
  const char* pid_dir = ".";
  std::vector<char*> rest = {argv[0]};
  for (int i = 1; i < argc; i++) {
    if (strncmp(argv[i], "--mode=", 7) == 0) {
      mode = argv[i] + 7;
    } else if (strncmp(argv[i], "--timeout=", 10) == 0) {
      timeout_s = atof(argv[i] + 10);
    } else if (strncmp(argv[i], "--pid_dir=", 10) == 0) {
      pid_dir = argv[i] + 10;
    } else {
      rest.push_back(argv[i]);
    }
  }
  ract_error err;
  if (ract_comm_init_mpi(&argc, &argv, timeout_s, &g_comm, &err) != RACT_OK) {
    fprintf(stderr, "comm_mpi_test: %s\n", err.msg);
    return 1;
  }
  if (mode != "primitives") return run_fault(mode, pid_dir);

  doctest::Context context((int)rest.size(), rest.data());
  context.setOption("no-colors", true);  // mpirun gives the ranks a terminal
  int failed = context.run() != 0;
  // Every rank leaves with the same verdict, so that the job's exit status is the suite's.
  if (ract_comm_agree(&g_comm, &failed, RACT_COMM_MAX, &err) != RACT_OK) {
    fprintf(stderr, "comm_mpi_test: %s\n", err.msg);
    ract_comm_abort(&g_comm, 1, err.msg);
  }
  if (ract_comm_finalize(&g_comm, &err) != RACT_OK) {
    fprintf(stderr, "comm_mpi_test: %s\n", err.msg);
    return 1;
  }
  return failed;
}
