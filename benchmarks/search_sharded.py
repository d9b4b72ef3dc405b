"""Benchmark: a sharded FAISS index (IVF per shard, merged top-k) against one IVF index and exact search.

Data: SYNTHETIC clustered unit vectors (the Gaussian mixture on the sphere of
``benchmarks/search.py``; default 1,000,000 × 128, 1,000 queries, top 10).
For 1 (one IVF index) and ``--shards`` shards (:func:`moodbridge.search.sharded.build_sharded`,
built and searched in this process, one shard after another: on a cluster each
shard is one worker's), prints build time, recall@10 against exact
``IndexFlatIP`` search, and the time per query for batches of queries (the
pairing's use: every clip a query) and for single queries.

Usage: python benchmarks/search_sharded.py [--n 1000000] [--dim 128] [--shards 4,16] [--nprobe 32]
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path
import sys

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from search import exact_truth, recall, structured  # noqa: E402

from moodbridge.search.sharded import build_sharded  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--dim", type=int, default=128)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--top", type=int, default=10)
    parser.add_argument("--shards", default="1,4,16")
    parser.add_argument("--nprobe", type=int, default=32)
    args = parser.parse_args()
    x, q = structured(args.n, args.dim, args.queries, seed=0)
    gt, t_exact = exact_truth(x, q, args.top)
    print(f"{args.n} x {args.dim} synthetic clustered vectors, {args.queries} queries, top {args.top}, "
          f"nprobe {args.nprobe} per shard; exact IndexFlatIP batch: {1e3 * t_exact / len(q):.3f} ms/query")
    print(f"{'shards':>6} {'build s':>8} {'recall':>7} {'batch ms/q':>11} {'single ms/q':>12}")
    for shards in (int(s) for s in args.shards.split(",")):
        start = time.perf_counter()
        index = build_sharded(x, shards=shards, kind="ivf")
        build = time.perf_counter() - start
        start = time.perf_counter()
        ids, _ = index.search(q, args.top, nprobe=args.nprobe)
        batch = time.perf_counter() - start
        start = time.perf_counter()
        for row in q[:200]:
            index.search(row, args.top, nprobe=args.nprobe)
        single = (time.perf_counter() - start) / 200
        print(f"{shards:>6} {build:>8.1f} {recall(ids, gt):>7.4f} {1e3 * batch / len(q):>11.3f} {1e3 * single:>12.3f}",
              flush=True)


if __name__ == "__main__":
    main()
