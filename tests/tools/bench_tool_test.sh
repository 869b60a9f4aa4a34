#!/bin/bash
# tools/bench end to end on a tiny synthetic shape: exit code, the report's keys (exactly
# the names the issue asks for), bad flags. No timing is asserted.
set -u
BENCH="$1"
T="${TEST_TMPDIR:-$(mktemp -d)}"
fail() { echo "FAIL: $*"; exit 1; }

"$BENCH" --synthetic=300,120,15 --epochs=2 --score_users=20 --threads=2 \
  --mlp_hidden_size=[32] --latent_dimension=16 --train_batch_size=64 --eval_batch=50 \
  --report="$T/bench.json" > "$T/out.txt" 2>&1 || { cat "$T/out.txt"; fail "bench exited $?"; }
R="$T/bench.json"
[ -s "$R" ] || fail "no report"
# Every key of the report, at its place.
for key in '"threads": 2' '"blis_kernel": "' '"train": {' '"actor_pretrain": {' \
    '"critic_pretrain": {' '"finetune": {' '"seconds_per_epoch": ' \
    '"floor_seconds_per_epoch": ' '"ratio": ' '"eval": {"seconds": ' '"floor_seconds": ' \
    '"score": {"floor_us": ' '"fp32": {"p50_us": ' '"fp16": {"p50_us": ' \
    '"int8": {"p50_us": ' '"p99_us": ' '"peak_rss_mb": ' '"weight_bytes": {"fp32": '; do
  grep -qF "$key" "$R" || { cat "$R"; fail "missing $key"; }
done
if command -v python3 > /dev/null; then
  python3 -c "import json,sys; json.load(open(sys.argv[1]))" "$R" || fail "report is not valid JSON"
fi
# Three stages with a ratio each, and sizes that make sense: int8 < fp16 < fp32 bytes.
[ "$(grep -c '"floor_seconds_per_epoch"' "$R")" = 3 ] || fail "expected 3 stages"
f32=$(sed -n 's/.*"weight_bytes": {"fp32": \([0-9]*\), "fp16": \([0-9]*\), "int8": \([0-9]*\)}.*/\1/p' "$R")
f16=$(sed -n 's/.*"weight_bytes": {"fp32": \([0-9]*\), "fp16": \([0-9]*\), "int8": \([0-9]*\)}.*/\2/p' "$R")
i8=$(sed -n 's/.*"weight_bytes": {"fp32": \([0-9]*\), "fp16": \([0-9]*\), "int8": \([0-9]*\)}.*/\3/p' "$R")
[ -n "$f32" ] && [ "$i8" -lt "$f16" ] && [ "$f16" -lt "$f32" ] || fail "weight bytes $f32 $f16 $i8"
# No NaN or inf anywhere (every time and ratio was measured).
if grep -qiE 'nan|inf' "$R"; then cat "$R"; fail "non-finite value"; fi

# One stage only.
"$BENCH" --synthetic=200,100,10 --epochs=1 --score_users=5 --stages=actor_pretrain \
  --mlp_hidden_size=[16] --latent_dimension=8 --report="$T/one.json" > /dev/null 2>&1 ||
  fail "one stage"
grep -qF '"actor_pretrain"' "$T/one.json" || fail "one stage: no actor_pretrain"
if grep -qF '"finetune"' "$T/one.json"; then fail "one stage: finetune ran"; fi

# Bad flags: exit 2 with a message naming the flag.
for bad in --synthetic=10,20 --threads=0 --epochs=x --nonsense; do
  "$BENCH" "$bad" > "$T/bad.txt" 2>&1
  rc=$?
  [ $rc = 2 ] || fail "$bad: exit $rc"
  grep -q -- "${bad%%=*}" "$T/bad.txt" || fail "$bad: message does not name the flag"
done
echo "PASS"
