"""Benchmark: single-query latency and recall@10 of moodbridge's FAISS indexes.

Target (Emo-CLIM retrieval at library scale): 1,000,000 items of 128-d in one
joint-space modality, 1,000 queries one at a time: median and p95 latency
≤ 2 ms with recall@10 ≥ 0.95 against exact search.

Data are SYNTHETIC, two sets, seeded:

* ``structured`` — a Gaussian mixture on the unit sphere, shaped like
  projection-head embeddings (SupCon pulls items of one emotion together):
  ``n / 1000`` cluster centres uniform on the sphere; each item is its centre
  plus isotropic Gaussian noise of norm about σ, σ drawn per cluster in
  [0.6, 1.2] (cosine to its centre ≈ 0.64 … 0.86), re-normalised.  Cluster
  sizes follow a Zipf-like law (some emotions are much more common).  The
  queries are fresh draws from the same mixture (not database items).
* ``uniform`` — i.i.d. uniform on the sphere: the worst case for any
  approximate index (no structure, intrinsic dimension 128), reported for
  honesty, not as the target.

Ground truth: exact top-10 from ``faiss.IndexFlatIP`` in the same run (batched,
all threads).  The exact index's own single-query latency is the baseline.
Latency: wall time of one ``VectorIndex.search(q, 10)`` call per query (query
validation, normalisation and id mapping included), 1,000 queries, after 20
warm-up queries; single queries run on one OpenMP thread (the library default;
the 2-thread figure is printed beside it).
Memory: serialised index bytes (``faiss.serialize_index``) and the RSS delta of
the build (``/proc/self/status`` VmRSS, after ``malloc_trim``).

Usage: python benchmarks/search.py [--n 1000000] [--dim 128] [--queries 1000]
       [--quick] [--kinds hnsw,ivf] [--data structured,uniform]
       [--ef 16,32,48,64,96,128,256,512] [--nprobe 8,16,32,64,128,256]
"""
from __future__ import annotations

import argparse
import contextlib
import ctypes
import time
from pathlib import Path

import faiss
import numpy as np

from moodbridge.search import DEFAULT_EF_CONSTRUCTION, DEFAULT_HNSW_M, build_index

TARGET_MS, TARGET_RECALL = 2.0, 0.95


def rss_bytes() -> int:
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def unit(x: np.ndarray) -> np.ndarray:
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x


def structured(n: int, d: int, n_queries: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian mixture on the sphere (see the module docstring): database and query draws."""
    rng = np.random.default_rng(seed)
    n_clusters = max(10, n // 1000)
    centres = unit(rng.standard_normal((n_clusters, d), dtype=np.float32))
    sigma = rng.uniform(0.6, 1.2, n_clusters).astype(np.float32)
    weights = 1.0 / np.arange(1, n_clusters + 1) ** 0.5
    weights = rng.permutation(weights / weights.sum())

    def draw(m: int) -> np.ndarray:
        out = np.empty((m, d), dtype=np.float32)
        for start in range(0, m, 65536):
            stop = min(m, start + 65536)
            c = rng.choice(n_clusters, stop - start, p=weights)
            noise = rng.standard_normal((stop - start, d), dtype=np.float32) * (sigma[c, None] / np.sqrt(d))
            out[start:stop] = unit(centres[c] + noise)
        return out

    return draw(n), draw(n_queries)


def uniform(n: int, d: int, n_queries: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed + 1)
    draw = (unit(rng.standard_normal((m, d), dtype=np.float32)) for m in (n, n_queries))
    return next(draw), next(draw)


def exact_truth(x: np.ndarray, q: np.ndarray, k: int) -> tuple[np.ndarray, float]:
    flat = faiss.IndexFlatIP(x.shape[1])
    flat.add(x)
    start = time.perf_counter()
    _, gt = flat.search(q, k)
    return gt, time.perf_counter() - start


def latencies(index, q: np.ndarray, k: int, **kw) -> tuple[np.ndarray, np.ndarray]:
    for i in range(min(20, len(q))):
        index.search(q[i], k, **kw)
    times = np.empty(len(q))
    found = np.empty((len(q), k), dtype=np.int64)
    for i in range(len(q)):
        t0 = time.perf_counter()
        ids, _ = index.search(q[i], k, **kw)
        times[i] = time.perf_counter() - t0
        found[i, : len(ids)] = ids
    return times * 1e3, found


def recall(found: np.ndarray, gt: np.ndarray) -> float:
    k = gt.shape[1]
    return float(np.mean([len(set(f.tolist()) & set(g.tolist())) / k for f, g in zip(found, gt, strict=True)]))


def row(label: str, ms: np.ndarray, rec: float) -> str:
    med, p95 = np.median(ms), np.percentile(ms, 95)
    ok = "yes" if med <= TARGET_MS and p95 <= TARGET_MS and rec >= TARGET_RECALL else "no"
    return f"  {label:<22} {med:8.3f} {p95:8.3f} {rec:9.4f}   {ok}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--dim", type=int, default=128)
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--top", type=int, default=10)
    ap.add_argument("--quick", action="store_true", help="100,000 items")
    ap.add_argument("--kinds", default="hnsw,ivf")
    ap.add_argument("--data", default="structured,uniform")
    ap.add_argument("--ef", default="16,32,48,64,96,128,256,512")
    ap.add_argument("--nprobe", default="8,16,32,64,128,256")
    ap.add_argument("--hnsw-m", type=int, default=DEFAULT_HNSW_M)
    ap.add_argument("--ef-construction", type=int, default=DEFAULT_EF_CONSTRUCTION)
    ap.add_argument("--exact-latency-queries", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    n = 100_000 if args.quick else args.n
    k = args.top
    print(f"faiss {faiss.__version__}, {faiss.omp_get_max_threads()} OpenMP threads; n={n:,} d={args.dim}"
          f" queries={args.queries} top={k}; target median & p95 <= {TARGET_MS} ms at recall@{k} >= {TARGET_RECALL}")
    for data in args.data.split(","):
        make = structured if data == "structured" else uniform
        t0 = time.perf_counter()
        x, q = make(n, args.dim, args.queries, args.seed)
        print(f"\n=== {data} (synthetic, generated in {time.perf_counter() - t0:.1f} s) ===")
        gt, t_exact = exact_truth(x, q, k)
        print(f"exact ground truth: IndexFlatIP batch of {len(q)} queries in {t_exact:.2f} s")
        flat = build_index(x, kind="flat")
        ms, found = latencies(flat, q[: args.exact_latency_queries], k)
        print(f"baseline exact single query (IndexFlatIP, 1 thread, {len(ms)} queries): median {np.median(ms):.2f} ms,"
              f" p95 {np.percentile(ms, 95):.2f} ms, recall {recall(found, gt[: len(ms)]):.4f}")
        del flat
        for kind in args.kinds.split(","):
            before = rss_bytes()
            t0 = time.perf_counter()
            if kind == "hnsw":
                index = build_index(x, kind="hnsw", hnsw_m=args.hnsw_m, ef_construction=args.ef_construction)
                sweep, key = [int(v) for v in args.ef.split(",")], "ef_search"
            else:
                index = build_index(x, kind="ivf", seed=args.seed)
                sweep, key = [int(v) for v in args.nprobe.split(",")], "nprobe"
            build_s = time.perf_counter() - t0
            delta = rss_bytes() - before
            size = index.nbytes()
            print(f"\n[{kind}] {index.meta['factory']} params {index.params}: build {build_s:.1f} s,"
                  f" serialised {size / 2**20:.0f} MiB ({size / n:.0f} B/item), RSS delta {delta / 2**20:.0f} MiB")
            print(f"  {key + ' (1 thread)':<22} {'med ms':>8} {'p95 ms':>8} {'recall@' + str(k):>9}   target")
            for value in sweep:
                ms, found = latencies(index, q, k, **{key: value})
                print(row(f"{key}={value}", ms, recall(found, gt)))
            default = index.params[key]
            ms, found = latencies(index, q, k, threads=2)
            print(row(f"{key}={default}, 2 threads", ms, recall(found, gt)))
            del index


if __name__ == "__main__":
    main()
