#!/bin/bash
# Interrupting tools/train: SIGINT writes a checkpoint and a resumed run ends with a weight
# file byte-identical to an uninterrupted run's; SIGKILL at random moments never leaves a
# half-written output (every output path is absent or a complete file whose CRC passes), and
# training resumes from the last checkpoint. Prints doctest's counter line for CI.
TRAIN="$1"
SCORE="$2"
TRIALS="${3:-20}"
. tests/check.sh
export SOURCE_DATE_EPOCH=1700000000
# Synthetic users in 6 taste groups, a small model: a whole run takes about a second.
awk 'BEGIN { srand(5); for (u = 0; u < 1500; u++) { g = u % 6; n = 8 + int(rand() * 12);
  for (k = 0; k < n; k++) print "u" u "\ti" (g * 60 + int(rand() * 60)) } }' > "$T/data.tsv"
run=(--data="$T/data.tsv" --pretrain_epochs=10 --critic_epochs=5 --epochs=5
  --train_batch_size=100 --mlp_hidden_size=[64] --latent_dimension=16 --quiet)

"$TRAIN" "${run[@]}" --out="$T/ref.ract" > /dev/null 2>&1
check "reference run" test $? -eq 0

# SIGINT: finish the batch, write a checkpoint, say how to resume, exit 130.
"$TRAIN" "${run[@]}" --out="$T/int.ract" --checkpoint="$T/int.ckpt" > "$T/int.txt" 2>&1 &
pid=$!
sleep 0.6
kill -INT $pid
wait $pid
rc=$?
if [ $rc -eq 0 ]; then
  echo "SIGINT came after the run ended; the interrupt checks are skipped"
else
  check "SIGINT exit code 130 (got $rc)" test $rc -eq 130
  check "SIGINT says how to resume" grep -q -- "--resume=$T/int.ckpt" "$T/int.txt"
  check "no weight file from an interrupted run" test ! -e "$T/int.ract"
  "$TRAIN" "${run[@]}" --out="$T/int.ract" --checkpoint="$T/int.ckpt" \
    --resume="$T/int.ckpt" > "$T/resume.txt" 2>&1
  check "resume exit code" test $? -eq 0
  check "resumed run: byte-identical weight file" cmp "$T/int.ract" "$T/ref.ract"
fi

# SIGKILL at random moments, with a checkpoint every epoch.
corrupt=0
resumed=0
for i in $(seq 1 "$TRIALS"); do
  rm -f "$T"/k.ract* "$T"/k.ckpt*
  "$TRAIN" "${run[@]}" --out="$T/k.ract" --checkpoint="$T/k.ckpt" --checkpoint_every=1 \
    > /dev/null 2>&1 &
  pid=$!
  sleep "$(awk -v r=$RANDOM 'BEGIN { printf "%.2f", 0.02 + 1.2 * r / 32768 }')"
  kill -KILL $pid 2> /dev/null
  wait $pid 2> /dev/null
  for f in "$T/k.ract" "$T/k.ckpt"; do
    if [ -e "$f" ] && ! "$SCORE" --model "$f" --info > /dev/null 2>&1; then
      corrupt=$((corrupt + 1))
      echo "trial $i: $f is corrupt"
    fi
  done
  if [ -e "$T/k.ckpt" ] && [ ! -e "$T/k.ract" ]; then
    "$TRAIN" "${run[@]}" --out="$T/k.ract" --checkpoint="$T/k.ckpt" --checkpoint_every=1 \
      --resume="$T/k.ckpt" > "$T/k.txt" 2>&1
    check "trial $i: resume from the last checkpoint" test $? -eq 0
    check "trial $i: resumed weight file equals the reference" cmp -s "$T/k.ract" "$T/ref.ract"
    resumed=$((resumed + 1))
  fi
done
echo "SIGKILL trials: $TRIALS, corrupt files: $corrupt, resumed from a checkpoint: $resumed"
check "no corrupt file in $TRIALS SIGKILL trials" test $corrupt -eq 0
check "some trials were killed mid-run and resumed" test $resumed -gt 0

finish
