#!/usr/bin/python3
"""PyTorch DistributedDataParallel over gloo, one process per rank, launched by mpirun.

    mpirun -n 2 [--oversubscribe] /usr/bin/python3 bench/peers/torch_ddp.py [--epochs 3] [--seed 0]
           [--timed-allreduce]

Rank and world size come from OMPI_COMM_WORLD_RANK / OMPI_COMM_WORLD_SIZE; the rendezvous is
MASTER_ADDR (default 127.0.0.1) and MASTER_PORT (default 29517; bench/compare passes a fresh one
per run). Threads per rank: cores / ranks on the node, at least 1, both for torch's OpenMP pool
and for OpenBLAS (Debian's torch runs its GEMMs on the system OpenBLAS; see threads.py).

Same job as trainer's default (see common.py): global batch 128, rank r takes its contiguous
share of each global batch (trainer's slicing: [r·b/W, (r+1)·b/W)), the last global batch of the
epoch (96) is trained. Initial parameters: trainer's own for the seed on every rank (and DDP
also broadcasts rank 0's parameters when it wraps the model).

--timed-allreduce replaces DDP's default comm hook by one that runs the same allreduce (then the
same division by the world size) synchronously and times it, to report allreduce_seconds. With
one bucket (the model's 0.94 MB of gradients fit DDP's default 25 MB bucket) the default hook
cannot overlap the allreduce with backward anyway, so this changes little; without the flag
allreduce_seconds is null.

Prints, on rank 0 only, one JSON line: {"impl", "ranks", "epoch_seconds", "test_accuracy",
"allreduce_seconds", "peak_rss_mb" (max over ranks)}. epoch_seconds is rank 0's training loop
(gather + forward + backward with DDP's allreduce + update), started after a barrier; the test
evaluation (rank 0, full test set) is not timed.
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import threads  # noqa: E402

THREADS = threads.per_rank()
threads.configure(THREADS)

import common  # noqa: E402

import torch  # noqa: E402
import torch.distributed as dist  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch.nn.parallel import DistributedDataParallel as DDP  # noqa: E402

from torch_single import accuracy, make_model  # noqa: E402


def main():
    p = common.parser(__doc__)
    p.add_argument("--timed-allreduce", action="store_true")
    args = p.parse_args()
    timed = args.timed_allreduce
    rank = int(os.environ.get("OMPI_COMM_WORLD_RANK", "0"))
    world = int(os.environ.get("OMPI_COMM_WORLD_SIZE", "1"))
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    os.environ.setdefault("MASTER_PORT", "29517")
    torch.set_num_threads(THREADS)
    dist.init_process_group("gloo", rank=rank, world_size=world)

    train_x, train_y, test_x, test_y = (torch.from_numpy(a) for a in common.load(args.data))
    model = make_model(args.seed)  # trainer's initial parameters, the same on every rank
    ddp = DDP(model)  # broadcasts rank 0's parameters and buffers to every rank

    allreduce_time = [0.0]
    if timed:
        def timed_allreduce(state, bucket):
            # What DDP's default hook does (allreduce SUM, then divide by the world size), but
            # synchronously, so that its duration can be measured.
            buf = bucket.buffer()
            t = time.perf_counter()
            dist.all_reduce(buf)
            allreduce_time[0] += time.perf_counter() - t
            buf.div_(world)
            fut = torch.futures.Future()
            fut.set_result(buf)
            return fut
        ddp.register_comm_hook(None, timed_allreduce)

    opt = torch.optim.SGD(ddp.parameters(), lr=common.LR, momentum=0, weight_decay=0)
    n = len(train_x)
    batches = common.global_batches(n)
    epoch_seconds, allreduce_seconds, acc = [], [], None
    for epoch in range(args.epochs):
        order = torch.from_numpy(common.permutation(args.seed, epoch, n))
        dist.barrier()
        allreduce_time[0] = 0.0
        started = time.perf_counter()
        for lo, hi in batches:
            global_count = hi - lo
            a, b = common.rank_slice(lo, hi, rank, world)
            idx = order[a:b]
            xb, yb = train_x.index_select(0, idx), train_y.index_select(0, idx)
            # The exact global mean gradient. DDP averages gradients over ranks:
            #   g = (1/W) Σ_r ∇L_r.
            # With L_r = (W / B) · Σ_{i in rank r's share} ℓ_i, where B is the GLOBAL batch's size
            # (128, or 96 for the epoch's last batch), that is
            #   g = (1/W) Σ_r (W/B) Σ_i ∇ℓ_i = (1/B) Σ_{all i in the global batch} ∇ℓ_i,
            # the gradient of the global batch's mean loss, whatever the shares' sizes (they differ
            # by ≤ 1, and an empty share contributes 0 and still joins the allreduce). For W a
            # power of two the factor W and DDP's division by W are exact in float32.
            loss = F.cross_entropy(ddp(xb), yb, reduction="sum") * (world / global_count)
            opt.zero_grad(set_to_none=False)
            loss.backward()
            opt.step()
        epoch_seconds.append(time.perf_counter() - started)
        allreduce_seconds.append(allreduce_time[0])
        if rank == 0:
            acc = accuracy(model, test_x, test_y)
            print(f"torch_ddp: epoch {epoch + 1} {epoch_seconds[-1]:.3f} s test_accuracy {acc:.4f}",
                  file=sys.stderr)
        dist.barrier()

    rss = torch.tensor([common.peak_rss_mb()], dtype=torch.float64)
    dist.all_reduce(rss, op=dist.ReduceOp.MAX)
    if rank == 0:
        common.report("torch_ddp", world, epoch_seconds, acc, allreduce_seconds if timed else None,
                      rss.item(), threads=THREADS, torch=torch.__version__)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
