// The training tool's whole main, shared by tools/train (one process) and tools/train_mpi
// (one rank of an MPI job): the two binaries differ only in the communicator they pass.
#ifndef RACT_TOOLS_TRAIN_MAIN_H_
#define RACT_TOOLS_TRAIN_MAIN_H_

#include "ract/dist/comm.h"

// Parses argv, loads the data, trains and writes the outputs; returns the exit status
// (0; 2 for a bad command line; 128 + signal after an interrupt, with a checkpoint
// written; 1 for any other failure). name: the tool's name in messages and --help. comm:
// NULL for one process; else this rank's communicator (initialised, not finalised here):
// every rank trains its share of each batch, only rank 0 prints tables and writes files.
int ract_train_main(int argc, char** argv, const char* name, ract_comm* comm);

#endif  // RACT_TOOLS_TRAIN_MAIN_H_
