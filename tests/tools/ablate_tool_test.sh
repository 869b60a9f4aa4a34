#!/bin/bash
# tools/ablate on synthetic taste groups (seconds): its critic arm is bit for bit what
# tools/train runs with the same flags and seed; every arm of a seed starts from the same
# actor (its weights hashed as each arm begins), every seed from another; the table, the report's keys and the plot; its paired
# differences are the per-seed differences; the error paths of bad flags.
ABLATE="$1"
TRAIN="$2"
. tests/check.sh
awk 'BEGIN { srand(7); for (u = 0; u < 900; u++) { g = u % 5; n = 8 + int(rand() * 12);
  for (k = 0; k < n; k++) print "u" u "\ti" (g * 50 + int(rand() * 50)) } }' > "$T/data.tsv"
run=(--data="$T/data.tsv" --pretrain_epochs=6 --critic_epochs=4 --epochs=4
  --train_batch_size=100 --mlp_hidden_size=[48] --latent_dimension=12 --seed=3)

"$ABLATE" "${run[@]}" --seeds=5,6 --report="$T/a.json" --plot="$T/a.svg" > "$T/a.txt" 2>&1
check "ablate exit code" test $? -eq 0 || cat "$T/a.txt"
check "table has every arm" grep -q "^ *likelihood " "$T/a.txt"
check "table has the paired rows" grep -q "^critic-feature .*(paired)" "$T/a.txt"
check "plot is an SVG" grep -q "^<svg " "$T/a.svg"
check "plot is complete" grep -q "^</svg>" "$T/a.svg"
"$TRAIN" "${run[@]}" --seed=3 --quiet --out="$T/t.ract" --report="$T/t.json" > "$T/t.txt" 2>&1
check "train exit code" test $? -eq 0
# tools/train --seed is the split's and the training's; ablate's --seeds are training seeds
# over the split of --seed: with --seeds equal to --seed, the critic arm is the full run.
"$ABLATE" "${run[@]}" --seeds=3 --arms=critic --report="$T/c.json" > "$T/c.txt" 2>&1
check "ablate --arms=critic exit code" test $? -eq 0
check "report keys and the critic arm equal tools/train's run" python3 - "$T/a.json" "$T/c.json" \
  "$T/t.json" << 'PY'
import json, sys
a, c, t = (json.load(open(p)) for p in sys.argv[1:4])
for key in ("preset", "valid_metric", "data", "arms", "seeds", "summary", "paired"):
    assert key in a, key
assert a["arms"] == ["critic", "likelihood", "feature"], a["arms"]
s5, s6 = a["seeds"]
assert (s5["seed"], s6["seed"]) == (5, 6)
assert s5["actor_hash"] != s6["actor_hash"], "two seeds, one actor"
for s in (s5, s6):
    for arm in ("critic", "likelihood", "feature"):
        r = s[arm]
        for k in ("valid", "gain", "test_ndcg@10", "test_ndcg@100", "best_epoch", "corr"):
            assert k in r, (arm, k)
        assert abs(r["gain"] - (r["valid"] - s["actor"]["valid"])) < 2e-6, (arm, r)
        # Hashed from each arm's own trainer as its first stage begins.
        assert r["start_hash"] == s["actor_hash"], (arm, r["start_hash"], s["actor_hash"])
    assert s["critic"]["corr"] is not None and -1 <= s["critic"]["corr"] <= 1
    assert s["likelihood"]["corr"] is None and s["feature"]["corr"] is None
# Paired means: the mean of per-seed differences.
d = [s["critic"]["test_ndcg@10"] - s["likelihood"]["test_ndcg@10"] for s in (s5, s6)]
p = a["paired"]["critic-likelihood"]["test_ndcg@10"]["mean"]
assert abs(p - sum(d) / 2) < 2e-6, (p, d)
m = a["summary"]["feature"]["gain"]
assert abs(m["mean"] - (s5["feature"]["gain"] + s6["feature"]["gain"]) / 2) < 2e-6
# The critic arm from seed 3 is tools/train's run with --seed=3.
cr = c["seeds"][0]["critic"]
ft = [st for st in t["stages"] if st["name"] == "finetune"][0]
act = [st for st in t["stages"] if st["name"] == "actor_pretrain"][0]
assert cr["valid"] == ft["best_valid"][t["valid_metric"]], (cr, ft)
assert cr["test_ndcg@10"] == ft["test"]["ndcg@10"], (cr, ft)
assert cr["test_ndcg@100"] == ft["test"]["ndcg@100"]
assert c["seeds"][0]["actor"]["valid"] == act["best_valid"][t["valid_metric"]]
assert cr["corr"] == t["critic"]["corr"], (cr["corr"], t["critic"])
PY

# Bad flags: exit 2 naming the flag, nothing written.
for bad in --seeds=1,1 --seeds= --seeds=x --seeds=-1 --arms=critic,foo --arms=critic,critic \
  --out=x.ract --train_stage=finetune --finetune_objective=likelihood --critic_draws=-1; do
  "$ABLATE" "${run[@]}" "$bad" --report="$T/bad.json" > "$T/bad.txt" 2>&1
  rc=$?
  check "$bad: exit 2 (got $rc)" test $rc -eq 2
  check "$bad: named" grep -qF -- "${bad%%=*}" "$T/bad.txt"
  check "$bad: no report" test ! -e "$T/bad.json"
done
finish
