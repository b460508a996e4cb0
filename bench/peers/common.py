"""Shared pieces of the bench/compare peers: the data, the batch plan, the JSON line.

Imported by torch_ddp.py, torch_single.py and numpy_mpi.py AFTER threads.configure (this module
imports numpy, which loads OpenBLAS); nothing here imports torch or mpi4py. torch_npy_ddp.py
(a tabular set in .npy files, not this job) takes only the batch plan and the JSON line.
The job is trainer's default job: Fashion-MNIST (pixels / 255 as float32), MLP 784-256-128-10
ReLU, softmax cross-entropy, plain SGD lr 0.1, global batch 128 (last batch of the epoch 96,
trained), a fresh shuffle every epoch, init U(±1/√fan_in) as PyTorch's nn.Linear.

Every peer starts from trainer's own initial parameters and visits the samples in trainer's own
order for the same --seed (portable_random.py ports trainer's generator, bit for bit), so the
peers and trainer compute the same training run up to floating-point summation order: their
accuracies differ by rounding, not by the luck of the draw.
"""
import argparse
import gzip
import json
import os
import resource

import numpy as np

import portable_random

DATA_DIR = "/usr/share/datasets/fashion-mnist"
WIDTHS = (784, 256, 128, 10)
BATCH = 128
LR = 0.1


def parser(description):
    p = argparse.ArgumentParser(description=description,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data", default=DATA_DIR)
    return p


def _idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    dims = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(dims))
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def load(data_dir=DATA_DIR):
    """(train_x, train_y, test_x, test_y): x float32 (N, 784) in [0, 1], y int64 (N,)."""
    out = []
    for split in ("train", "t10k"):
        x = _idx(f"{data_dir}/{split}-images-idx3-ubyte.gz")
        y = _idx(f"{data_dir}/{split}-labels-idx1-ubyte.gz")
        out += [np.ascontiguousarray(x.reshape(len(x), -1), dtype=np.float32) / np.float32(255),
                y.astype(np.int64)]
    return tuple(out)


def permutation(seed, epoch, n):
    """trainer's order of epoch `epoch` (int64): the same on every rank and in every peer."""
    return np.asarray(portable_random.epoch_permutation(n, seed, epoch), dtype=np.int64)


def initial_parameters(seed, widths=WIDTHS):
    """trainer's initial parameters for `seed`: [(weight float32 (outputs, inputs), bias float32
    (outputs,))] per layer — nn.Linear's layout."""
    return [(np.asarray(w, dtype=np.float64).astype(np.float32), np.asarray(b, dtype=np.float64).astype(np.float32))
            for w, b in portable_random.initial_layers(widths, seed)]


def global_batches(n, batch=BATCH):
    """(lo, hi) of every global batch: 469 of them for 60000 samples, the last one 96."""
    return [(lo, min(lo + batch, n)) for lo in range(0, n, batch)]


def rank_slice(lo, hi, rank, world):
    """Rank `rank`'s contiguous share of global batch [lo, hi): [lo + r·b/W, lo + (r+1)·b/W),
    exactly as trainer's BatchPlan.slice; shares differ by at most one and may be empty."""
    b = hi - lo
    return lo + rank * b // world, lo + (rank + 1) * b // world


def peak_rss_mb():
    """Peak RSS of this process in MB (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def report(impl, ranks, epoch_seconds, test_accuracy, allreduce_seconds, rss_mb, **extra):
    """The one JSON line on stdout (rank 0 only)."""
    line = {"impl": impl, "ranks": ranks, "epoch_seconds": epoch_seconds,
            "test_accuracy": test_accuracy, "allreduce_seconds": allreduce_seconds,
            "peak_rss_mb": rss_mb}
    line.update(extra)
    print(json.dumps(line), flush=True)
