#!/bin/bash
# tools/bench end to end on a tiny synthetic shape: exit code, the report's keys (exactly
# the names the issue asks for), --load_only, bad flags. No timing is asserted. Prints
# doctest's counter line so CI counts the checks.
BENCH="$1"
. tests/check.sh

"$BENCH" --synthetic=300,120,15 --epochs=2 --score_users=20 --threads=2 \
  --mlp_hidden_size=[32] --latent_dimension=16 --train_batch_size=64 --eval_batch=50 \
  --report="$T/bench.json" > "$T/out.txt" 2>&1
rc=$?
check "bench exit code (got $rc)" test $rc -eq 0 || cat "$T/out.txt"
R="$T/bench.json"
check "report written" test -s "$R"
# Every key of the report, at its place.
for key in '"threads": 2' '"blis_kernel": "' '"dataset": {"name": "synthetic' \
    '"load_seconds": ' '"train": {' '"actor_pretrain": {' \
    '"critic_pretrain": {' '"finetune": {' '"seconds_per_epoch": ' \
    '"floor_seconds_per_epoch": ' '"ratio": ' '"eval": {"seconds": ' '"floor_seconds": ' \
    '"score": {"floor_us": ' '"fp32": {"p50_us": ' '"fp16": {"p50_us": ' \
    '"int8": {"p50_us": ' '"p99_us": ' '"peak_rss_mb": ' '"weight_bytes": {"fp32": '; do
  check "report has $key" grep -qF "$key" "$R"
done
if command -v python3 > /dev/null; then
  check "report is valid JSON" python3 -c "import json,sys; json.load(open(sys.argv[1]))" "$R"
else
  skip "report is valid JSON: no python3"
fi
# Three stages with a ratio each, and sizes that make sense: int8 < fp16 < fp32 bytes.
check "three stages" test "$(grep -c '"floor_seconds_per_epoch"' "$R")" = 3
n='\([0-9]*\)'
sizes=$(sed -n "s/.*\"weight_bytes\": {\"fp32\": $n, \"fp16\": $n, \"int8\": $n}.*/\1 \2 \3/p" "$R")
read -r f32 f16 i8 <<< "$sizes"
check "weight bytes int8 < fp16 < fp32 ($sizes)" \
  test -n "$f32" -a "${i8:-0}" -lt "${f16:-0}" -a "${f16:-0}" -lt "${f32:-0}"
# No NaN or inf anywhere (every time and ratio was measured).
check "no non-finite value" bash -c "! grep -qiE 'nan|inf' '$R'"

# One stage only.
"$BENCH" --synthetic=200,100,10 --epochs=1 --score_users=5 --stages=actor_pretrain \
  --mlp_hidden_size=[16] --latent_dimension=8 --report="$T/one.json" > /dev/null 2>&1
rc=$?
check "one stage: exit code (got $rc)" test $rc -eq 0
check "one stage: actor_pretrain" grep -qF '"actor_pretrain"' "$T/one.json"
check "one stage: no finetune" bash -c "! grep -qF '\"finetune\"' '$T/one.json'"

# The load alone: the dataset's figures and nothing trained.
"$BENCH" --synthetic=200,100,10 --load_only --report="$T/load.json" > /dev/null 2>&1
rc=$?
check "load only: exit code (got $rc)" test $rc -eq 0
check "load only: load_seconds" grep -qE '"load_seconds": [0-9]+\.[0-9]+' "$T/load.json"
check "load only: 200 users" grep -qF '"users": 200' "$T/load.json"
check "load only: nothing trained" bash -c "! grep -qF '\"train\"' '$T/load.json'"

# Bad flags: exit 2 with a message naming the flag.
for bad in --synthetic=10,20 --threads=0 --epochs=x --nonsense --load_only=1; do
  "$BENCH" "$bad" > "$T/bad.txt" 2>&1
  rc=$?
  check "$bad exits 2 (got $rc)" test $rc -eq 2
  check "$bad is named" grep -q -- "${bad%%=*}" "$T/bad.txt"
done

finish
