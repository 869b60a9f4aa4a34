#!/bin/bash
# tools/bench_dist under mpirun -np 2 on a tiny synthetic shape: it runs to the end and
# prints each part (stage times with their allreduce share, both ranks' memory, the batch's
# touched rows, the scaling model). Speeds are not asserted. Prints doctest's counter line.
BENCH="$1"
. tests/check.sh
. tests/dist/mpi_env.sh
timeout -k 5 120 mpirun --oversubscribe -np 2 "$BENCH" --synthetic=400,120,12 --epochs=2 \
  --train_batch_size=50 --mlp_hidden_size=[16] --latent_dimension=8 > "$T/out.txt" 2>&1
rc=$?
sed 's/^/    | /' "$T/out.txt"
check "exit 0 (got $rc)" test $rc -eq 0
check "both ranks' memory" grep -q '^  rank 1: ' "$T/out.txt"
for stage in actor_pretrain critic_pretrain finetune; do
  check "$stage: time and allreduce share" grep -Eq "^$stage +[0-9.]+ +[0-9.]+ s \(" "$T/out.txt"
  check "$stage: scaling model" grep -q "^scaling model, $stage " "$T/out.txt"
done
check "the model's 64-machine row" grep -Eq '^  64 ' "$T/out.txt"
check "touched rows of a batch" grep -q 'a batch of 50 users touches' "$T/out.txt"
finish
