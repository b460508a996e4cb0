#!/usr/bin/python3
"""PyTorch DistributedDataParallel (gloo, CPU) over a tabular set in NumPy files, at any size.

    mpirun -n 2 /usr/bin/python3 bench/peers/torch_npy_ddp.py DIR [--epochs 3] [--seed 0]
           [--hidden 64] [--optimizer adamw|adam|sgd] [--lr LR] [--weight-decay 0.01]
           [--batch 128] [--no-standardize] [--threads 1]
    /usr/bin/python3 bench/peers/torch_npy_ddp.py DIR …          # one process (world 1)

DIR holds x.npy (float, rows × features), y.npy (integer labels 0 … C−1) and, if present,
x_test.npy and y_test.npy — what bench/make-tabular writes. They are opened with
np.load(mmap_mode='r') and never loaded whole: every pass reads them in chunks, every batch is
gathered from the mapping by fancy indexing with its sorted row indices.

Rank and world: RANK / WORLD_SIZE (as torchrun sets them; Debian's torchrun 1.13 fails at start
under Python 3.11, but the variables set by hand work), else OMPI_COMM_WORLD_RANK /
OMPI_COMM_WORLD_SIZE (mpirun), else 0 / 1. The rendezvous is MASTER_ADDR (default 127.0.0.1)
and MASTER_PORT (default 29517; give each concurrent run its own, e.g. `mpirun -x MASTER_PORT=…`);
a run of one process uses an in-process store instead, and no port. Threads per rank:
--threads (default 1), for both OpenBLAS and torch's OpenMP pool (see threads.py). Not
cores / ranks as the other peers: the model's GEMMs are tiny (64 × 32 × 64 at 2 ranks), and on
2 cores one process with 2 threads took 0.63 s/epoch on 10k rows against 0.11 s with 1.

The job: per-feature standardisation (x − mean) / sd with the mean and the (population) standard
deviation of the training split, computed before training in one pass in float64, chunk by
chunk (Chan's merge of per-chunk means and squared deviations), each rank over its contiguous
share of the rows, merged in rank order (sd 0 → 1); --no-standardize feeds the raw features.
Model MLP features-H-C, ReLU (H = --hidden, C = largest label + 1), PyTorch's default init
under torch.manual_seed(seed) (and DDP broadcasts rank 0's parameters); softmax cross-entropy;
AdamW (lr 1e-3, weight decay 0.01) by default, or Adam (lr 1e-3), or plain SGD (lr 0.1, no
momentum, no weight decay). Global batch 128 (the epoch's last batch is what is left, trained):
one permutation of the rows per epoch, shared by every rank, numpy's PCG64 seeded by
(seed, epoch) — not trainer's generator (bench/peers/portable_random.py is pure Python, far too
slow for millions of rows); rank r takes its contiguous share [r·b/W, (r+1)·b/W) of each global
batch (trainer's slicing) and the loss is scaled so that DDP's mean over ranks is the gradient of
the global batch's mean loss (as torch_ddp.py).

Prints on stderr one line per epoch (seconds, train loss, test accuracy), and on rank 0 one JSON
line on stdout: {"impl", "ranks", "epoch_seconds", "test_accuracy" (after the last epoch),
"allreduce_seconds": null, "peak_rss_mb" (max over ranks; it counts the pages of the mapped files
a rank has touched, which are page cache, not memory of its own), "rss_anon_mb" (max over ranks
of the anonymous memory at the end: this rank's own), "train_loss" and "test_accuracies" per
epoch (null where not finite: diverged), "stats_seconds" (the standardisation and label-count
pass), "rows", "test_rows", "features", "classes", "majority" (the largest class's share of the
training labels: what predicting one class scores), the settings, "threads", "torch"}.
epoch_seconds is rank 0's training loop (gather from the mapping, standardise, forward,
backward with DDP's allreduce, update), started after a barrier; the epoch's permutation (drawn
before) and the test evaluation (rank 0, after) are not timed.

Measured (bench/make-tabular 1000000, seed 0; 2 ranks on 2 shared cores): AdamW on standardised
features 65.2 / 66.5 / 66.7% test accuracy after epochs 1–3 (the teacher's ceiling: 67%),
15–18 s/epoch, of which gathering and standardising the batches is ~0.3 s; plain SGD lr 0.1
on the raw features 18.4% every epoch (the majority class; the loss blows up to 10⁷ and settles
at the priors' entropy). One process (world 1): 10.9 s for its first epoch, 65.3%.
"""
import argparse
import math
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import threads  # noqa: E402


THREADS = threads.flag("--threads", 1)
threads.configure(THREADS)

import numpy as np  # noqa: E402

import common  # noqa: E402

import torch  # noqa: E402
import torch.distributed as dist  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402
from torch.nn.parallel import DistributedDataParallel as DDP  # noqa: E402

CHUNK = 1 << 18  # rows per chunk of the statistics pass and of the test evaluation
DEFAULT_LR = {"adamw": 1e-3, "adam": 1e-3, "sgd": 0.1}


def finite(v):
    return v if v is not None and math.isfinite(v) else None


def statistics(x, y, rank, world, standardize):
    """(mean float64 (F,), sd float64 (F,), class counts int64 (C,)) of the whole training split,
    identical on every rank: each rank reads its contiguous share of the rows in chunks."""
    n, f = x.shape
    lo, hi = rank * n // world, (rank + 1) * n // world
    count, mean, m2 = 0, np.zeros(f), np.zeros(f)
    top = -1
    for a in range(lo, hi, CHUNK):
        b = min(hi, a + CHUNK)
        top = max(top, int(y[a:b].max()))
        if standardize:
            c = np.asarray(x[a:b], dtype=np.float64)
            cm = c.mean(axis=0)
            cm2 = ((c - cm) ** 2).sum(axis=0)
            k = b - a
            delta = cm - mean
            total = count + k
            mean = mean + delta * (k / total)
            m2 = m2 + cm2 + delta ** 2 * (count * k / total)
            count = total
    top_t = torch.tensor([top], dtype=torch.int64)
    dist.all_reduce(top_t, op=dist.ReduceOp.MAX)
    classes = int(top_t.item()) + 1
    counts = np.zeros(classes, dtype=np.int64)
    for a in range(lo, hi, CHUNK):
        counts += np.bincount(np.asarray(y[min(hi, a):min(hi, a + CHUNK)]), minlength=classes)
    counts_t = torch.from_numpy(counts)
    dist.all_reduce(counts_t)
    counts = counts_t.numpy()
    if not standardize:
        return np.zeros(f), np.ones(f), counts
    mine = torch.from_numpy(np.concatenate([[count], mean, m2]))
    parts = [torch.zeros_like(mine) for _ in range(world)]
    dist.all_gather(parts, mine)
    count, mean, m2 = 0, np.zeros(f), np.zeros(f)
    for part in parts:  # Chan's merge, in rank order: the same result on every rank
        p = part.numpy()
        k, pm, pm2 = p[0], p[1:1 + f], p[1 + f:]
        if k == 0:
            continue
        delta = pm - mean
        total = count + k
        mean = mean + delta * (k / total)
        m2 = m2 + pm2 + delta ** 2 * (count * k / total)
        count = total
    sd = np.sqrt(m2 / count)
    sd[sd == 0] = 1.0
    return mean, sd, counts


def prepare(rows, mean, sd):
    """Rows gathered from the mapping → standardised float32 tensor."""
    return torch.from_numpy(((rows - mean) / sd).astype(np.float32))


def accuracy(model, x, y, mean, sd):
    correct = 0
    with torch.no_grad():
        for a in range(0, len(x), CHUNK):
            b = min(len(x), a + CHUNK)
            pred = model(prepare(np.asarray(x[a:b]), mean, sd)).argmax(1).numpy()
            correct += int((pred == np.asarray(y[a:b])).sum())
    return correct / len(x)


def rss_anon_mb():
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("RssAnon:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("dir", help="directory with x.npy, y.npy [, x_test.npy, y_test.npy]")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--optimizer", choices=["adamw", "adam", "sgd"], default="adamw")
    p.add_argument("--lr", type=float, help="default 1e-3 for adamw and adam, 0.1 for sgd")
    p.add_argument("--weight-decay", type=float, default=0.01, help="AdamW's (default 0.01)")
    p.add_argument("--batch", type=int, default=common.BATCH, help="global batch (default 128)")
    p.add_argument("--threads", type=int, default=THREADS, help="OpenBLAS and torch threads per rank (default 1)")
    p.add_argument("--standardize", action=argparse.BooleanOptionalAction, default=True,
                   help="per-feature standardisation with the training split's mean and sd (default on)")
    args = p.parse_args()
    lr = args.lr if args.lr is not None else DEFAULT_LR[args.optimizer]

    if "RANK" in os.environ and "WORLD_SIZE" in os.environ:
        rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    else:
        rank = int(os.environ.get("OMPI_COMM_WORLD_RANK", "0"))
        world = int(os.environ.get("OMPI_COMM_WORLD_SIZE", "1"))
    torch.set_num_threads(THREADS)
    if world == 1:
        dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
    else:
        os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
        os.environ.setdefault("MASTER_PORT", "29517")
        dist.init_process_group("gloo", rank=rank, world_size=world)

    x = np.load(os.path.join(args.dir, "x.npy"), mmap_mode="r")
    y = np.load(os.path.join(args.dir, "y.npy"), mmap_mode="r")
    if x.ndim != 2 or y.shape != (x.shape[0],):
        sys.exit(f"torch_npy_ddp: x.npy {x.shape} and y.npy {y.shape} do not match (rows × features, rows)")
    test_x = test_y = None
    if os.path.isfile(os.path.join(args.dir, "x_test.npy")):
        test_x = np.load(os.path.join(args.dir, "x_test.npy"), mmap_mode="r")
        test_y = np.load(os.path.join(args.dir, "y_test.npy"), mmap_mode="r")
    n, features = x.shape

    dist.barrier()
    started = time.perf_counter()
    mean, sd, counts = statistics(x, y, rank, world, args.standardize)
    stats_seconds = time.perf_counter() - started
    classes = len(counts)
    majority = counts.max() / n
    if rank == 0:
        print(f"torch_npy_ddp: {n:,} rows × {features} features, {classes} classes (majority {100 * majority:.1f}%), "
              f"{world} rank{'s' if world > 1 else ''} × {THREADS} thread{'s' if THREADS > 1 else ''}; "
              f"statistics {stats_seconds:.2f} s", file=sys.stderr)

    torch.manual_seed(args.seed)
    model = nn.Sequential(nn.Linear(features, args.hidden), nn.ReLU(), nn.Linear(args.hidden, classes))
    ddp = DDP(model)  # broadcasts rank 0's parameters
    if args.optimizer == "adamw":
        opt = torch.optim.AdamW(ddp.parameters(), lr=lr, weight_decay=args.weight_decay)
    elif args.optimizer == "adam":
        opt = torch.optim.Adam(ddp.parameters(), lr=lr)
    else:
        opt = torch.optim.SGD(ddp.parameters(), lr=lr, momentum=0, weight_decay=0)

    batches = common.global_batches(n, args.batch)
    epoch_seconds, train_loss, accuracies = [], [], []
    for epoch in range(args.epochs):
        order = np.random.default_rng([args.seed, epoch]).permutation(n)
        loss_sum = 0.0
        dist.barrier()
        started = time.perf_counter()
        for lo, hi in batches:
            global_count = hi - lo
            a, b = common.rank_slice(lo, hi, rank, world)
            idx = np.sort(order[a:b])
            xb = prepare(x[idx], mean, sd)
            yb = torch.from_numpy(y[idx].astype(np.int64))
            # Summed over this rank's share and scaled by W / B (B the global batch's size): DDP's
            # mean over ranks is then the gradient of the global batch's mean loss (torch_ddp.py).
            loss = F.cross_entropy(ddp(xb), yb, reduction="sum")
            opt.zero_grad(set_to_none=False)
            (loss * (world / global_count)).backward()
            opt.step()
            loss_sum += loss.item()
        epoch_seconds.append(time.perf_counter() - started)
        total = torch.tensor([loss_sum], dtype=torch.float64)
        dist.all_reduce(total)
        train_loss.append(total.item() / n)
        acc = None
        if rank == 0 and test_x is not None:
            acc = accuracy(model, test_x, test_y, mean, sd)
        accuracies.append(acc)
        if rank == 0:
            shown = f"{acc:.4f}" if acc is not None else "–"
            print(f"torch_npy_ddp: epoch {epoch + 1} {epoch_seconds[-1]:.3f} s train_loss {train_loss[-1]:.4f} "
                  f"test_accuracy {shown}", file=sys.stderr)
        dist.barrier()

    rss = torch.tensor([common.peak_rss_mb(), rss_anon_mb() or 0.0], dtype=torch.float64)
    dist.all_reduce(rss, op=dist.ReduceOp.MAX)
    if rank == 0:
        common.report("torch_npy_ddp", world, epoch_seconds, accuracies[-1] if accuracies else None, None,
                      rss[0].item(), rss_anon_mb=rss[1].item(),
                      train_loss=[finite(v) for v in train_loss], test_accuracies=accuracies,
                      stats_seconds=stats_seconds, rows=n, test_rows=None if test_x is None else len(test_x),
                      features=features, classes=classes, majority=majority, hidden=args.hidden,
                      optimizer=args.optimizer, lr=lr,
                      weight_decay=args.weight_decay if args.optimizer == "adamw" else 0.0,
                      standardize=args.standardize, batch=args.batch, threads=THREADS, torch=torch.__version__)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
