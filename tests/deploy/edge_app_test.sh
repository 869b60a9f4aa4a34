#!/bin/bash
# The C edge app (tools/edge_app.c) against tools/score on the same weight file and
# histories: the same top-K, the same scores, every line's history masked; and its error
# paths. Portable: under --config=aarch64 every binary runs under qemu. Prints doctest's
# counter line for CI.
MAKE="$1"
EDGE="$2"
SCORE="$3"
. tests/check.sh
K=7

check "make_model exit code" "$MAKE" "$T/m.ract" inference 400 || { finish; exit 1; }
# The histories: a few seeds (known ids, unknown ids, none), each followed by the three
# items the model ranks highest for it unmasked, so that masking changes the top-K; and an
# empty history last.
printf '1,4,7\n10 12 30\n5\n\n' > "$T/seed.txt"
"$SCORE" --model "$T/m.ract" --k 3 --no-mask < "$T/seed.txt" > "$T/seed_top.txt" 2> /dev/null
check "tools/score --no-mask exit code (seeds)" test $? -eq 0
awk -F'\t' 'NR == FNR { seed[FNR] = $0; n = FNR; next }
  { top[$1] = top[$1] (top[$1] == "" ? "" : ",") $3 }
  END {
    for (i = 1; i <= n; i++) print seed[i] (seed[i] != "" && top[i] != "" ? "," : "") top[i]
    print ""
  }' "$T/seed.txt" "$T/seed_top.txt" > "$T/hist.txt"
lines=$(wc -l < "$T/hist.txt")
check "five histories" test "$lines" -eq 5

"$EDGE" "$T/m.ract" $K < "$T/hist.txt" > "$T/edge.txt" 2> "$T/edge.err"
check "edge_app exit code" test $? -eq 0
check "one output line per history" test "$(wc -l < "$T/edge.txt")" -eq "$lines"
check "K distinct ids on every line" \
  awk -F'\t' -v k=$K '{ if (NF != 2 * k) exit 1; delete s
       for (i = 1; i <= NF; i += 2) { if ($i in s) exit 1; s[$i] = 1 } }' "$T/edge.txt"
# With several input lines tools/score prints "line<TAB>rank<TAB>id<TAB>score".
"$SCORE" --model "$T/m.ract" --k $K < "$T/hist.txt" > "$T/score.txt" 2> /dev/null
check "tools/score exit code" test $? -eq 0
awk -F'\t' '{ for (i = 1; i <= NF; i += 2) print $i }' "$T/edge.txt" > "$T/edge_ids.txt"
cut -f3 "$T/score.txt" > "$T/score_ids.txt"
check "same top-K ids as tools/score" cmp -s "$T/edge_ids.txt" "$T/score_ids.txt"
awk -F'\t' '{ for (i = 2; i <= NF; i += 2) print $i }' "$T/edge.txt" > "$T/edge_s.txt"
cut -f4 "$T/score.txt" > "$T/score_s.txt"
check "same scores as tools/score" \
  awk 'NR == FNR { a[FNR] = $1; n = FNR; next } { d = a[FNR] - $1; if (d < 0) d = -d;
       if (d > 1e-5 * (1 + ($1 < 0 ? -$1 : $1))) exit 1 } END { if (FNR != n) exit 1 }' \
  "$T/edge_s.txt" "$T/score_s.txt"

# Masking, line by line: no item of a line's own history in its top-K, and the top-K is the
# unmasked ranking (tools/score --no-mask, deep enough) with that history taken out.
"$SCORE" --model "$T/m.ract" --k 20 --no-mask < "$T/hist.txt" > "$T/unmasked.txt" 2> /dev/null
check "tools/score --no-mask exit code" test $? -eq 0
# Reads hist.txt (the first file) into h[line, id] for each id of each line's history.
read_hist='FILENAME == ARGV[1] { n = split($0, t, /[, \t]+/)
             for (j = 1; j <= n; j++) if (t[j] != "") h[FNR, t[j]] = 1; next }'
check "every line's whole top-K leaves its own history out" \
  awk -F'\t' "$read_hist"' { for (i = 1; i <= NF; i += 2) if ((FNR, $i) in h) {
       print "line " FNR ": history item " $i " in the top-K"; bad = 1 } }
     END { exit bad }' "$T/hist.txt" "$T/edge.txt"
check "every line's top-K = its unmasked ranking without its history" \
  awk -F'\t' -v k=$K "$read_hist"'
     FILENAME == ARGV[2] {
       if (!(($1, $3) in h) && got[$1] < k) { got[$1]++; want[$1] = want[$1] " " $3 }
       next
     }
     { line = ""; for (i = 1; i <= NF; i += 2) line = line " " $i
       if (line != want[FNR]) { print "line " FNR ":" line " vs" want[FNR]; bad = 1 } }
     END { exit bad }' "$T/hist.txt" "$T/unmasked.txt" "$T/edge.txt"
check "masking is exercised: unmasked, 2+ lines would rank a history item in the top-K" \
  awk -F'\t' -v k=$K "$read_hist"' $2 <= k && (($1, $3) in h) { hit[$1] = 1 }
     END { n = 0; for (l in hit) n++; exit n < 2 }' "$T/hist.txt" "$T/unmasked.txt"

"$EDGE" "$T/missing.ract" < /dev/null > /dev/null 2>&1
check "missing file: exit 1" test $? -eq 1
head -c 1000 "$T/m.ract" > "$T/cut.ract"
"$EDGE" "$T/cut.ract" < /dev/null > /dev/null 2> "$T/cut.err"
check "truncated file: exit 1" test $? -eq 1
check "truncated file: says so" grep -q "the buffer has 1000" "$T/cut.err"
"$EDGE" "$T/m.ract" 0 < /dev/null > /dev/null 2>&1
check "K out of range: exit 2" test $? -eq 2

finish
