#!/usr/bin/env python3
"""Writes a synthetic root-filesystem-like tree for the ext4 benchmark.

Usage: make-tree.py FOLDER [FILES] [TOTAL_MIB]

FILES files (default 50000) in folders of 500, with sizes drawn from a seeded
log-uniform distribution (64 bytes to 1 MiB) scaled so the total is TOTAL_MIB
(default 1024). Content is seeded pseudo-random bytes, so every run writes the
same tree.
"""
import math
import os
import random
import sys


def main() -> None:
    folder = sys.argv[1]
    files = int(sys.argv[2]) if len(sys.argv) > 2 else 50_000
    total = (int(sys.argv[3]) if len(sys.argv) > 3 else 1024) << 20
    rng = random.Random(20260101)
    raw = [math.exp(rng.uniform(math.log(64), math.log(1 << 20))) for _ in range(files)]
    scale = total / sum(raw)
    pool = rng.randbytes(4 << 20)
    for index, size in enumerate(raw):
        directory = os.path.join(folder, f"dir-{index // 500:03d}")
        if index % 500 == 0:
            os.makedirs(directory, exist_ok=True)
        length = max(1, int(size * scale))
        start = rng.randrange(0, len(pool) - min(length, len(pool)) + 1)
        with open(os.path.join(directory, f"file-{index:05d}.bin"), "wb") as handle:
            remaining = length
            while remaining > 0:
                piece = pool[start:start + min(remaining, len(pool) - start)]
                handle.write(piece)
                remaining -= len(piece)
                start = 0


if __name__ == "__main__":
    main()
