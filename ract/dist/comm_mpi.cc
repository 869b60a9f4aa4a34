// The Open MPI implementation of ract/dist/comm.h: blocking collectives on a duplicate of
// MPI_COMM_WORLD, cut into pieces of at most comm->chunk_bytes, each watched by a
// watchdog thread.
//
// Why a watchdog and not non-blocking collectives polled against a deadline: Open MPI
// progresses an MPI_Iallreduce only inside MPI calls and runs it through libnbc's
// schedules; polled with MPI_Test in a tight loop it took 1.2x to 6x as long as
// MPI_Allreduce between two ranks on this machine (1 to 96 MiB, pieces of 16 MiB, the
// spread due to other jobs on the two cores). The watchdog keeps the blocking calls and
// their speed.
// Before each piece the calling thread records an operation and a deadline; the watchdog
// sleeps until the deadline and, if that same piece is still running, writes a message to
// stderr and ends the process with _exit(RACT_COMM_EXIT_TIMEOUT). It never calls MPI (the
// library asks only for MPI_THREAD_FUNNELED, and a wedged MPI could not be trusted to
// abort); mpirun sees a rank exit with a non-zero status and ends the others, about a
// second later on this machine. A rank that dies outright needs no watchdog: mpirun ends
// the job the same way.
//
// Open MPI is a process-wide singleton, so the state here is one static object: no
// allocation, one communicator per process.
#include "ract/dist/comm_mpi.h"

#include <errno.h>
#include <limits.h>
#include <mpi.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ract/dist/comm.h"

namespace {

// What the calling thread is waiting for, as the watchdog reports it.
struct Pending {
  const char* op;    // "allreduce_sum_f32", "MPI_Init", ...
  size_t count;      // elements of the whole operation (0: none)
  const char* unit;  // "floats", "doubles", "bytes"
  size_t piece;      // 1-based piece of the operation
  size_t pieces;     // number of pieces
  double timeout_s;
};

struct State {
  bool in_use;     // a communicator is initialised
  bool mpi_ours;   // MPI_Init was ours, so is MPI_Finalize
  MPI_Comm comm;   // duplicate of MPI_COMM_WORLD, errors return
  int rank, size;  // -1 before MPI_Init

  bool watchdog_running;
  pthread_t thread;
  pthread_mutex_t mu;
  pthread_cond_t cv;  // on CLOCK_MONOTONIC
  bool quit;
  bool idle;          // the watchdog waits with no deadline: begin() must wake it
  bool active;        // a piece is running
  unsigned long seq;  // which piece (changes at every begin)
  struct timespec deadline;
  Pending pending;
};

State g = {};

struct timespec deadline_after(double seconds) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  if (seconds > 1e9) seconds = 1e9;
  time_t whole = (time_t)seconds;
  long nsec = t.tv_nsec + (long)((seconds - (double)whole) * 1e9);
  t.tv_sec += whole + nsec / 1000000000L;
  t.tv_nsec = nsec % 1000000000L;
  return t;
}

bool reached(const struct timespec& d) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec > d.tv_sec || (t.tv_sec == d.tv_sec && t.tv_nsec >= d.tv_nsec);
}

// The watchdog fires: message on stderr (write(2), not stdio: the main thread may hold a
// stdio lock), then this process ends. Called with g.mu held.
[[noreturn]] void fire() {
  const Pending& p = g.pending;
  char size_text[96] = "";
  if (p.count > 0) snprintf(size_text, sizeof(size_text), " of %zu %s", p.count, p.unit);
  char piece_text[64] = "";
  if (p.pieces > 1)
    snprintf(piece_text, sizeof(piece_text), " (piece %zu of %zu)", p.piece, p.pieces);
  char rank_text[64] = "a rank not yet numbered";
  if (g.rank >= 0) snprintf(rank_text, sizeof(rank_text), "rank %d of %d", g.rank, g.size);
  char msg[512];
  int len = snprintf(msg, sizeof(msg),
                     "ract_comm: %s: %s%s%s did not complete within %g s (another rank died, "
                     "is stuck, or did not call it); ending this rank with exit status %d so "
                     "that mpirun ends the job\n",
                     rank_text, p.op, size_text, piece_text, p.timeout_s, RACT_COMM_EXIT_TIMEOUT);
  if (len > (int)sizeof(msg) - 1) len = (int)sizeof(msg) - 1;
  ssize_t unused = write(STDERR_FILENO, msg, (size_t)len);
  (void)unused;
  _exit(RACT_COMM_EXIT_TIMEOUT);
}

void* watchdog_main(void*) {
  pthread_mutex_lock(&g.mu);
  while (!g.quit) {
    if (!g.active) {
      g.idle = true;
      pthread_cond_wait(&g.cv, &g.mu);
      g.idle = false;
      continue;
    }
    unsigned long seq = g.seq;
    struct timespec deadline = g.deadline;
    int rc = pthread_cond_timedwait(&g.cv, &g.mu, &deadline);
    if (rc == ETIMEDOUT && !g.quit && g.active && g.seq == seq && reached(deadline)) fire();
  }
  pthread_mutex_unlock(&g.mu);
  return nullptr;
}

ract_status watchdog_start(ract_error* err) {
  pthread_condattr_t attr;
  pthread_condattr_init(&attr);
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  pthread_mutex_init(&g.mu, nullptr);
  pthread_cond_init(&g.cv, &attr);
  pthread_condattr_destroy(&attr);
  g.quit = false;
  g.idle = false;
  g.active = false;
  int rc = pthread_create(&g.thread, nullptr, watchdog_main, nullptr);
  if (rc != 0) {
    pthread_cond_destroy(&g.cv);
    pthread_mutex_destroy(&g.mu);
    return ract_fail(err, RACT_ERR_COMM, "ract_comm_init_mpi: cannot start the watchdog: %s",
                     strerror(rc));
  }
  g.watchdog_running = true;
  return RACT_OK;
}

void watchdog_stop() {
  if (!g.watchdog_running) return;
  pthread_mutex_lock(&g.mu);
  g.quit = true;
  pthread_cond_signal(&g.cv);
  pthread_mutex_unlock(&g.mu);
  pthread_join(g.thread, nullptr);
  pthread_cond_destroy(&g.cv);
  pthread_mutex_destroy(&g.mu);
  g.watchdog_running = false;
}

void begin(const Pending& p) {
  pthread_mutex_lock(&g.mu);
  g.pending = p;
  g.seq++;
  g.active = true;
  g.deadline = deadline_after(p.timeout_s);
  if (g.idle) pthread_cond_signal(&g.cv);
  pthread_mutex_unlock(&g.mu);
}

void end() {
  pthread_mutex_lock(&g.mu);
  g.active = false;
  pthread_mutex_unlock(&g.mu);
}

ract_status mpi_fail(ract_error* err, int rc, const char* op) {
  char text[MPI_MAX_ERROR_STRING + 1];
  int len = 0;
  if (MPI_Error_string(rc, text, &len) != MPI_SUCCESS) len = 0;
  text[len] = '\0';
  return ract_fail(err, RACT_ERR_COMM, "ract_comm: rank %d of %d: %s: MPI error %d: %s", g.rank,
                   g.size, op, rc, text);
}

// Elements per piece: chunk_bytes / elem, at least 1, at most INT_MAX (MPI counts are int).
size_t piece_count(const ract_comm* comm, size_t elem) {
  size_t per = comm->chunk_bytes / elem;
  if (per < 1) per = 1;
  if (per > (size_t)INT_MAX) per = (size_t)INT_MAX;
  return per;
}

ract_status allreduce(ract_comm* comm, void* buf, size_t n, size_t elem, MPI_Datatype type,
                      const char* op, const char* unit, ract_error* err) {
  size_t per = piece_count(comm, elem);
  size_t pieces = (n + per - 1) / per;
  char* p = (char*)buf;
  for (size_t k = 0; k < pieces; k++) {
    size_t off = k * per;
    int count = (int)(n - off < per ? n - off : per);
    begin(Pending{op, n, unit, k + 1, pieces, comm->timeout_s});
    int rc = MPI_Allreduce(MPI_IN_PLACE, p + off * elem, count, type, MPI_SUM, g.comm);
    end();
    if (rc != MPI_SUCCESS) return mpi_fail(err, rc, op);
  }
  return RACT_OK;
}

ract_status mpi_allreduce_f32(ract_comm* comm, float* buf, size_t n, ract_error* err) {
  return allreduce(comm, buf, n, sizeof(float), MPI_FLOAT, "allreduce_sum_f32", "floats", err);
}

ract_status mpi_allreduce_f64(ract_comm* comm, double* buf, size_t n, ract_error* err) {
  return allreduce(comm, buf, n, sizeof(double), MPI_DOUBLE, "allreduce_sum_f64", "doubles", err);
}

ract_status mpi_bcast(ract_comm* comm, void* buf, size_t bytes, int root, ract_error* err) {
  size_t per = piece_count(comm, 1);
  size_t pieces = (bytes + per - 1) / per;
  char* p = (char*)buf;
  for (size_t k = 0; k < pieces; k++) {
    size_t off = k * per;
    int count = (int)(bytes - off < per ? bytes - off : per);
    begin(Pending{"bcast", bytes, "bytes", k + 1, pieces, comm->timeout_s});
    int rc = MPI_Bcast(p + off, count, MPI_BYTE, root, g.comm);
    end();
    if (rc != MPI_SUCCESS) return mpi_fail(err, rc, "bcast");
  }
  return RACT_OK;
}

ract_status mpi_barrier(ract_comm* comm, ract_error* err) {
  begin(Pending{"barrier", 0, "", 1, 1, comm->timeout_s});
  int rc = MPI_Barrier(g.comm);
  end();
  return rc == MPI_SUCCESS ? RACT_OK : mpi_fail(err, rc, "barrier");
}

ract_status mpi_agree(ract_comm* comm, int* value, ract_comm_agree_op op, ract_error* err) {
  begin(Pending{op == RACT_COMM_MIN ? "agree (min)" : "agree (max)", 0, "", 1, 1, comm->timeout_s});
  int rc = MPI_Allreduce(MPI_IN_PLACE, value, 1, MPI_INT, op == RACT_COMM_MIN ? MPI_MIN : MPI_MAX,
                         g.comm);
  end();
  return rc == MPI_SUCCESS ? RACT_OK : mpi_fail(err, rc, "agree");
}

// Leaves the process as it found it: MPI finalised only if we initialised it.
void release() {
  watchdog_stop();
  g.in_use = false;
  g.rank = -1;
  g.size = 0;
}

ract_status mpi_finalize(ract_comm* comm, ract_error* err) {
  // The barrier first, so that a rank that finalises while another is still computing
  // waits at most timeout_s (MPI_Finalize alone would wait for ever).
  ract_status s = mpi_barrier(comm, err);
  begin(Pending{"MPI_Comm_free", 0, "", 1, 1, comm->timeout_s});
  int rc = MPI_Comm_free(&g.comm);
  end();
  if (rc != MPI_SUCCESS && s == RACT_OK) s = mpi_fail(err, rc, "MPI_Comm_free");
  if (g.mpi_ours) {
    begin(Pending{"MPI_Finalize", 0, "", 1, 1, comm->timeout_s});
    rc = MPI_Finalize();
    end();
    if (rc != MPI_SUCCESS && s == RACT_OK) s = mpi_fail(err, rc, "MPI_Finalize");
  }
  release();
  return s;
}

void mpi_abort(ract_comm* comm, int exit_code, const char* why) {
  fprintf(stderr, "ract_comm: rank %d of %d: aborting the job (exit status %d): %s\n", g.rank,
          g.size, exit_code, why != nullptr ? why : "");
  fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, exit_code);
  _exit(exit_code);  // MPI_Abort does not return; if it ever did, this rank still ends
}

const ract_comm_impl kMpi = {
    "mpi",       mpi_allreduce_f32, mpi_allreduce_f64, mpi_bcast,
    mpi_barrier, mpi_agree,         mpi_finalize,      mpi_abort,
};

}  // namespace

extern "C" ract_status ract_comm_init_mpi(int* argc, char*** argv, double timeout_s,
                                          ract_comm* comm, ract_error* err) {
  if (comm == nullptr) return ract_fail(err, RACT_ERR_ARG, "ract_comm_init_mpi: comm is NULL");
  if (g.in_use) {
    return ract_fail(err, RACT_ERR_ARG,
                     "ract_comm_init_mpi: this process already has an MPI communicator");
  }
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (finalized) {
    return ract_fail(err, RACT_ERR_ARG,
                     "ract_comm_init_mpi: MPI was finalised in this process and cannot restart");
  }
  if (!(timeout_s > 0)) timeout_s = RACT_COMM_DEFAULT_TIMEOUT_S;
  g.rank = -1;
  g.size = 0;
  RACT_CHECK(watchdog_start(err));

  int initialized = 0;
  MPI_Initialized(&initialized);
  g.mpi_ours = !initialized;
  if (g.mpi_ours) {
    int provided = 0;
    begin(Pending{"MPI_Init_thread", 0, "", 1, 1, timeout_s});
    int rc = MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
    end();
    if (rc != MPI_SUCCESS) {
      release();
      return ract_fail(err, RACT_ERR_COMM, "ract_comm_init_mpi: MPI_Init_thread failed (%d)", rc);
    }
  }
  MPI_Comm_rank(MPI_COMM_WORLD, &g.rank);
  MPI_Comm_size(MPI_COMM_WORLD, &g.size);
  begin(Pending{"MPI_Comm_dup", 0, "", 1, 1, timeout_s});
  int rc = MPI_Comm_dup(MPI_COMM_WORLD, &g.comm);
  end();
  if (rc == MPI_SUCCESS) rc = MPI_Comm_set_errhandler(g.comm, MPI_ERRORS_RETURN);
  if (rc != MPI_SUCCESS) {
    ract_status s = mpi_fail(err, rc, "ract_comm_init_mpi: MPI_Comm_dup");
    if (g.mpi_ours) {
      begin(Pending{"MPI_Finalize", 0, "", 1, 1, timeout_s});
      MPI_Finalize();
      end();
    }
    release();
    return s;
  }
  g.in_use = true;
  memset(comm, 0, sizeof(*comm));
  comm->rank = g.rank;
  comm->size = g.size;
  comm->timeout_s = timeout_s;
  comm->chunk_bytes = RACT_COMM_DEFAULT_CHUNK_BYTES;
  comm->impl = &kMpi;
  return RACT_OK;
}
