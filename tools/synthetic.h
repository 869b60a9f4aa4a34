// Synthetic datasets for the benchmarks: U users with P distinct items each, item popularity
// ~ 1/(rank + 10) (a Zipf-like tail), split 80/10/10 per user into train / valid truth /
// test truth; the evaluation sets' input and mask are the train rows (RecBole's RS
// protocol). The same seed gives the same data.
#ifndef RACT_TOOLS_SYNTHETIC_H_
#define RACT_TOOLS_SYNTHETIC_H_

#include <stdint.h>

#include "ract/core/status.h"
#include "ract/data/dataset.h"
#include "ract/dist/comm.h"

// Builds ds (overwritten). part: NULL for the whole data; else one rank's part, generated
// as it goes (the whole data never exists in this process): the training rows of the users
// that rank trains and the evaluation rows of its block, the others empty, as
// ract_trainer_keep_own_rows would leave them (counts.partial set; no whole-data
// fingerprint: whole_train_hash is 0).
ract_status ract_synthetic_dataset(ract_dataset* ds, int U, int I, int P, uint64_t seed,
                                   const ract_comm* part, ract_error* err);

#endif  // RACT_TOOLS_SYNTHETIC_H_
