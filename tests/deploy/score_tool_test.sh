#!/bin/bash
# tools/score end to end on synthetic files: --info, --history, stdin, --convert, errors.
# Prints doctest's counter line so CI counts the checks.
MAKE="$1"
SCORE="$2"
T="${TEST_TMPDIR:-$(mktemp -d)}"
pass=0
fail=0
check() {  # check "what" command...
  local what="$1"
  shift
  if "$@"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAILED: $what"; fi
}

"$MAKE" "$T/m.ract" inference 200 || exit 1
"$MAKE" "$T/c.ckpt" checkpoint 200 || exit 1

"$SCORE" --model "$T/m.ract" --info > "$T/info.txt"
check "info exit code" test $? -eq 0
check "info kind" grep -q "^kind: *inference" "$T/info.txt"
check "info dims" grep -q "n_items 200, hidden \[32\], latent 8, input scale 0.5" "$T/info.txt"
check "info metadata" grep -q "dataset *synthetic" "$T/info.txt"
check "info tensors" grep -q "dec.out.w *fp32 *200 x 32" "$T/info.txt"

"$SCORE" --model "$T/m.ract" --history 1,4,7 --k 5 > "$T/top.txt"
check "top-k exit code" test $? -eq 0
check "five lines" test "$(wc -l < "$T/top.txt")" -eq 5
check "ranks 1..5" test "$(cut -f1 "$T/top.txt" | tr '\n' ' ')" = "1 2 3 4 5 "
check "history masked" bash -c "! cut -f2 '$T/top.txt' | grep -qx -e 1 -e 4 -e 7"
check "scores sorted" bash -c "cut -f3 '$T/top.txt' | sort -g -r -c"

echo "1 4,7" | "$SCORE" --model "$T/m.ract" --k=5 > "$T/stdin.txt"
check "stdin gives the same top-k" cmp -s "$T/top.txt" "$T/stdin.txt"

"$SCORE" --model "$T/m.ract" --history 1,4,7,nope,123456 --k 5 > "$T/unk.txt" 2> "$T/unk.err"
check "unknown ids are not fatal" cmp -s "$T/top.txt" "$T/unk.txt"
check "unknown ids reported" grep -q "2 unknown item id(s) skipped: nope 123456" "$T/unk.err"

printf '1,4,7\n10\n' | "$SCORE" --model "$T/m.ract" --k 2 > "$T/multi.txt"
check "one block per stdin line" test "$(cut -f1 "$T/multi.txt" | tr '\n' ' ')" = "1 1 2 2 "

"$SCORE" --model "$T/m.ract" --convert --dtype=int8 --out="$T/m8.ract" 2> "$T/conv.err"
check "convert exit code" test $? -eq 0
"$SCORE" --model "$T/m8.ract" --info > "$T/info8.txt"
check "converted dtype" grep -q "^dtype: *int8" "$T/info8.txt"
check "converted_from" grep -q "converted_from *inference fp32" "$T/info8.txt"
"$SCORE" --model "$T/m8.ract" --history 1,4,7 --k 5 > "$T/top8.txt"
check "int8 top-1 equals fp32 top-1" test "$(head -1 "$T/top8.txt" | cut -f2)" = "$(head -1 "$T/top.txt" | cut -f2)"

"$SCORE" --model "$T/c.ckpt" --history 1 > /dev/null 2> "$T/ck.err"
check "a checkpoint is not scored" test $? -eq 1
check "kind error named" grep -q "RACT_ERR_FILE_KIND" "$T/ck.err"
"$SCORE" --model "$T/c.ckpt" --info > "$T/ckinfo.txt"
check "checkpoint info" grep -q "^kind: *checkpoint" "$T/ckinfo.txt"
"$SCORE" --model "$T/c.ckpt" --convert --dtype fp16 --out "$T/c16.ract" 2> /dev/null
check "checkpoint converts" "$SCORE" --model "$T/c16.ract" --history 1,4 --k 3 > /dev/null

head -c 1000 "$T/m.ract" > "$T/short.ract"
"$SCORE" --model "$T/short.ract" --info 2> "$T/short.err"
check "truncated file exit code" test $? -eq 1
check "truncated file named" grep -q "RACT_ERR_FILE_TRUNCATED" "$T/short.err"
"$SCORE" --model "$T/missing" --info 2> /dev/null
check "missing file" test $? -eq 1
"$SCORE" --history 1 2> /dev/null
check "usage error" test $? -eq 2
"$SCORE" --model "$T/m.ract" --convert --dtype=int4 --out="$T/x" 2> "$T/dt.err"
check "bad dtype" grep -q "expected fp32, fp16 or int8" "$T/dt.err"

echo "[doctest] test cases: $((pass + fail)) | $pass passed | $fail failed | 0 skipped"
test "$fail" -eq 0
