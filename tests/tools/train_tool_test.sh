#!/bin/bash
# tools/train end to end on the shipped MovieLens latest-small (a few epochs): the weight
# file, its metadata keys, the report's keys, the plot, --seed, single stages from a
# checkpoint, and the error paths of bad flags. Prints doctest's counter line so CI counts the checks.
TRAIN="$1"
SCORE="$2"
. tests/check.sh
short=(--pretrain_epochs=3 --critic_epochs=2 --epochs=2 --quiet)
export SOURCE_DATE_EPOCH=1700000000  # the date in the files' metadata: reproducible files

"$TRAIN" "${short[@]}" --out="$T/a.ract" --report="$T/a.json" --plot="$T/a.svg" \
  --checkpoint="$T/a.ckpt" > "$T/a.txt" 2> "$T/a.err"
check "train exit code" test $? -eq 0
check "weight file" test -s "$T/a.ract"
check "checkpoint" test -s "$T/a.ckpt"
check "test table" grep -q "^recall@10 : " "$T/a.txt"
for key in '"preset": "ract"' '"stages": \[' '"name": "actor_pretrain"' '"best_valid": {' \
  '"valid": {' '"test": {' '"recall@10"' '"mrr@10"' '"ndcg@10"' '"hit@10"' '"precision@10"' \
  '"ndcg@100"' '"seconds_per_epoch"' '"corr"'; do
  check "report has $key" grep -q "$key" "$T/a.json"
done
check "report is valid JSON" python3 -c "import json,sys; json.load(open('$T/a.json'))"
check "plot is an SVG" grep -q "^<svg " "$T/a.svg"
check "plot has the critic panel" grep -q "critic on" "$T/a.svg"
check "no temporary files left" test "$(ls "$T" | grep -c tmp)" -eq 0

# Every metadata key of ract/deploy/FORMAT.md ("Metadata"), read back from the file train
# wrote through ract_model_meta (`score --meta`), and the same keys in the checkpoint.
keys=(dataset preset date n_users n_items n_interactions n_train_interactions)
for m in recall mrr ndcg hit precision recall_paper; do keys+=("test.$m@10" "test.$m@100"); done
for key in "${keys[@]}"; do
  check "metadata $key" "$SCORE" --model "$T/a.ract" --meta "$key"
  check "checkpoint metadata $key" bash -c "'$SCORE' --model '$T/a.ckpt' --info | grep -q '^  $key '"
done
"$SCORE" --model "$T/a.ract" --info > "$T/a.info"
check "exactly the documented keys (${#keys[@]})" grep -q "^metadata: ${#keys[@]}$" "$T/a.info"
check "preset value" test "$("$SCORE" --model "$T/a.ract" --meta preset)" = ract
check "date value (SOURCE_DATE_EPOCH)" \
  test "$("$SCORE" --model "$T/a.ract" --meta date)" = 2023-11-14T22:13:20Z
check "n_users value (latest-small, ratings >= 4, users >= 5)" \
  test "$("$SCORE" --model "$T/a.ract" --meta n_users)" = 603
check "n_items is the model width" grep -q "^dims:     n_items $("$SCORE" --model "$T/a.ract" \
  --meta n_items)," "$T/a.info"
ndcg=$("$SCORE" --model "$T/a.ract" --meta test.ndcg@10)
check "test.ndcg@10 is the test table's ndcg@10" \
  grep -q "ndcg@10 : $(printf '%.4f' "$ndcg")" <(sed -n '/^test result/,$p' "$T/a.txt")
check "n_train_interactions <= n_interactions" test \
  "$("$SCORE" --model "$T/a.ract" --meta n_train_interactions)" -le \
  "$("$SCORE" --model "$T/a.ract" --meta n_interactions)"
"$SCORE" --model "$T/a.ract" --meta no.such.key > /dev/null 2> "$T/meta.err"
check "an absent key: exit 1" test $? -eq 1
check "  ... and says so" grep -q "no metadata key 'no.such.key'" "$T/meta.err"
"$SCORE" --model "$T/a.ckpt" --convert --dtype=int8 --out="$T/a8.ract" 2> /dev/null
check "converted_from" test "$("$SCORE" --model "$T/a8.ract" --meta converted_from)" = \
  "checkpoint fp32"
check "  ... and the trainer's keys carried over" \
  test "$("$SCORE" --model "$T/a8.ract" --meta test.ndcg@10)" = "$ndcg"

# Same seed: the same file; another seed: another one.
"$TRAIN" "${short[@]}" --out="$T/b.ract" > "$T/b.txt" 2>&1
rc=$?
check "same seed: exit code (got $rc)" test $rc -eq 0 || cat "$T/b.txt"
"$TRAIN" "${short[@]}" --out="$T/c.ract" --seed=7 > "$T/c.txt" 2>&1
rc=$?
check "another seed: exit code (got $rc)" test $rc -eq 0 || cat "$T/c.txt"
check "same seed, byte-identical weight file" cmp -s "$T/a.ract" "$T/b.ract"
check "another seed, a weight file" test -s "$T/c.ract"
check "another seed, other weights" bash -c "! cmp -s '$T/a.ract' '$T/c.ract'"

# A single stage from a checkpoint.
"$TRAIN" --init_from="$T/a.ckpt" --train_stage=finetune --epochs=1 --quiet \
  --out="$T/f.ract" > "$T/f.txt" 2>&1
check "finetune from a checkpoint" test $? -eq 0
"$TRAIN" --init_from="$T/a.ract" --train_stage=finetune --epochs=1 --quiet \
  --out="$T/g.ract" > "$T/g.txt" 2>&1
check "an inference file is not a checkpoint (exit 1)" test $? -eq 1
check "  ... and says so" grep -q "not a checkpoint" "$T/g.txt"
check "  ... and writes nothing" test ! -e "$T/g.ract"

# A non-finite loss: exit 1, the stage, epoch and batch named, no weight file, and the last
# good checkpoint left as it was.
"$TRAIN" "${short[@]}" --learning_rate=10 --checkpoint="$T/a.ckpt" --checkpoint_every=1 \
  --out="$T/nan.ract" > "$T/nan.txt" 2>&1
rc=$?
check "non-finite loss: exit 1 (got $rc)" test $rc -eq 1
check "  ... names stage, epoch and batch" grep -q "stage actor_pretrain, epoch [0-9]*, batch [0-9]*" "$T/nan.txt"
check "  ... writes no weight file" test ! -e "$T/nan.ract"
check "  ... the last checkpoint (epoch 1, before the NaN) is intact" \
  "$SCORE" --model "$T/a.ckpt" --info

# Bad flags: exit 2, the flag named, nothing written.
for bad in --learning_rate=abc --train_stage=warmup --mlp_hidden_size=[0] --dtype=int4 \
  --valid_metric=ndcg@7 --no_such_flag --preset=tf \
  '--mlp_hidden_size=[600' '--mlp_hidden_size=600]' '--mlp_hidden_size=[600,]' \
  '--critic_layers=[100,,10]' --topk=10, --topk=10,10 --pretrain_epochs=+3 --epochs=1e3 \
  --critic_epochs=-1 --latent_dimension=99999999999999999999 --learning_rate=nan \
  --learning_rate=1e-3x --finetune_learning_rate=inf --dropout_prob=1 --eps_std=1e39 \
  --valid_metric=ndcg@100x --train_batch_size=0 --stop_after_batches=-1; do
  "$TRAIN" "${short[@]}" "$bad" --out="$T/bad.ract" > "$T/bad.txt" 2>&1
  rc=$?
  check "$bad exits 2 (got $rc)" test $rc -eq 2
  name="${bad%%=*}"
  check "$bad is named" grep -qF -- "${name#--}" "$T/bad.txt"
done
check "bad flags write nothing" test ! -e "$T/bad.ract"

finish
