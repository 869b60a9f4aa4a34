// The communicator of data-parallel training: the few collectives a trainer needs to keep N
// replicas of the model in step (gradient and metric sums, a broadcast of the initial
// weights, a barrier, and agreeing on a flag such as "stop", "NaN seen" or "early stop").
//
// One header, two implementations behind a table of function pointers, so that the
// trainer's code path is the same for 1 and N ranks:
//   - ract_comm_init_local (here, //ract/dist:comm, part of //ract): one process, rank 0 of
//     1; every collective is the identity. tools/train links only this.
//   - ract_comm_init_mpi (ract/dist/comm_mpi.h, //ract/dist:comm_mpi): Open MPI, one rank
//     per process, started by mpirun. Only tools built for MPI link it.
//
// Every rank must call the same collectives in the same order with the same sizes (and
// root); data always moves in place. Only the thread that initialised the communicator may
// call it.
//
// Faults never hang the job. Under mpirun, a rank that dies (signal, exit without
// ract_comm_finalize) makes mpirun end the others within about a second, with mpirun's
// own message and the dead rank's exit status. A rank that is alive but does not arrive
// (stuck in a long compute, or skipping a collective) is caught by a watchdog: a collective
// that has not completed after `timeout_s` seconds ends its own process with exit status
// RACT_COMM_EXIT_TIMEOUT and a message naming the rank, the operation, its size and the
// timeout, and mpirun then ends the rest of the job. An MPI error returned by a call
// becomes RACT_ERR_COMM with MPI's error string; the caller then calls ract_comm_abort
// (a rank that just returns would leave the others waiting until their timeout).
#ifndef RACT_DIST_COMM_H_
#define RACT_DIST_COMM_H_

#include <stddef.h>

#include "ract/core/status.h"

#ifdef __cplusplus
extern "C" {
#endif

// Default bound on one collective, in seconds (ract_comm.timeout_s).
#define RACT_COMM_DEFAULT_TIMEOUT_S 300.0
// Default largest piece of one collective call (ract_comm.chunk_bytes): 16 MiB. A bigger
// buffer goes through in pieces of this size (MPI counts are ints, and Open MPI's own
// temporary buffer stays small enough to be reused rather than mapped afresh every call;
// see tools/bench_comm).
#define RACT_COMM_DEFAULT_CHUNK_BYTES ((size_t)16 << 20)
// Exit status of a rank whose collective timed out (EX_TEMPFAIL: resume from the last
// checkpoint).
#define RACT_COMM_EXIT_TIMEOUT 75

typedef enum ract_comm_agree_op {
  RACT_COMM_MIN = 0,  // all ranks get the smallest value (e.g. "every rank can go on")
  RACT_COMM_MAX = 1,  // all ranks get the largest value (e.g. "some rank wants to stop")
} ract_comm_agree_op;

typedef struct ract_comm ract_comm;

// An implementation. Called only through the ract_comm_* functions below, which check the
// arguments first.
typedef struct ract_comm_impl {
  const char* name;  // "local" or "mpi"
  ract_status (*allreduce_f32)(ract_comm* comm, float* buf, size_t n, ract_error* err);
  ract_status (*allreduce_f64)(ract_comm* comm, double* buf, size_t n, ract_error* err);
  ract_status (*bcast)(ract_comm* comm, void* buf, size_t bytes, int root, ract_error* err);
  ract_status (*barrier)(ract_comm* comm, ract_error* err);
  ract_status (*agree)(ract_comm* comm, int* value, ract_comm_agree_op op, ract_error* err);
  ract_status (*finalize)(ract_comm* comm, ract_error* err);
  void (*abort)(ract_comm* comm, int exit_code, const char* why);
} ract_comm_impl;

struct ract_comm {
  int rank;  // 0 .. size-1; rank 0 writes the outputs
  int size;  // number of ranks (1 for the local communicator)
  // Bound, in seconds, on each collective call (on each piece of a call cut in pieces),
  // read at every call: a phase where ranks are expected to wait for each other longer may
  // raise it. Ignored by the local communicator.
  double timeout_s;
  // Largest piece of a collective, in bytes (>= 8); bigger buffers go in pieces.
  size_t chunk_bytes;
  const ract_comm_impl* impl;  // NULL until initialised
};

// Single process: rank 0 of 1, every collective is the identity. Cannot fail but on a
// NULL comm.
ract_status ract_comm_init_local(ract_comm* comm, ract_error* err);

// buf[i] = sum over ranks of buf[i], i < n, on every rank. float for gradients; double for
// sums that must not lose digits (metric sums, BatchNorm statistics, losses, counts).
ract_status ract_comm_allreduce_sum_f32(ract_comm* comm, float* buf, size_t n, ract_error* err);
ract_status ract_comm_allreduce_sum_f64(ract_comm* comm, double* buf, size_t n, ract_error* err);

// buf[0, bytes) of rank `root` copied to every rank's buf.
ract_status ract_comm_bcast(ract_comm* comm, void* buf, size_t bytes, int root, ract_error* err);

// Returns when every rank has entered it.
ract_status ract_comm_barrier(ract_comm* comm, ract_error* err);

// *value = the min or max of *value over ranks, on every rank: all ranks take the same
// branch after it (stop requested, NaN seen, early stop).
ract_status ract_comm_agree(ract_comm* comm, int* value, ract_comm_agree_op op, ract_error* err);

// Ends the communicator once every rank has called it (a barrier bounded by timeout_s,
// then MPI_Finalize). comm is uninitialised afterwards.
ract_status ract_comm_finalize(ract_comm* comm, ract_error* err);

// Ends the whole job now, with exit_code and `why` on stderr (MPI_Abort). For a rank that
// hits an error the others cannot know about. The local communicator does nothing and
// returns: the caller then returns its exit code as usual.
void ract_comm_abort(ract_comm* comm, int exit_code, const char* why);

#ifdef __cplusplus
}  // extern "C"
#endif

#endif  // RACT_DIST_COMM_H_
