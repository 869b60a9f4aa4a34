#!/usr/bin/env bash
# Runs libFuzzer targets for a bounded time and fails on any crash, leak, timeout or
# sanitizer report.
#   tools/fuzz/run.sh NAME SECONDS   one target (//tools/fuzz:NAME_fuzz)
#   tools/fuzz/run.sh all SECONDS    every target in tools/fuzz/BUILD, one after the other
# Starts from the committed seeds in tools/fuzz/corpus/NAME/ (read only: new inputs go to a
# scratch folder). A failing input is kept in $RACT_FUZZ_OUT (default /tmp/ract-fuzz),
# printed in hex, and replays with `bazel run //tools/fuzz:NAME_fuzz_test -- FILE`; adding
# it to tools/fuzz/corpus/NAME/ makes it a regression test of `bazel test //...`. Prints one line per target:
#   fuzz NAME: N executions in S s, C crashes
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1

if [ $# -ne 2 ] || ! [[ "$2" =~ ^[0-9]+$ ]]; then
  echo "usage: tools/fuzz/run.sh NAME|all SECONDS" >&2
  exit 2
fi
seconds="$2"
if [ "$1" = all ]; then
  names=$(bazel query 'attr(tags, "\bfuzz\b", //tools/fuzz:all)' 2>/dev/null |
    sed -n 's|^//tools/fuzz:\(.*\)_fuzz$|\1|p')
else
  names="$1"
fi
if [ -z "$names" ]; then
  echo "fuzz: no targets found" >&2
  exit 1
fi

targets=()
for n in $names; do targets+=("//tools/fuzz:${n}_fuzz"); done
bazel build --config=fuzz "${targets[@]}" </dev/null || exit 1
bin="$(bazel info --config=fuzz bazel-bin 2>/dev/null)/tools/fuzz"

out="${RACT_FUZZ_OUT:-/tmp/ract-fuzz}"
status=0
for n in $names; do
  seeds="tools/fuzz/corpus/$n"
  work="$out/$n"
  rm -rf "$work"
  mkdir -p "$work/corpus" "$work/artifacts"
  log="$work/fuzz.log"
  # Leaks count as failures (-detect_leaks, LSan); UBSan already aborts (no recovery).
  ASAN_OPTIONS=detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$bin/${n}_fuzz" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -detect_leaks=1 -print_final_stats=1 -artifact_prefix="$work/artifacts/" \
    "$work/corpus" "$seeds" >"$log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  crashes=$(find "$work/artifacts" -type f | wc -l)
  if [ "$rc" -ne 0 ] && [ "$crashes" -eq 0 ]; then crashes=1; fi
  echo "fuzz $n: ${execs:-0} executions in ${seconds} s, $crashes crashes"
  if [ "$rc" -ne 0 ]; then
    status=1
    echo "fuzz $n FAILED (exit $rc); last lines of $log:" >&2
    grep -E 'ERROR|SUMMARY|runtime error|fuzz check failed|Test unit written' "$log" >&2
    tail -n 30 "$log" >&2
    for f in "$work"/artifacts/*; do
      [ -f "$f" ] || continue
      echo "input $f ($(stat -c %s "$f") bytes):" >&2
      od -An -tx1 -v "$f" | head -n 16 >&2
    done
  fi
done
exit "$status"
