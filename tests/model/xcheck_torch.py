#!/usr/bin/python3
"""Manual cross-check of ract's actor and critic against PyTorch autograd (not a test).

Reads the JSON of //tests/model:xcheck_dump and recomputes, in float64 with torch, the
logits, CE, KL, the NDCG target, Q, the critic loss and the gradients of the mean actor loss,
the critic loss and -mean(Q), following RACT_SPEC.md: the recbole preset as RecBole's RaCT
computes it (dropout then *(1-p), split head, BatchNorm1d(3) with batch statistics and
gamma/beta, loss feature with beta*KL, target gain 1/sqrt(|x|)), the paper preset as the
authors' algorithm (inverted dropout, two heads, BatchNorm without affine on running
statistics, CE feature, gain 1, critic l2 1e-4*sum(w^2)/B). Prints the largest absolute
difference per quantity and exits non-zero if one exceeds 1e-6.
Usage: python3 tests/model/xcheck_torch.py dump.json
"""
import json
import sys

import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)


def tensor(d, name):
    t = d[name]
    v = torch.tensor(t["v"], dtype=torch.float64).reshape(t["rows"], t["cols"])
    return v.squeeze(1) if t["cols"] == 1 else v


def check(case):
    paper = case["preset"] == "paper"
    p = 0.5
    L = case["latent"]
    beta = case["beta"]
    ptr, idx, keep = case["ptr"], case["idx"], case["keep"]
    B, I = len(ptr) - 1, 7
    x = torch.zeros(B, I)
    kmask = torch.zeros(B, I)
    for b in range(B):
        for e in range(ptr[b], ptr[b + 1]):
            x[b, idx[e]] = 1.0
            kmask[b, idx[e]] = keep[e]
    A = {k: tensor(case["actor"], k).clone().requires_grad_(True) for k in case["actor"]}
    C = {k: tensor(case["critic"], k).clone().requires_grad_(True) for k in case["critic"]}
    eps = torch.tensor(case["eps"], dtype=torch.float64).reshape(B, L)

    def actor():
        t = x / x.norm(dim=1, keepdim=True).clamp_min(1e-12)
        inp = t * kmask / (1 - p) if paper else t * kmask  # recbole: dropout(t) * (1 - p)
        h = torch.tanh(inp @ A["enc.0.w"] + A["enc.0.b"])  # enc.0.w is item-major (I x h)
        out = h @ A["enc.head.w"].T + A["enc.head.b"]
        mu, logvar = out[:, :L], out[:, L:]
        z = mu + eps * torch.exp(0.5 * logvar)
        d = torch.tanh(z @ A["dec.0.w"].T + A["dec.0.b"])
        logits = d @ A["dec.out.w"].T + A["dec.out.b"]
        ce = -(F.log_softmax(logits, 1) * x).sum(1)
        kl = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(1)
        return logits, ce, kl, inp

    def critic(feat):
        if paper:
            hb = (feat - torch.tensor(case["bn_mean"], dtype=torch.float64)) / torch.sqrt(
                torch.tensor(case["bn_var"], dtype=torch.float64) + 1e-5)
        else:
            m = feat.mean(0)
            v = feat.var(0, unbiased=False)
            hb = (feat - m) / torch.sqrt(v + 1e-5) * C["critic.bn.gamma"] + C["critic.bn.beta"]
        n = sum(1 for k in C if k.endswith(".w"))
        for j in range(n):
            hb = hb @ C["critic.%d.w" % j].T + C["critic.%d.b" % j]
            hb = torch.relu(hb) if j < n - 1 else torch.sigmoid(hb)
        return hb.squeeze(1)

    def target(logits, inp, k=3):
        t = x / x.norm(dim=1, keepdim=True)
        s = logits.detach().clone()
        s[inp != 0] = -float("inf")
        true = t * (inp == 0).double() * x  # dropped history items, value t (recbole)
        if paper:
            true = (true > 0).double()
        disc = 1.0 / torch.log2(torch.arange(2, k + 2).double())
        out = []
        for b in range(B):
            order = sorted(range(I), key=lambda i: (-s[b, i].item(), i))[:k]
            dcg = sum(true[b, i].item() * disc[r].item() for r, i in enumerate(order))
            n = int((true[b] > 0).sum().item())
            idcg = max(disc[:min(n, k)].sum().item(), 0.1)
            out.append(dcg / idcg)
        return torch.tensor(out)

    worst = {}

    def cmp(name, ours, theirs):
        diff = (torch.as_tensor(ours, dtype=torch.float64).reshape(-1) - theirs.detach().reshape(-1)).abs().max().item()
        worst[name] = max(worst.get(name, 0.0), diff)

    logits, ce, kl, inp = actor()
    cmp("logits", case["logits"], logits)
    cmp("ce", case["ce"], ce)
    cmp("kl", case["kl"], kl)
    loss = ce + beta * kl
    cmp("mean actor loss", [case["mean_actor_loss"]], loss.mean())
    g = torch.autograd.grad(loss.mean(), list(A.values()), retain_graph=True)
    for (k, v), gv in zip(A.items(), g):
        cmp("d mean actor loss", case["g_actor_loss"][k]["v"], gv)
    seen = (inp != 0).sum(1).double()
    unseen = x.sum(1) - seen
    feat = torch.stack([seen, unseen, ce if paper else loss], 1)
    tg = target(logits, inp)
    cmp("ndcg target", case["target"], tg)
    q = critic(feat)
    cmp("q", case["q"], q)
    closs = ((q - tg) ** 2).mean()
    if paper:
        closs = closs + 1e-4 * sum((C[k] ** 2).sum() for k in C if k.endswith(".w")) / B
    cmp("critic loss", [case["critic_loss"]], closs)
    gc = torch.autograd.grad(closs, list(C.values()), retain_graph=True)
    for (k, v), gv in zip(C.items(), gc):
        cmp("d critic loss", case["g_critic_loss"][k]["v"], gv)
    ac = (-q).mean()
    cmp("-mean(Q)", [case["ac_loss"]], ac)
    ga = torch.autograd.grad(ac, list(A.values()))
    for (k, v), gv in zip(A.items(), ga):
        cmp("d -mean(Q) w.r.t. actor", case["g_ac"][k]["v"], gv)
    return worst


def main():
    cases = json.load(open(sys.argv[1]))
    bad = 0
    for case in cases:
        for name, d in check(case).items():
            flag = "" if d < 1e-6 else "   <-- MISMATCH"
            bad += d >= 1e-6
            print("%-8s %-26s max |diff| %.3g%s" % (case["preset"], name, d, flag))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
