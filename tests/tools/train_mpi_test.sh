#!/bin/bash
# tools/train_mpi under mpirun -np 2 (loopback, oversubscribed; as root in CI) against
# tools/train on a small synthetic dataset:
#   - the same test NDCG@10 as one process, within 0.003 (the same model up to the order
#     of float sums), and a report that counts the whole data (each rank keeps its part);
#   - --stop_after_batches then --resume (both 2 ranks) ends with a weight file
#     byte-identical to an uninterrupted 2-rank run's, and one process refuses that
#     checkpoint;
#   - a SIGTERM sent to rank 1 alone stops every rank at the same batch, rank 0 writes one
#     checkpoint, and the run resumes from it to the end;
#   - kill -9 of rank 1 mid-run ends the job with a non-zero status and a message within
#     30 s.
# Every mpirun runs under timeout(1). Prints doctest's counter line for CI.
TRAIN="$1"
TRAIN_MPI="$2"
. tests/check.sh
. tests/dist/mpi_env.sh
export SOURCE_DATE_EPOCH=1700000000
# Users in 6 taste groups, a small model: 15 batches per epoch (actor batches 1-150, critic
# 151-225, finetune 226-300).
awk 'BEGIN { srand(5); for (u = 0; u < 1500; u++) { g = u % 6; n = 8 + int(rand() * 12);
  for (k = 0; k < n; k++) print "u" u "\ti" (g * 60 + int(rand() * 60)) } }' > "$T/data.tsv"
run=(--data="$T/data.tsv" --pretrain_epochs=10 --critic_epochs=5 --epochs=5
  --train_batch_size=100 --mlp_hidden_size=[64] --latent_dimension=16)
mpi() { timeout -k 5 120 mpirun --oversubscribe -np 2 "$TRAIN_MPI" "$@"; }
# The test NDCG@10 a run printed (the line after "test result").
test_ndcg10() { awk '/^test result/ { getline; for (i = 1; i <= NF; i++) if ($i == "ndcg@10")
  print $(i + 2) }' "$1"; }
show() { sed 's/^/    | /' "$1"; }

"$TRAIN" "${run[@]}" --out="$T/one.ract" --report="$T/one.json" > "$T/one.txt" 2>&1
rc=$?
check "one process: exit 0 (got $rc)" test $rc -eq 0 || show "$T/one.txt"
mpi "${run[@]}" --out="$T/two.ract" --report="$T/two.json" > "$T/two.txt" 2>&1
rc=$?
check "2 ranks: exit 0 (got $rc)" test $rc -eq 0 || show "$T/two.txt"
one=$(test_ndcg10 "$T/one.txt")
two=$(test_ndcg10 "$T/two.txt")
echo "test ndcg@10: one process $one, 2 ranks $two"
check "test ndcg@10 within 0.003 ($one vs $two)" awk -v a="$one" -v b="$two" \
  'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a != "" && b != "" && d <= 0.003) }'
check "2 ranks: the tables once (rank 0 alone prints)" test "$(grep -c '^test result' \
  "$T/two.txt")" -eq 1
check "2 ranks: a valid weight file" test -s "$T/two.ract"
# Each rank keeps only its users' rows; the report still counts the whole data.
train_count() { grep -o '"train": [0-9]*' "$1" | head -1; }
check "2 ranks: the report counts the whole training data ($(train_count "$T/two.json"))" \
  test "$(train_count "$T/one.json")" = "$(train_count "$T/two.json")"

# --stop_after_batches (in the critic stage), then --resume.
mpi "${run[@]}" --quiet --out="$T/part.ract" --stop_after_batches=170 > "$T/stop.txt" 2>&1
rc=$?
check "stop_after_batches: exit 130 (got $rc)" test $rc -eq 130 || show "$T/stop.txt"
check "stop_after_batches: one checkpoint message" test "$(grep -c 'wrote checkpoint' \
  "$T/stop.txt")" -eq 1
check "stop_after_batches: no weight file yet" test ! -e "$T/part.ract"
mpi "${run[@]}" --quiet --out="$T/part.ract" --resume="$T/part.ract.ckpt" > "$T/resume.txt" 2>&1
rc=$?
check "resume: exit 0 (got $rc)" test $rc -eq 0 || show "$T/resume.txt"
check "resume: byte-identical to the uninterrupted 2-rank run" cmp "$T/part.ract" "$T/two.ract"
"$TRAIN" "${run[@]}" --quiet --out="$T/x.ract" --resume="$T/part.ract.ckpt" > "$T/x.txt" 2>&1
rc=$?
check "one process refuses a 2-rank checkpoint (exit $rc)" test $rc -ne 0
check "... and says why" grep -q 'same number of ranks' "$T/x.txt"

# The pid of rank $1 among the processes whose command line holds $2 (mpirun gives each
# rank its rank in the environment).
rank_pid() {
  local p
  for p in $(pgrep -f -- "$2"); do
    if tr '\0' '\n' < "/proc/$p/environ" 2> /dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$1"; then
      echo "$p"
      return
    fi
  done
}
# Starts a long 2-rank run in the background (job = timeout's pid), waits for its second
# epoch line, sets victim to rank 1's pid.
start_long() {
  mpi "${run[@]}" --pretrain_epochs=100 --out="$T/$1.ract" > "$T/$1.txt" 2>&1 &
  job=$!
  victim=""
  for _ in $(seq 1 600); do
    grep -q 'actor_pretrain  epoch   2 ' "$T/$1.txt" && victim=$(rank_pid 1 "--out=$T/$1.ract")
    [ -n "$victim" ] && break
    sleep 0.05
  done
}

# SIGTERM to rank 1 alone: both ranks stop at the same batch, rank 0 writes the checkpoint.
start_long term
check "sigterm: found rank 1" test -n "$victim"
kill -TERM "$victim"
wait "$job"
rc=$?
check "sigterm: exit 143 (got $rc)" test $rc -eq 143 || show "$T/term.txt"
check "sigterm: one checkpoint" test "$(grep -c 'wrote checkpoint' "$T/term.txt")" -eq 1
mpi "${run[@]}" --pretrain_epochs=100 --quiet --out="$T/term.ract" \
  --resume="$T/term.ract.ckpt" > "$T/term2.txt" 2>&1 &
wait $!
rc=$?
check "sigterm: resume exit 0 (got $rc)" test $rc -eq 0 || show "$T/term2.txt"
check "sigterm: resumed to the weight file" test -s "$T/term.ract"

# kill -9 of rank 1: the job ends, non-zero, with a message, within 30 s.
start_long kill
check "kill -9: found rank 1" test -n "$victim"
t0=$(date +%s.%N)
kill -9 "$victim"
wait "$job"
rc=$?
secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
echo "kill -9 of rank 1: exit $rc after $secs s"
check "kill -9: non-zero exit (got $rc)" test $rc -ne 0
check "kill -9: ended within 30 s ($secs s)" awk -v s="$secs" 'BEGIN { exit !(s < 30) }'
check "kill -9: message" grep -q 'exited on signal 9' "$T/kill.txt" || show "$T/kill.txt"
finish
