#!/usr/bin/python3
"""PyTorch, one process, no DDP: the single-process peer of trainer's local mode in bench/compare.

    /usr/bin/python3 bench/peers/torch_single.py [--epochs 3] [--seed 0]
                                                 [--blas-threads CORES] [--torch-threads 1]
                                                 [--optimizer sgd|adam|adamw --lr LR --weight-decay λ]
                                                 [--activation relu|tanh|sigmoid]
                                                 [--steps N --save-parameters FILE]

Same job as trainer's default (see common.py), on all cores the way trainer's local mode uses
them: the GEMMs on OpenBLAS with one thread per core (--blas-threads, default all cores), torch's
own element-wise ops on --torch-threads OpenMP threads (default 1, as trainer's own loops).
Why not torch.set_num_threads(2) alone: Debian's torch (BLAS_INFO=generic) runs its GEMMs on
the system openblas-pthread, whose pool is sized by OPENBLAS_NUM_THREADS, not by torch; 2 OpenMP
threads spinning beside 2 OpenBLAS threads on 2 cores made an epoch take 2.5–16 s here instead
of ~1 s. `--torch-threads 2` reproduces that configuration.
Prints one JSON line: {"impl", "ranks", "epoch_seconds", "test_accuracy", "allreduce_seconds": null,
"peak_rss_mb"}. epoch_seconds is the training loop only (gather + forward + backward + update);
the test evaluation after every epoch is not timed.
--optimizer adam|adamw (torch.optim.Adam/AdamW, their defaults but --lr and AdamW's --weight-decay)
with --steps N and --save-parameters FILE is the reference trainer's Adam and AdamW are tested
against (Tests/CLITests/TorchOptimizerTests.swift, with --activation tanh): after N steps it
writes the parameters as float32 in trainer's layout (each layer's weight, outputs × inputs,
then its bias) and stops.
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import threads  # noqa: E402

BLAS_THREADS = threads.flag("--blas-threads", os.cpu_count() or 1)
TORCH_THREADS = threads.flag("--torch-threads", 1)
threads.configure(BLAS_THREADS, TORCH_THREADS)

import common  # noqa: E402

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402


ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}


def make_model(seed, activation="relu"):
    """784-256-128-10 with `activation` (ReLU unless told), starting from trainer's initial parameters for `seed` (drawn like
    nn.Linear's default, U(±1/√fan_in), by trainer's generator)."""
    w = common.WIDTHS
    act = ACTIVATIONS[activation]
    model = nn.Sequential(nn.Linear(w[0], w[1]), act(), nn.Linear(w[1], w[2]), act(), nn.Linear(w[2], w[3]))
    linears = [m for m in model if isinstance(m, nn.Linear)]
    with torch.no_grad():
        for linear, (weight, bias) in zip(linears, common.initial_parameters(seed)):
            linear.weight.copy_(torch.from_numpy(weight))
            linear.bias.copy_(torch.from_numpy(bias))
    return model


def accuracy(model, x, y):
    with torch.no_grad():
        return (model(x).argmax(1) == y).float().mean().item()


def main():
    p = common.parser(__doc__)
    p.add_argument("--blas-threads", type=int, default=BLAS_THREADS)
    p.add_argument("--torch-threads", type=int, default=TORCH_THREADS)
    p.add_argument("--optimizer", choices=["sgd", "adam", "adamw"], default="sgd")
    p.add_argument("--activation", choices=sorted(ACTIVATIONS), default="relu")
    p.add_argument("--lr", type=float, default=common.LR)
    p.add_argument("--weight-decay", type=float, default=0.01)
    p.add_argument("--steps", type=int, default=0, help="stop after this many steps (0: run the epochs)")
    p.add_argument("--save-parameters", help="write the parameters here (float32, trainer's layout) at the end")
    args = p.parse_args()
    torch.set_num_threads(args.torch_threads)
    train_x, train_y, test_x, test_y = (torch.from_numpy(a) for a in common.load(args.data))
    model = make_model(args.seed, args.activation)
    if args.optimizer == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    elif args.optimizer == "adamw":
        opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    else:
        opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0, weight_decay=0)
    steps = 0
    n = len(train_x)
    batches = common.global_batches(n)
    epoch_seconds, acc = [], None
    for epoch in range(args.epochs):
        order = torch.from_numpy(common.permutation(args.seed, epoch, n))
        started = time.perf_counter()
        for lo, hi in batches:
            idx = order[lo:hi]
            xb, yb = train_x.index_select(0, idx), train_y.index_select(0, idx)
            loss = F.cross_entropy(model(xb), yb)  # mean over the batch (96 for the last one)
            opt.zero_grad(set_to_none=False)
            loss.backward()
            opt.step()
            steps += 1
            if steps == args.steps:
                break
        if steps == args.steps:
            break
        epoch_seconds.append(time.perf_counter() - started)
        acc = accuracy(model, test_x, test_y)
        print(f"torch_single: epoch {epoch + 1} {epoch_seconds[-1]:.3f} s test_accuracy {acc:.4f}",
              file=sys.stderr)
    if args.save_parameters:
        with open(args.save_parameters, "wb") as f:
            for m in model:
                if isinstance(m, nn.Linear):
                    f.write(m.weight.detach().numpy().astype("<f4").tobytes())
                    f.write(m.bias.detach().numpy().astype("<f4").tobytes())
    if args.steps:
        return
    common.report("torch_single", 1, epoch_seconds, acc, None, common.peak_rss_mb(),
                  torch_threads=torch.get_num_threads(), blas_threads=args.blas_threads,
                  torch=torch.__version__)


if __name__ == "__main__":
    main()
