#!/bin/bash
# tools/score end to end on synthetic files: --info, --history, stdin, --convert, errors.
# Prints doctest's counter line so CI counts the checks.
MAKE="$1"
SCORE="$2"
TRAIN="$3"
. tests/check.sh

check "make_model: inference file" "$MAKE" "$T/m.ract" inference 200 || { finish; exit 1; }
check "make_model: checkpoint" "$MAKE" "$T/c.ckpt" checkpoint 200 || { finish; exit 1; }

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
check "stdin exit code" test $? -eq 0
check "stdin gives the same top-k" cmp -s "$T/top.txt" "$T/stdin.txt"

"$SCORE" --model "$T/m.ract" --history 1,4,7,nope,123456 --k 5 > "$T/unk.txt" 2> "$T/unk.err"
check "unknown ids: exit code" test $? -eq 0
check "unknown ids are not fatal" cmp -s "$T/top.txt" "$T/unk.txt"
check "unknown ids reported" grep -q "2 unknown item id(s) skipped: nope 123456" "$T/unk.err"

printf '1,4,7\n10\n' | "$SCORE" --model "$T/m.ract" --k 2 > "$T/multi.txt"
check "several stdin lines: exit code" test $? -eq 0
check "one block per stdin line" test "$(cut -f1 "$T/multi.txt" | tr '\n' ' ')" = "1 1 2 2 "

"$SCORE" --model "$T/m.ract" --convert --dtype=int8 --out="$T/m8.ract" 2> "$T/conv.err"
check "convert exit code" test $? -eq 0
"$SCORE" --model "$T/m8.ract" --info > "$T/info8.txt"
check "converted info exit code" test $? -eq 0
check "converted dtype" grep -q "^dtype: *int8" "$T/info8.txt"
check "converted_from" grep -q "converted_from *inference fp32" "$T/info8.txt"
"$SCORE" --model "$T/m8.ract" --history 1,4,7 --k 5 > "$T/top8.txt"
check "int8 top-k exit code" test $? -eq 0
check "int8 top-1 equals fp32 top-1" test "$(head -1 "$T/top8.txt" | cut -f2)" = "$(head -1 "$T/top.txt" | cut -f2)"

"$SCORE" --model "$T/c.ckpt" --history 1 > /dev/null 2> "$T/ck.err"
check "a checkpoint is not scored" test $? -eq 1
check "kind error named" grep -q "RACT_ERR_FILE_KIND" "$T/ck.err"
"$SCORE" --model "$T/c.ckpt" --info > "$T/ckinfo.txt"
check "checkpoint info exit code" test $? -eq 0
check "checkpoint info" grep -q "^kind: *checkpoint" "$T/ckinfo.txt"
"$SCORE" --model "$T/c.ckpt" --convert --dtype fp16 --out "$T/c16.ract" 2> /dev/null
check "checkpoint convert exit code" test $? -eq 0
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
check "bad dtype: non-zero exit" test $? -ne 0
check "bad dtype" grep -q "expected fp32, fp16 or int8" "$T/dt.err"

# --eval: a split whose answers follow from the scorer's own rankings. Train: u1 has item 1,
# u2 item 4, and a filler user has every item (so the dataset ranks all 200 items, under
# dense ids different from the file's). u1: valid = its rank-3 item, test = its rank-1 item
# (a hit once valid is masked); u2: valid = its rank-2 item, test = its rank-199 item.
"$SCORE" --model "$T/m.ract" --history 1 --k 3 > "$T/r1.txt"
check "eval fixture: top-3 of u1 (exit code)" test $? -eq 0
"$SCORE" --model "$T/m.ract" --history 4 --k 199 > "$T/r4.txt"
check "eval fixture: top-199 of u2 (exit code)" test $? -eq 0
u1_valid=$(sed -n 3p "$T/r1.txt" | cut -f2)
u1_test=$(sed -n 1p "$T/r1.txt" | cut -f2)
u2_valid=$(sed -n 2p "$T/r4.txt" | cut -f2)
u2_test=$(sed -n 199p "$T/r4.txt" | cut -f2)
{
  printf 'user_id\titem_id\nu1\t1\nu2\t4\n'
  for i in $(seq 199 -1 0); do printf 'filler\t%d\n' $((3 * i + 1)); done
} > "$T/train.tsv"
printf 'user_id\titem_id\nu1\t%s\nu2\t%s\n' "$u1_valid" "$u2_valid" > "$T/valid.tsv"
printf 'user_id\titem_id\nu1\t%s\nu2\t%s\n' "$u1_test" "$u2_test" > "$T/test.tsv"
"$SCORE" --model "$T/m.ract" --eval --train="$T/train.tsv" --valid="$T/valid.tsv" \
  --test="$T/test.tsv" --topk=1,3 --report="$T/report.json" > "$T/eval.txt"
check "eval exit code" test $? -eq 0
check "eval counts" grep -q "3 users, 200 items; 0 of them unknown" "$T/eval.txt"
check "valid line" grep -q "hit@1 : 0.0000    hit@3 : 1.0000" "$T/eval.txt"
check "valid mrr@3 = (1/3 + 1/2) / 2" grep -q "mrr@3 : 0.4167" "$T/eval.txt"
check "test line" grep -q "mrr@1 : 0.5000    mrr@3 : 0.5000    ndcg@1 : 0.5000" "$T/eval.txt"
check "report json" grep -q '"test": {"users": 2, "recall@1": 0.500000' "$T/report.json"
"$SCORE" --model "$T/m.ract" --history 1 --train="$T/train.tsv" 2> /dev/null
check "data flags only with --eval" test $? -eq 2

# tools/train's test table, reproduced by --eval from its fp32 file (the default data:
# ml-latest-small, shipped, under the paper's protocol; one short epoch per stage).
"$TRAIN" --pretrain_epochs=1 --critic_epochs=1 --epochs=1 --out="$T/small.ract" --quiet \
  > "$T/train.txt" 2>&1
check "train exit code" test $? -eq 0
"$SCORE" --model "$T/small.ract" --eval > "$T/seval.txt"
check "eval exit code" test $? -eq 0
check "train's test table reproduced" \
  test "$(grep -A2 '^test result' "$T/train.txt")" = "$(grep -A2 '^test result' "$T/seval.txt")"
check "train printed its test table" grep -q "^test result" "$T/train.txt"
check "the table is there" grep -q "ndcg@10" "$T/seval.txt"

finish
