// The Open MPI communicator (//ract/dist:comm_mpi): one rank per process, started by
// mpirun. The operations are ract/dist/comm.h's; this header adds only its init, and does
// not include <mpi.h> (ract/dist/comm_mpi.cc is the one file in ract/ that does).
#ifndef RACT_DIST_COMM_MPI_H_
#define RACT_DIST_COMM_MPI_H_

#include "ract/dist/comm.h"

#ifdef __cplusplus
extern "C" {
#endif

// Initialises MPI (MPI_Init_thread, MPI_THREAD_FUNNELED, unless the program already did)
// and fills comm with this process's rank and the job's size, over a duplicate of
// MPI_COMM_WORLD whose errors return (MPI_ERRORS_RETURN) as RACT_ERR_COMM with MPI's
// message. timeout_s (<= 0: RACT_COMM_DEFAULT_TIMEOUT_S) bounds the start-up and becomes
// comm->timeout_s. Starts the watchdog thread (comm.h); it never calls MPI.
// One MPI communicator per process: a second call before ract_comm_finalize, or any call
// after MPI was finalised, is RACT_ERR_ARG. Run without mpirun, MPI starts a job of one.
ract_status ract_comm_init_mpi(int* argc, char*** argv, double timeout_s, ract_comm* comm,
                               ract_error* err);

#ifdef __cplusplus
}  // extern "C"
#endif

#endif  // RACT_DIST_COMM_MPI_H_
