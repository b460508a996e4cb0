#!/usr/bin/python3
"""Run a command and write its peak RSS (KiB, as GNU time's %M) to OUT.RANK.

    /usr/bin/python3 bench/peers/rss.py OUT COMMAND [ARGS…]

RANK is OMPI_COMM_WORLD_RANK (0 outside mpirun), so that every rank of `mpirun … rss.py OUT cmd`
writes its own file. bench/compare uses this for trainer's ranks only when /usr/bin/time is
missing. The exit status is the command's.
"""
import os
import resource
import subprocess
import sys


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    out, command = sys.argv[1], sys.argv[2:]
    status = subprocess.call(command)
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    with open(f"{out}.{os.environ.get('OMPI_COMM_WORLD_RANK', '0')}", "w") as f:
        f.write(f"{peak_kib}\n")
    sys.exit(status if status >= 0 else 128 - status)


if __name__ == "__main__":
    main()
