// `train_mpi`: tools/train as one rank of an MPI job (data-parallel training, the same model
// as one process up to the order of float sums). Same flags as tools/train.
//
//   bazel build -c opt //tools:train_mpi
//   mpirun -np 4 bazel-bin/tools/train_mpi --preset=recbole --train=... --valid=...
//       --test=... --out=model.ract
//
// A rank that fails alone (an error the others cannot see) ends the whole job with its
// exit status (MPI_Abort), so that no rank waits for it; an interrupt is agreed by every
// rank, so they all end normally with the same status.
#include <signal.h>
#include <stdio.h>

#include "ract/dist/comm.h"
#include "ract/dist/comm_mpi.h"
#include "tools/train_main.h"

int main(int argc, char** argv) {
  ract_comm comm;
  ract_error err = {};
  if (ract_comm_init_mpi(&argc, &argv, 0, &comm, &err) != RACT_OK) {
    fprintf(stderr, "train_mpi: %s\n", err.msg);
    return 1;
  }
  const int rc = ract_train_main(argc, argv, "train_mpi", &comm);
  fflush(stdout);
  fflush(stderr);
  if (rc != 0 && rc != 2 && rc <= 128) {
    char why[96];
    snprintf(why, sizeof(why), "train_mpi: rank %d of %d failed (its message is above)", comm.rank,
             comm.size);
    ract_comm_abort(&comm, rc, why);
    return rc;
  }
  if (ract_comm_finalize(&comm, &err) != RACT_OK) {
    fprintf(stderr, "train_mpi: %s\n", err.msg);
    return rc != 0 ? rc : 1;
  }
  return rc;
}
