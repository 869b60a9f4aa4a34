#!/usr/bin/env bash
# Scores, with tools/score built for the target, weight files written on x86-64 and
# compares with the top-K that x86-64 computed: the same items in the same order, scores
# within 1e-5. Args: SCORE HISTORIES (MODEL GOLDEN)... Prints doctest's counter line, one
# case a history and weight file, so CI counts the checks.
set -u
score="$1"
histories="$2"
shift 2
arch="x86-64"
if [ -n "${RACT_EMULATOR:-}" ]; then arch="aarch64 (${RACT_EMULATOR})"; fi
tmp="${TEST_TMPDIR:-$(mktemp -d)}"
pass=0
fail=0
users=$(wc -l <"$histories")
if [ "$users" -lt 10 ]; then
  echo "FAILED: only $users histories in $histories"
  fail=$((fail + 1))
fi

while [ $# -ge 2 ]; do
  model="$1"
  golden="$2"
  shift 2
  out="$tmp/$(basename "$golden").target"
  if ! "$score" --model="$model" --k=20 <"$histories" >"$out" 2>"$out.err"; then
    echo "FAILED: $score --model=$model exited non-zero:"
    cat "$out.err"
    fail=$((fail + users))
    continue
  fi
  # One block of 20 lines a history: rank, item id, score.
  result=$(awk -F'\t' -v k=20 '
    NR == FNR { g[FNR] = $0; ng = FNR; next }
    { t[FNR] = $0; nt = FNR }
    END {
      if (ng != nt || ng == 0) { print "lines " ng " vs " nt; exit }
      bad = 0; maxd = 0
      for (i = 1; i <= ng; i++) {
        split(g[i], a, "\t"); split(t[i], b, "\t")
        d = a[3] - b[3]; if (d < 0) d = -d
        if (d > maxd) maxd = d
        if (a[1] != b[1] || a[2] != b[2] || d > 1e-5) {
          u = int((i - 1) / k)
          if (!(u in badu)) { badu[u] = 1; bad++ }
          if (shown++ < 5) print "  x86-64: " g[i] "   target: " t[i] > "/dev/stderr"
        }
      }
      printf "%d %d %g\n", ng / k, bad, maxd
    }' "$golden" "$out")
  read -r n bad maxd <<<"$result"
  if [ -z "${maxd:-}" ]; then
    echo "FAILED: $(basename "$golden"): $result"
    fail=$((fail + users))
    continue
  fi
  echo "$(basename "$model") on $arch: $n histories, top-20 identical in $((n - bad)), max |score diff| $maxd"
  pass=$((pass + n - bad))
  fail=$((fail + bad))
  if [ "$n" -ne "$users" ]; then
    echo "FAILED: $n top-K blocks for $users histories"
    fail=$((fail + 1))
  fi
done

echo "[doctest] test cases: $((pass + fail)) | $pass passed | $fail failed | 0 skipped"
test "$fail" -eq 0
