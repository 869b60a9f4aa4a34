#!/usr/bin/python3
"""RecBole's RaCT actor epoch and full-ranking evaluation, in PyTorch, timed on this machine.

The baseline that `tools/bench` is compared with, measured in the same session on the same
machine (a ratio between two runs of one moment, not against a number from elsewhere). It
does what RecBole's RaCT does in the `recbole` preset's actor stage: a dense (B, I) rating
matrix per batch of 2048 users, L2 normalisation, inverted dropout 0.5,
Linear(I, 600) tanh Linear(600, 2*128), eps ~ N(0, 0.01^2), Linear(128, 600) tanh
Linear(600, I), multinomial CE + beta*KL, Adam (lr 1e-3); and RecBole's full-sort
evaluation: forward of every validation user in batches, history masked to -inf, top-10.

Optional, outside the build and the tests: needs Debian's python3-torch
(`apt-get install python3-torch`; run with the system /usr/bin/python3) and, for BLIS's
AVX-512 kernels and two threads, `BLIS_ARCH_TYPE=0 BLIS_NUM_THREADS=2 OMP_NUM_THREADS=2`.

  D=$RACT_DATA_DIR/ml-1m/recbole_split   # RecBole's ml-1m split (ract/data/README.md)
  BLIS_ARCH_TYPE=0 BLIS_NUM_THREADS=2 OMP_NUM_THREADS=2 \
    tools/bench_recbole.py --threads=2 --train=$D/train.tsv --valid=$D/valid.tsv \
    --test=$D/test.tsv
"""
import argparse
import json
import resource
import time

import torch
import torch.nn.functional as F


def read_pairs(path, users, items):
    """(user, item) rows of a RecBole atomic file or a plain TSV; ids mapped densely."""
    out = []
    with open(path) as f:
        header = f.readline().rstrip("\n").split("\t")
        names = [h.split(":")[0] for h in header]
        ui, ii = names.index("user_id"), names.index("item_id")
        for line in f:
            cols = line.rstrip("\n").split("\t")
            u = users.setdefault(cols[ui], len(users))
            i = items.setdefault(cols[ii], len(items))
            out.append((u, i))
    return out


def csr(pairs, n_users):
    rows = [[] for _ in range(n_users)]
    for u, i in pairs:
        rows[u].append(i)
    return rows


class Actor(torch.nn.Module):
    def __init__(self, n_items, hidden, latent):
        super().__init__()
        self.latent = latent
        self.enc = torch.nn.Sequential(torch.nn.Linear(n_items, hidden), torch.nn.Tanh(),
                                       torch.nn.Linear(hidden, 2 * latent))
        self.dec = torch.nn.Sequential(torch.nn.Linear(latent, hidden), torch.nn.Tanh(),
                                       torch.nn.Linear(hidden, n_items))

    def forward(self, x, train):
        h = F.dropout(F.normalize(x), 0.5, training=train)
        h = self.enc(h)
        mu, logvar = h[:, :self.latent], h[:, self.latent:]
        z = mu
        if train:
            z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu) * 0.01
        return self.dec(z), mu, logvar


class History:
    """The users' items as one flat tensor (RecBole keeps a padded history matrix): a batch's
    dense (B, I) rating matrix is one index_put, no Python loop per item."""

    def __init__(self, rows):
        self.items = torch.tensor([i for r in rows for i in r], dtype=torch.long)
        self.len = torch.tensor([len(r) for r in rows], dtype=torch.long)
        self.start = torch.cumsum(self.len, 0) - self.len

    def dense(self, users, n_items):
        users = torch.as_tensor(users, dtype=torch.long)
        lens = self.len[users]
        rows = torch.repeat_interleave(torch.arange(len(users)), lens)
        offs = torch.arange(int(lens.sum())) - torch.repeat_interleave(torch.cumsum(lens, 0) - lens,
                                                                       lens)
        cols = self.items[torch.repeat_interleave(self.start[users], lens) + offs]
        x = torch.zeros(len(users), n_items)
        x[rows, cols] = 1.0
        return x


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", required=True)
    ap.add_argument("--valid", required=True)
    ap.add_argument("--test", help="read for the item vocabulary only (as tools/bench counts items)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--epochs", type=int, default=3, help="the first is a warm-up")
    ap.add_argument("--batch", type=int, default=2048)
    ap.add_argument("--report")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(2020)
    users, items = {}, {}
    train = read_pairs(a.train, users, items)
    valid = read_pairs(a.valid, users, items)
    if a.test:
        read_pairs(a.test, users, items)
    n_users, n_items = len(users), len(items)
    hist, truth = csr(train, n_users), csr(valid, n_users)
    hist_t = History(hist)
    model = Actor(n_items, 600, 128)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    train_users = [u for u in range(n_users) if hist[u]]
    epochs, step = [], 0
    for epoch in range(a.epochs):
        t0 = time.perf_counter()
        perm = torch.randperm(len(train_users)).tolist()
        for b0 in range(0, len(perm), a.batch):
            batch = [train_users[j] for j in perm[b0:b0 + a.batch]]
            x = hist_t.dense(batch, n_items)
            logits, mu, logvar = model(x, True)
            step += 1
            beta = min(0.2, step / 200000)
            ce = -(F.log_softmax(logits, 1) * x).sum(1).mean()
            kl = -0.5 * torch.mean(torch.sum(1 + logvar - mu.pow(2) - logvar.exp(), dim=1))
            loss = ce + beta * kl
            opt.zero_grad()
            loss.backward()
            opt.step()
        epochs.append(time.perf_counter() - t0)
    timed = epochs[1:] if len(epochs) > 1 else epochs
    eval_users = [u for u in range(n_users) if truth[u]]
    evals = []
    with torch.no_grad():
        for _ in range(3):
            t0 = time.perf_counter()
            hits = 0
            for b0 in range(0, len(eval_users), 1024):
                batch = eval_users[b0:b0 + 1024]
                x = hist_t.dense(batch, n_items)
                scores, _, _ = model(x, False)
                scores[x > 0] = -float("inf")
                top = torch.topk(scores, 10, dim=1).indices.tolist()
                hits += sum(len(set(t) & set(truth[u])) for t, u in zip(top, batch))
            evals.append(time.perf_counter() - t0)
    rep = {
        "threads": a.threads,
        "torch": torch.__version__,
        "users": n_users,
        "items": n_items,
        "actor_pretrain": {"seconds_per_epoch": sum(timed) / len(timed),
                           "min_seconds_per_epoch": min(timed), "epochs_timed": len(timed)},
        "eval": {"seconds": min(evals), "users": len(eval_users), "hits@10": hits},
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
    }
    text = json.dumps(rep)
    print(text)
    if a.report:
        with open(a.report, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
