#!/bin/bash
# Interrupting tools/train, without timing guesses:
#   - --stop_after_batches=N stops a run in each stage through the SIGINT path (exit 130, a
#     checkpoint, the --resume command), and the resumed run ends with a weight file
#     byte-identical to an uninterrupted run's;
#   - --resume refuses a checkpoint whose run differs from the command line (exit 2, the key
#     and both values named) and accepts one that differs only in threads/outputs;
#   - real SIGINT (also when the shell started the job with SIGINT ignored) and SIGTERM,
#     sent once the tool says its handlers are in place, stop it cleanly;
#   - SIGKILL at random moments never leaves a half-written output (every output path is
#     absent or a complete file whose CRC passes), and training resumes from the last
#     checkpoint. Every trial is classified and counted; none is skipped.
# Every tool invocation's exit code is checked. Prints doctest's counter line for CI.
TRAIN="$1"
SCORE="$2"
TRIALS="${3:-20}"
. tests/check.sh
export SOURCE_DATE_EPOCH=1700000000
# Synthetic users in 6 taste groups, a small model: a whole run takes about a second
# (15 batches per epoch: actor batches 1-150, critic 151-225, finetune 226-300).
awk 'BEGIN { srand(5); for (u = 0; u < 1500; u++) { g = u % 6; n = 8 + int(rand() * 12);
  for (k = 0; k < n; k++) print "u" u "\ti" (g * 60 + int(rand() * 60)) } }' > "$T/data.tsv"
run=(--data="$T/data.tsv" --pretrain_epochs=10 --critic_epochs=5 --epochs=5
  --train_batch_size=100 --mlp_hidden_size=[64] --latent_dimension=16)

# wait_exit PID SECONDS: waits for a background job; rc = its exit code, or 999 when it was
# still running at the deadline (then it is killed).
wait_exit() {
  local pid="$1" deadline=$((SECONDS + $2))
  while kill -0 "$pid" 2> /dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.05; done
  if kill -0 "$pid" 2> /dev/null; then
    kill -KILL "$pid" 2> /dev/null
    wait "$pid" 2> /dev/null
    rc=999
    return
  fi
  wait "$pid" 2> /dev/null
  rc=$?
}

# wait_line FILE PATTERN PID SECONDS: 0 once FILE holds PATTERN; 1 if the process ended or
# the deadline passed first.
wait_line() {
  local deadline=$(($SECONDS + $4))
  while [ "$SECONDS" -lt "$deadline" ]; do
    grep -q -- "$2" "$1" 2> /dev/null && return 0
    kill -0 "$3" 2> /dev/null || { grep -q -- "$2" "$1" 2> /dev/null; return; }
    sleep 0.02
  done
  return 1
}

ms() { echo $(($(date +%s%N) / 1000000)); }

t0=$(ms)
"$TRAIN" "${run[@]}" --quiet --out="$T/ref.ract" > "$T/ref.txt" 2>&1
rc=$?
ref_ms=$(($(ms) - t0))
check "reference run: exit 0 (got $rc)" test $rc -eq 0
check "reference run: weight file" test -s "$T/ref.ract"

# 1. --stop_after_batches: the SIGINT path at a known batch of each stage.
for stop in 37:actor_pretrain 160:critic_pretrain 260:finetune; do
  n="${stop%%:*}"
  stage="${stop#*:}"
  rm -f "$T"/h.*
  "$TRAIN" "${run[@]}" --quiet --out="$T/h.ract" --checkpoint="$T/h.ckpt" \
    --stop_after_batches="$n" > "$T/h.txt" 2>&1
  rc=$?
  check "stop after $n batches: exit 130 (got $rc)" test $rc -eq 130
  check "  ... names the stage it stopped in" grep -q "interrupted in stage $stage" "$T/h.txt"
  check "  ... says how to resume" grep -q -- "--resume=$T/h.ckpt" "$T/h.txt"
  check "  ... writes no weight file" test ! -e "$T/h.ract"
  "$SCORE" --model "$T/h.ckpt" --info > /dev/null 2>&1
  rc=$?
  check "  ... its checkpoint is complete (score --info exit $rc)" test $rc -eq 0
  "$TRAIN" "${run[@]}" --out="$T/h.ract" --checkpoint="$T/h.ckpt" --resume="$T/h.ckpt" \
    > "$T/h_resume.txt" 2>&1
  rc=$?
  check "  ... resume: exit 0 (got $rc)" test $rc -eq 0
  check "  ... resume starts in $stage" grep -q "resuming $T/h.ckpt at $stage" "$T/h_resume.txt"
  check "  ... resumed run: byte-identical weight file" cmp "$T/h.ract" "$T/ref.ract"
done

# 2. --resume checks the command line against the checkpoint's run. A checkpoint in the
# actor stage, kept aside to see that a refusal leaves it alone.
rm -f "$T"/c.*
"$TRAIN" "${run[@]}" --quiet --out="$T/c.ract" --checkpoint="$T/c.ckpt" \
  --stop_after_batches=20 > /dev/null 2>&1
rc=$?
check "checkpoint for the resume checks: exit 130 (got $rc)" test $rc -eq 130
cp "$T/c.ckpt" "$T/c.orig"
# flag|key and the checkpoint's value|the command line's value
for d in "--epochs=6|epochs=5|epochs=6" \
  "--pretrain_epochs=11|pretrain_epochs=10|pretrain_epochs=11" \
  "--learning_rate=0.002|learning_rate=0.00100000005|learning_rate=0.00200000009" \
  "--train_batch_size=50|train_batch_size=100|train_batch_size=50" \
  "--mlp_hidden_size=[32]|mlp_hidden_size=[64]|mlp_hidden_size=[32]" \
  "--latent_dimension=8|latent_dimension=16|latent_dimension=8" \
  "--dropout_prob=0.4|dropout_prob=0.5|dropout_prob=0.400000006" \
  "--seed=7|seed=2020|seed=7" \
  "--preset=recbole|preset=ract|preset=recbole" \
  "--valid_metric=ndcg@10|valid_metric=ndcg@100|valid_metric=ndcg@10" \
  "--topk=10,100,20|topk=10,100|topk=10,100,20" \
  "--train_stage=actor_pretrain|train_stage=all|train_stage=actor_pretrain" \
  "--stopping_step=3|stopping_step=0|stopping_step=3"; do
  IFS='|' read -r flag saved given <<< "$d"
  "$TRAIN" "${run[@]}" "$flag" --quiet --out="$T/c.ract" --checkpoint="$T/c.ckpt" \
    --resume="$T/c.ckpt" > "$T/c.txt" 2>&1
  rc=$?
  check "resume with $flag: refused, exit 2 (got $rc)" test $rc -eq 2
  check "  ... names the checkpoint's $saved" grep -qF -- "$saved," "$T/c.txt"
  check "  ... and the command line's $given" grep -qF -- "command line $given;" "$T/c.txt"
  check "  ... writes no weight file" test ! -e "$T/c.ract"
  check "  ... leaves the checkpoint as it was" cmp -s "$T/c.ckpt" "$T/c.orig"
done
# Accepted: other outputs, progress output, a report (not part of the run).
"$TRAIN" "${run[@]}" --out="$T/c.ract" --checkpoint="$T/c.ckpt" --resume="$T/c.ckpt" \
  --report="$T/c.json" > "$T/c.txt" 2>&1
rc=$?
check "resume with other outputs and without --quiet: exit 0 (got $rc)" test $rc -eq 0
check "  ... byte-identical weight file" cmp "$T/c.ract" "$T/ref.ract"
check "  ... and the report" test -s "$T/c.json"
# Accepted: another thread count.
cp "$T/c.orig" "$T/c2.ckpt"
"$TRAIN" "${run[@]}" --quiet --out="$T/c2.ract" --checkpoint="$T/c2.ckpt" \
  --resume="$T/c2.ckpt" --threads=2 > "$T/c2.txt" 2>&1
rc=$?
check "resume with --threads=2: exit 0 (got $rc)" test $rc -eq 0
check "  ... weight file" test -s "$T/c2.ract"

# 3. Real signals, sent once the tool says its handlers are installed (before it loads the
# data). The run is far too long to end first: each must stop it within the deadline.
long=(--data="$T/data.tsv" --pretrain_epochs=100000 --train_batch_size=100
  --mlp_hidden_size=[64] --latent_dimension=16)
ready="SIGINT or SIGTERM: stop after the current batch"
for sig in "INT:130:SIGINT, the job started with SIGINT ignored" \
  "INT:130:SIGINT, a background job" "TERM:143:SIGTERM"; do
  IFS=: read -r name code what <<< "$sig"
  rm -f "$T"/s.*
  if [ "$what" != "${what%ignored}" ]; then
    (
      trap '' INT
      exec "$TRAIN" "${long[@]}" --out="$T/s.ract" --checkpoint="$T/s.ckpt" > "$T/s.txt" 2>&1
    ) &
  else
    "$TRAIN" "${long[@]}" --out="$T/s.ract" --checkpoint="$T/s.ckpt" > "$T/s.txt" 2>&1 &
  fi
  pid=$!
  wait_line "$T/s.txt" "$ready" "$pid" 30
  check "$what: the tool says its handlers are installed" test $? -eq 0
  kill -"$name" "$pid" 2> /dev/null
  wait_exit "$pid" 30
  check "$what: exit $code (got $rc)" test $rc -eq "$code"
  check "  ... says how to resume" grep -q -- "--resume=$T/s.ckpt" "$T/s.txt"
  check "  ... writes no weight file" test ! -e "$T/s.ract"
  "$SCORE" --model "$T/s.ckpt" --info > /dev/null 2>&1
  rc=$?
  check "  ... its checkpoint is complete (score --info exit $rc)" test $rc -eq 0
done
# The last checkpoint resumes (one batch, then the testing aid stops it again).
"$TRAIN" "${long[@]}" --out="$T/s.ract" --checkpoint="$T/s.ckpt" --resume="$T/s.ckpt" \
  --stop_after_batches=1 > "$T/s2.txt" 2>&1
rc=$?
check "resume after SIGTERM, stop after 1 batch: exit 130 (got $rc)" test $rc -eq 130
check "  ... it resumed" grep -q "resuming $T/s.ckpt at actor_pretrain" "$T/s2.txt"

# 4. SIGKILL at random moments of a run with a checkpoint every epoch. Each trial ends as
# one of: killed before its first checkpoint, killed mid-run (resumed from the last
# checkpoint to the reference weights), killed after its weight file, or finished first.
before=0
resumed=0
after=0
finished=0
corrupt=0
for i in $(seq 1 "$TRIALS"); do
  rm -f "$T"/k.ract* "$T"/k.ckpt*
  "$TRAIN" "${run[@]}" --quiet --out="$T/k.ract" --checkpoint="$T/k.ckpt" --checkpoint_every=1 \
    > "$T/k.txt" 2>&1 &
  pid=$!
  # A moment in the reference run's duration (+10%), whatever this machine's speed.
  sleep "$(awk -v r=$RANDOM -v d="$ref_ms" 'BEGIN { printf "%.3f", 1.1 * d * r / 32768 / 1000 }')"
  kill -KILL "$pid" 2> /dev/null
  wait_exit "$pid" 60
  check "trial $i: killed (137) or finished first (0), got $rc" test $rc -eq 137 -o $rc -eq 0
  for f in "$T/k.ract" "$T/k.ckpt"; do
    if [ -e "$f" ] && ! "$SCORE" --model "$f" --info > /dev/null 2>&1; then
      corrupt=$((corrupt + 1))
      echo "trial $i: $f is corrupt"
    fi
  done
  if [ $rc -eq 0 ]; then
    finished=$((finished + 1))
    check "trial $i: finished first, weight file equals the reference" cmp -s "$T/k.ract" "$T/ref.ract"
  elif [ -e "$T/k.ract" ]; then
    after=$((after + 1))
    check "trial $i: killed after its weight file, which equals the reference" \
      cmp -s "$T/k.ract" "$T/ref.ract"
  elif [ -e "$T/k.ckpt" ]; then
    "$TRAIN" "${run[@]}" --quiet --out="$T/k.ract" --checkpoint="$T/k.ckpt" --checkpoint_every=1 \
      --resume="$T/k.ckpt" > "$T/k.txt" 2>&1
    rc=$?
    check "trial $i: resume from the last checkpoint, exit 0 (got $rc)" test $rc -eq 0
    check "trial $i: resumed weight file equals the reference" cmp -s "$T/k.ract" "$T/ref.ract"
    resumed=$((resumed + 1))
  else
    before=$((before + 1))
  fi
done
echo "SIGKILL trials: $TRIALS: killed before the first checkpoint $before, mid-run and" \
  "resumed $resumed, after the weight file $after, finished first $finished; corrupt files $corrupt"
check "every trial classified" test $((before + resumed + after + finished)) -eq "$TRIALS"
check "no corrupt file in $TRIALS SIGKILL trials" test $corrupt -eq 0
check "some trials were killed mid-run and resumed ($resumed)" test $resumed -gt 0

finish
