#!/usr/bin/python3
"""The "textbook" data-parallel MLP: numpy forward/backward by hand + mpi4py, one process per rank.

    mpirun -n 2 [--oversubscribe] /usr/bin/python3 bench/peers/numpy_mpi.py [--epochs 3] [--seed 0]

Same job as trainer's default (see common.py). Each step, rank r takes its contiguous share of
the global batch ([r·b/W, (r+1)·b/W), as trainer), runs forward and backward with numpy
matmuls, and writes the SUM over its samples of the per-sample gradients of all layers into
ONE flat float32 buffer (the layers' gradients are views into it). One
comm.Allreduce(MPI.IN_PLACE, buffer, op=MPI.SUM) gives the global sum; every rank divides by
the global batch's size (128, or 96 for the epoch's last batch) and takes the SGD step on its
copy of the parameters (also one flat float32 buffer with per-layer views). Initial parameters:
trainer's own for the seed (common.initial_parameters), made on rank 0 and broadcast. OpenBLAS
threads per rank: cores / ranks on the node, at least 1 (OPENBLAS_NUM_THREADS, set before numpy
loads).

Prints, on rank 0 only, one JSON line: {"impl", "ranks", "epoch_seconds" (rank 0's training
loop, started after a barrier), "test_accuracy" (rank 0, full test set, not timed),
"allreduce_seconds" (rank 0's time inside Allreduce per epoch, waiting for other ranks
included), "peak_rss_mb" (max over ranks)}.
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import threads  # noqa: E402

THREADS = threads.per_rank()
threads.configure(THREADS)

import numpy as np  # noqa: E402
from mpi4py import MPI  # noqa: E402

import common  # noqa: E402


class MLP:
    """784-256-128-10, ReLU; weights stored inputs × outputs so that a layer is X @ W + b."""

    def __init__(self, widths):
        self.shapes = []
        for n, m in zip(widths[:-1], widths[1:]):
            self.shapes += [(n, m), (m,)]
        sizes = [int(np.prod(s)) for s in self.shapes]
        self.offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(int)
        self.count = int(self.offsets[-1])
        self.params = np.zeros(self.count, dtype=np.float32)
        self.grads = np.zeros(self.count, dtype=np.float32)  # the ONE buffer that is allreduced
        self.p = self._views(self.params)   # [W1, b1, W2, b2, W3, b3]
        self.g = self._views(self.grads)

    def _views(self, flat):
        return [flat[a:b].reshape(s) for a, b, s in zip(self.offsets[:-1], self.offsets[1:], self.shapes)]

    def init(self, seed):
        """trainer's initial parameters (U(±1/√fan_in), as PyTorch's nn.Linear), transposed to
        inputs × outputs."""
        for i, (w, b) in enumerate(common.initial_parameters(seed)):
            self.p[2 * i][...] = w.T
            self.p[2 * i + 1][...] = b

    def scores(self, x):
        W1, b1, W2, b2, W3, b3 = self.p
        a1 = np.maximum(x @ W1 + b1, 0)
        a2 = np.maximum(a1 @ W2 + b2, 0)
        return a2 @ W3 + b3

    def backward_sum(self, x, y):
        """Forward, then the SUM over the rows of x of the per-sample gradients of the softmax
        cross-entropy into self.grads. Returns the summed loss."""
        W1, b1, W2, b2, W3, b3 = self.p
        gW1, gb1, gW2, gb2, gW3, gb3 = self.g
        z1 = x @ W1 + b1
        a1 = np.maximum(z1, 0)
        z2 = a1 @ W2 + b2
        a2 = np.maximum(z2, 0)
        s = a2 @ W3 + b3
        s -= s.max(axis=1, keepdims=True)              # stable softmax
        e = np.exp(s)
        total = e.sum(axis=1, keepdims=True)
        rows = np.arange(len(y))
        loss = float(np.sum(np.log(total[:, 0]) - s[rows, y]))
        d3 = e / total                                  # ∂(Σ ℓ)/∂s = softmax(s) − onehot(y)
        d3[rows, y] -= 1
        np.matmul(a2.T, d3, out=gW3)
        np.sum(d3, axis=0, out=gb3)
        d2 = (d3 @ W3.T) * (z2 > 0)                    # ReLU'(0) = 0
        np.matmul(a1.T, d2, out=gW2)
        np.sum(d2, axis=0, out=gb2)
        d1 = (d2 @ W2.T) * (z1 > 0)
        np.matmul(x.T, d1, out=gW1)                     # no input gradient for the first layer
        np.sum(d1, axis=0, out=gb1)
        return loss


def main():
    args = common.parser(__doc__).parse_args()
    comm = MPI.COMM_WORLD
    rank, world = comm.Get_rank(), comm.Get_size()
    train_x, train_y, test_x, test_y = common.load(args.data)

    net = MLP(common.WIDTHS)
    if rank == 0:
        net.init(args.seed)
    comm.Bcast(net.params, root=0)

    n = len(train_x)
    batches = common.global_batches(n)
    epoch_seconds, allreduce_seconds, acc = [], [], None
    for epoch in range(args.epochs):
        order = common.permutation(args.seed, epoch, n)
        reduce_time = 0.0
        comm.Barrier()
        started = time.perf_counter()
        for lo, hi in batches:
            a, b = common.rank_slice(lo, hi, rank, world)
            idx = order[a:b]
            net.backward_sum(train_x[idx], train_y[idx])
            t = time.perf_counter()
            comm.Allreduce(MPI.IN_PLACE, net.grads, op=MPI.SUM)
            reduce_time += time.perf_counter() - t
            net.params -= np.float32(common.LR / (hi - lo)) * net.grads  # divide by the global count
        epoch_seconds.append(time.perf_counter() - started)
        allreduce_seconds.append(reduce_time)
        if rank == 0:
            acc = float(np.mean(net.scores(test_x).argmax(axis=1) == test_y))
            print(f"numpy_mpi: epoch {epoch + 1} {epoch_seconds[-1]:.3f} s allreduce {reduce_time:.3f} s "
                  f"test_accuracy {acc:.4f}", file=sys.stderr)
        comm.Barrier()

    rss = comm.reduce(common.peak_rss_mb(), op=MPI.MAX, root=0)
    if rank == 0:
        common.report("numpy_mpi", world, epoch_seconds, acc, allreduce_seconds, rss, threads=THREADS)


if __name__ == "__main__":
    main()
