"""Thread counts for the peers, set BEFORE numpy or torch is imported.

Debian's torch and numpy both run their GEMMs on the system OpenBLAS (libblas.so.3 →
openblas-pthread), whose thread pool is sized by OPENBLAS_NUM_THREADS when the library loads;
torch.set_num_threads only sizes torch's own OpenMP pool. Both must be set, or a rank runs
2 OpenBLAS threads + N OpenMP threads on 2 cores. Imports nothing but os and sys.
"""
import os
import sys


def per_rank():
    """Threads for one rank under mpirun: the cores this process may run on (its CPU affinity)
    / ranks on this node, at least 1 (as trainer)."""
    local = int(os.environ.get("OMPI_COMM_WORLD_LOCAL_SIZE", "1"))
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, cores // max(1, local))


def flag(name, default):
    """The integer value of `--name N` / `--name=N` in sys.argv, read before argparse runs."""
    argv = sys.argv[1:]
    for i, a in enumerate(argv):
        if a == name and i + 1 < len(argv):
            return int(argv[i + 1])
        if a.startswith(name + "="):
            return int(a.split("=", 1)[1])
    return default


def configure(blas, omp=None):
    """OpenBLAS (and MKL, if any) get `blas` threads, OpenMP gets `omp` (default: `blas`)."""
    os.environ["OPENBLAS_NUM_THREADS"] = str(blas)
    os.environ["MKL_NUM_THREADS"] = str(blas)
    os.environ["OMP_NUM_THREADS"] = str(omp if omp is not None else blas)
