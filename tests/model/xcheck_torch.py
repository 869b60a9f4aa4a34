#!/usr/bin/python3
"""PyTorch cross-check of ract's training step (run by tests/model/xcheck_test.sh).

Reads DIR/xcheck.json and DIR/xcheck.f32 written by //tests/model:xcheck_dump (the float
ract_model_step of each stage, with the dropout mask and eps it drew) and recomputes
everything in float64 with torch.autograd, from the algorithm rather than from ract's code:
the recbole preset as RecBole's RaCT computes it (dropout then *(1-p), split head,
BatchNorm1d(3) with batch statistics and gamma/beta, loss feature with beta*KL, target gain
1/sqrt(|x|)), the paper preset as the authors' algorithm (inverted dropout, two heads,
BatchNorm without affine on running statistics, CE feature, gain 1, critic l2
1e-4*sum(w^2)/B, finetune also training the critic).

Each compared tensor is one check: max |ract - torch| / max |torch| (the tensor's own scale)
must stay under the tolerance of its kind. Prints one line per check and doctest's counter
line; exits non-zero on any failure.
Usage: xcheck_torch.py DIR
"""
import array
import json
import math
import os
import sys

import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
torch.set_num_threads(1)

# float32 against float64: every tensor measured stays within ~1e-6 of its own scale (the
# target, a double cast to float, within 1e-7). A wrong term (a missing bias, a lost
# gradient path, another gain or scale) moves a tensor by percents.
TOL = {"forward": 1e-5, "grad": 2e-5, "target": 1e-6}


def main():
    folder = sys.argv[1]
    cases = json.load(open(os.path.join(folder, "xcheck.json")))
    blob = array.array("f")
    with open(os.path.join(folder, "xcheck.f32"), "rb") as f:
        blob.frombytes(f.read())
    if sys.byteorder != "little":
        blob.byteswap()
    data = torch.tensor(blob, dtype=torch.float32).double()
    passed = failed = 0

    def get(ref):
        return data[ref[0]:ref[0] + ref[1]]

    def params(d):  # name: [offset, rows, cols]; a bias (cols 1) as a vector
        out = {}
        for k, (off, rows, cols) in d.items():
            v = get([off, rows * cols]).reshape(rows, cols)
            out[k] = v.squeeze(1) if cols == 1 else v
        return out

    def check(case, stage, name, ours, ref, kind):
        nonlocal passed, failed
        ours = torch.as_tensor(ours, dtype=torch.float64).reshape(-1)
        ref = ref.detach().reshape(-1)
        scale = ref.abs().max().item() if ref.numel() else 0.0
        diff = (ours - ref).abs().max().item() if ref.numel() else 0.0
        rel = diff / scale if scale > 0 else diff
        ok = ours.numel() == ref.numel() and math.isfinite(rel) and rel <= TOL[kind]
        passed += ok
        failed += not ok
        print("%-22s %-16s %-34s rel %.2e (scale %.3g, tol %.0e)%s" % (
            case, stage, name, rel, scale, TOL[kind], "" if ok else "   <-- MISMATCH"))

    for case in cases:
        cname = case["name"]
        B, I, L = case["batch"], case["items"], case["latent"]
        p = case["dropout_prob"]
        ptr = [int(v) for v in get(case["ptr"]).tolist()]
        idx = [int(v) for v in get(case["idx"]).tolist()]
        x = torch.zeros(B, I)
        for b in range(B):
            for e in range(ptr[b], ptr[b + 1]):
                x[b, idx[e]] = 1.0
        A0 = params(case["actor"])
        C0 = params(case["critic"])
        n_hidden = sum(1 for k in A0 if k.startswith("enc.") and k.endswith(".w")
                       and k != "enc.head.w")
        n_critic = sum(1 for k in C0 if k.startswith("critic.") and k.endswith(".w"))
        prev = None  # features and BatchNorm update of the previous stage's step
        for stage_id, st in sorted(case["stages"].items()):
            stage = ["actor_pretrain", "critic_pretrain", "finetune"][int(stage_id)]
            keep = get(st["keep"])
            kmask = torch.zeros(B, I)
            for b in range(B):
                for e in range(ptr[b], ptr[b + 1]):
                    kmask[b, idx[e]] = keep[e]
            eps = get(st["eps"]).reshape(B, L)
            beta = st["beta"]
            A = {k: v.clone().requires_grad_(True) for k, v in A0.items()}
            C = {k: v.clone().requires_grad_(True) for k, v in C0.items()}

            # Actor (Mult-VAE).
            t = x / x.norm(dim=1, keepdim=True).clamp_min(1e-12)
            inp = t * kmask / (1 - p) if case["inverted"] else t * kmask
            h = torch.tanh(inp @ A["enc.0.w"] + A["enc.0.b"])  # enc.0.w is I x h1
            for j in range(1, n_hidden):
                h = torch.tanh(h @ A["enc.%d.w" % j].T + A["enc.%d.b" % j])
            head = h @ A["enc.head.w"].T + A["enc.head.b"]
            mu, logvar = head[:, :L], head[:, L:]
            z = mu + eps * torch.exp(0.5 * logvar)
            d = z
            for j in range(n_hidden):
                d = torch.tanh(d @ A["dec.%d.w" % j].T + A["dec.%d.b" % j])
            logits = d @ A["dec.out.w"].T + A["dec.out.b"]
            ce = -(F.log_softmax(logits, 1) * x).sum(1)
            kl = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(1)
            loss = ce + beta * kl
            check(cname, stage, "mu, logvar", get(st["head"]), head, "forward")
            check(cname, stage, "logits", get(st["logits"]), logits, "forward")
            check(cname, stage, "ce", get(st["ce"]), ce, "forward")
            check(cname, stage, "kl", get(st["kl"]), kl, "forward")
            check(cname, stage, "ce + beta kl", get(st["loss_row"]), loss, "forward")
            check(cname, stage, "mean actor loss", [st["actor_loss"]], loss.mean(), "forward")
            # BatchNorm's running statistics (PyTorch: unbiased variance, momentum) after the
            # previous step: paper collects them in the actor stage, recbole updates them with
            # batch statistics in the critic stages.
            run = get(st["bn_running"])
            if prev is not None:
                run0, f0, updated = prev
                mom = case["bn_momentum"]
                want = torch.cat([(1 - mom) * run0[:3] + mom * f0.mean(0),
                                  (1 - mom) * run0[3:] + mom * f0.var(0, unbiased=True)])
                if not updated:
                    want = run0
                check(cname, stage, "BatchNorm running mean", run[:3], want[:3], "forward")
                check(cname, stage, "BatchNorm running var", run[3:], want[3:], "forward")
            seen = kmask.sum(1)
            unseen = x.sum(1) - seen
            feat = torch.stack([seen, unseen, loss if case["loss_with_kl"] else ce], 1)
            updated = (stage == "actor_pretrain") != bool(case["bn_batch"])
            prev = (run, feat.detach(), updated)
            if stage == "actor_pretrain":
                g = torch.autograd.grad(loss.mean(), list(A.values()))
                for (k, _), gv in zip(A.items(), g):
                    ours = get([st["g_actor"][k][0], gv.numel()])
                    check(cname, stage, "d mean actor loss / " + k, ours, gv, "grad")
                continue

            # Critic (section 2): features, BatchNorm, the MLP, the NDCG target.
            check(cname, stage, "critic features", get(st["feat"]), feat, "forward")
            if case["bn_batch"]:
                m = feat.mean(0)
                v = feat.var(0, unbiased=False)
                hb = (feat - m) / torch.sqrt(v + case["bn_eps"]) * C["critic.bn.gamma"] \
                    + C["critic.bn.beta"]
            else:
                hb = (feat - run[:3]) / torch.sqrt(run[3:] + case["bn_eps"])
            for j in range(n_critic):
                hb = hb @ C["critic.%d.w" % j].T + C["critic.%d.b" % j]
                hb = torch.relu(hb) if j < n_critic - 1 else torch.sigmoid(hb)
            q = hb.squeeze(1)
            check(cname, stage, "Q", get(st["q"]), q, "forward")
            # The target ranks ract's own logits (checked above): float noise between the
            # two forwards must not flip near-ties in the ranking.
            target = ndcg_target(get(st["logits"]).reshape(B, I), kmask, x, case)
            check(cname, stage, "NDCG target", get(st["target"]), target, "target")
            tg = get(st["target"])
            closs = ((q - tg) ** 2).mean()
            if case["critic_l2"] > 0:
                closs = closs + case["critic_l2"] * sum(
                    (C["critic.%d.w" % j] ** 2).sum() for j in range(n_critic)) / B
            if stage == "critic_pretrain":
                check(cname, stage, "stage loss", [st["loss"]], closs, "forward")
            if stage == "critic_pretrain" or case["finetune_critic"]:
                check(cname, stage, "critic loss", [st["critic_loss"]], closs, "forward")
                gc = torch.autograd.grad(closs, list(C.values()), retain_graph=True)
                for (k, _), gv in zip(C.items(), gc):
                    ours = get([st["g_critic"][k][0], gv.numel()])
                    check(cname, stage, "d critic loss / " + k, ours, gv, "grad")
            if stage == "finetune":
                ac = (-q).mean()
                check(cname, stage, "-mean(Q)", [st["loss"]], ac, "forward")
                ga = torch.autograd.grad(ac, list(A.values()))
                for (k, _), gv in zip(A.items(), ga):
                    ours = get([st["g_actor"][k][0], gv.numel()])
                    check(cname, stage, "d -mean(Q) / " + k, ours, gv, "grad")

    total = passed + failed
    print("[doctest] test cases: %d | %d passed | %d failed | 0 skipped" % (total, passed, failed))
    sys.exit(1 if failed or total == 0 else 0)


def ndcg_target(logits, kmask, x, case):
    """NDCG@k of the scores with the kept input items masked; relevant = dropped items."""
    B, I = x.shape
    k = case["metrics_k"]
    disc = [1.0 / math.log2(r + 2) for r in range(k)]
    out = []
    for b in range(B):
        kept = kmask[b] > 0
        s = logits[b].clone()
        s[kept] = -float("inf")
        rel = (x[b] > 0) & ~kept
        order = sorted(range(I), key=lambda i: (-s[i].item(), i))[:k]
        dcg = sum(disc[r] for r, i in enumerate(order) if rel[i] and s[i] > -float("inf"))
        n = int(x[b].sum().item())
        if case["gain_sqrt"] and n > 0:
            dcg /= math.sqrt(n)
        idcg = max(sum(disc[:min(int(rel.sum().item()), k)]), 0.1)
        out.append(dcg / idcg)
    return torch.tensor(out)


if __name__ == "__main__":
    main()
