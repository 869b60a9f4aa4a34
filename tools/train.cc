// `train`: RaCT's three stages on a dataset, then the test table, the weight file, and
// optionally a JSON report and an SVG plot of the run (one process; tools/train_main.cc).
//
//   bazel run -c opt //tools:train                      # the shipped MovieLens latest-small
//   bazel run -c opt //tools:train -- --preset=recbole
//       --train=.../train.tsv --valid=.../valid.tsv --test=.../test.tsv --out=model.ract
//
// Hyper-parameter flags carry RecBole's config keys (`--mlp_hidden_size=[600]`,
// `--learning_rate=1e-3`, ...); `--preset` (ract | paper | recbole) sets every default first.
#include "tools/train_main.h"

int main(int argc, char** argv) { return ract_train_main(argc, argv, "train", nullptr); }
