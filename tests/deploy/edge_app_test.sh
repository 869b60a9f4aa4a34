#!/bin/bash
# The C edge app (tools/edge_app.c) against tools/score on the same weight file and
# histories: the same top-K, the same scores; and its error paths. Portable: under
# --config=aarch64 every binary runs under qemu. Prints doctest's counter line for CI.
MAKE="$1"
EDGE="$2"
SCORE="$3"
. tests/check.sh

"$MAKE" "$T/m.ract" inference 400 || exit 1
printf '1,4,7\n10 12 30\n5\n\n' > "$T/hist.txt"
"$EDGE" "$T/m.ract" 7 < "$T/hist.txt" > "$T/edge.txt" 2> "$T/edge.err"
check "edge_app exit code" test $? -eq 0
check "one output line per history" test "$(wc -l < "$T/edge.txt")" -eq 4
# With several input lines tools/score prints "line<TAB>rank<TAB>id<TAB>score".
"$SCORE" --model "$T/m.ract" --k 7 < "$T/hist.txt" > "$T/score.txt" 2> /dev/null
awk -F'\t' '{ for (i = 1; i <= NF; i += 2) print $i }' "$T/edge.txt" > "$T/edge_ids.txt"
cut -f3 "$T/score.txt" > "$T/score_ids.txt"
check "same top-K ids as tools/score" cmp -s "$T/edge_ids.txt" "$T/score_ids.txt"
awk -F'\t' '{ for (i = 2; i <= NF; i += 2) print $i }' "$T/edge.txt" > "$T/edge_s.txt"
cut -f4 "$T/score.txt" > "$T/score_s.txt"
check "same scores as tools/score" \
  awk 'NR == FNR { a[FNR] = $1; next } { d = a[FNR] - $1; if (d < 0) d = -d;
       if (d > 1e-5 * (1 + ($1 < 0 ? -$1 : $1))) exit 1 }' "$T/edge_s.txt" "$T/score_s.txt"
check "history items are masked" bash -c "! head -1 '$T/edge_ids.txt' | grep -qx -e 1 -e 4 -e 7"

"$EDGE" "$T/missing.ract" < /dev/null > /dev/null 2>&1
check "missing file: exit 1" test $? -eq 1
head -c 1000 "$T/m.ract" > "$T/cut.ract"
"$EDGE" "$T/cut.ract" < /dev/null > /dev/null 2> "$T/cut.err"
check "truncated file: exit 1" test $? -eq 1
check "truncated file: says so" grep -q "the buffer has 1000" "$T/cut.err"
"$EDGE" "$T/m.ract" 0 < /dev/null > /dev/null 2>&1
check "K out of range: exit 2" test $? -eq 2

finish
