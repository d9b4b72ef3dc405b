"""Benchmark: EMID pairing (top-K + E + T + m) against one dense matmul X·Yᵀ.

Data are SYNTHETIC: music and image embeddings are standard-normal float32
vectors L2-normalised per row (seeded), music VA uniform in [-1, 1]², image VA
one of 8 category points (as EMID gives every image its category's VA).
Default sizes are EMID's: 10,738 clips × 19,901 images, d = 1024, K = 100, m = 3.

Baseline (same run, same torch threads): ``torch.matmul(X, Y.T)``, timed twice:
allocating its ``N_M × N_I`` float32 result (what a naive pairing must do) and
into an already-touched buffer (pure compute, the stricter baseline; the ratio
is taken against it).  Targets: pairing time ≤ 1.2 × matmul; peak additional
memory ≤ 25 % of the dense score matrix.

Memory method: Linux peak RSS.  Before each measured call the process calls
``malloc_trim(0)``, resets its peak (``echo 5 > /proc/self/clear_refs``) and
reads its RSS; afterwards ``VmHWM`` − that RSS is the peak additional
resident memory of everything the call allocates (torch buffers, numpy arrays,
FAISS).  tracemalloc's peak, which sees numpy's allocations but not torch's,
is printed beside it.  The pairing is measured before the dense matmul runs.
Times: pairing and the in-buffer matmul run ``--repeat`` times, interleaved,
and the best of each is kept (other jobs share the machine).

Then a growth table: the pairing alone at larger sizes (the dense matrix no
longer fits: 100k × 200k would be 80 GB), time per score entry showing
linear growth in N_M · N_I.

Largest scale (``--scale 100000x1000000``): the pairing alone, resumable
(``--checkpoint DIR``: finished shards of 4,096 clips are kept, so a killed run
continues), with a progress bar; prints the time per shard, the total, ns per
score entry and the peak additional memory (the dense matrix would be 400 GB).

Usage: python benchmarks/pairing.py [--music 10738] [--images 19901] [--dim 1024]
       [--k 100] [--sizes 20000x40000,40000x60000] [--faiss] [--crossover]
       python benchmarks/pairing.py --scale 100000x1000000 [--checkpoint DIR]
"""
from __future__ import annotations

import argparse
import ctypes
import os
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from moodbridge.pairing import pair, top_k_candidates

_CLEAR_REFS = Path("/proc/self/clear_refs")


def unit_rows(rng: np.random.Generator, n: int, d: int, chunk: int = 8192) -> np.ndarray:
    """``n`` random unit rows, built in chunks (no large float64 temporary)."""
    out = np.empty((n, d), dtype=np.float32)
    for start in range(0, n, chunk):
        block = rng.standard_normal((min(chunk, n - start), d), dtype=np.float32)
        out[start : start + len(block)] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def synthetic(n_music: int, n_images: int, d: int, seed: int = 0) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    categories = rng.uniform(-0.9, 0.9, (8, 2))
    return (
        unit_rows(rng, n_music, d),
        unit_rows(rng, n_images, d),
        rng.uniform(-1, 1, (n_music, 2)),
        categories[rng.integers(0, 8, n_images)],
    )


def _status(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def measure(function: Callable[[], object]) -> tuple[float, int | None, int]:
    """Seconds, peak additional RSS (None where it cannot be reset) and tracemalloc peak."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except OSError:
        pass
    can_reset = _CLEAR_REFS.exists()
    if can_reset:
        _CLEAR_REFS.write_text("5")
    base = _status("VmRSS")
    tracemalloc.start()
    start = time.perf_counter()
    result = function()
    seconds = time.perf_counter() - start
    _, traced = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    peak = _status("VmHWM") - base if can_reset else None
    del result
    return seconds, peak, traced


#: vector-ISA flags worth naming (from /proc/cpuinfo): they decide the speed of the matmul and of the passes
_VECTOR_FLAGS = ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512_vnni", "avx512_bf16",
                 "amx_tile", "amx_bf16")


def machine() -> str:
    """CPU model, its vector features, core count and the BLAS of torch and numpy: which machine made the figures."""
    model, flags = "unknown CPU", set()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name") and model == "unknown CPU":
                model = line.split(":", 1)[1].strip()
            elif line.startswith("flags") and not flags:
                flags = set(line.split(":", 1)[1].split())
    vector = " ".join(f for f in _VECTOR_FLAGS if f in flags) or "n/a"
    blas = next((part.strip() for part in torch.__config__.show().splitlines() if "BLAS_INFO" in part), "")
    blas = blas.split("BLAS_INFO=")[-1].split(",")[0] if blas else "unknown"
    try:
        numpy_blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]["name"]
    except (TypeError, KeyError):
        numpy_blas = "unknown"
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    isa = torch.backends.cpu.get_cpu_capability()
    return (f"CPU: {model}, {cpus} cores available; vector features: {vector}\n"
            f"torch {torch.__version__} (BLAS {blas}, kernels {isa}), numpy {np.__version__} (BLAS {numpy_blas})")


def mb(n_bytes: float | None) -> str:
    return "n/a" if n_bytes is None else f"{n_bytes / 1e6:.0f} MB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--music", type=int, default=10_738)
    parser.add_argument("--images", type=int, default=19_901)
    parser.add_argument("--dim", type=int, default=1024)
    parser.add_argument("--k", type=int, default=100)
    parser.add_argument("--m", type=int, default=3)
    parser.add_argument("--alpha", type=float, default=0.6)
    parser.add_argument("--sizes", default="20000x40000,40000x60000", help="growth table, NMxNI,...; '' for none")
    parser.add_argument("--repeat", type=int, default=2, help="interleaved runs of pairing and matmul (best of)")
    parser.add_argument("--faiss", action="store_true", help="also time the FAISS backend at the main size")
    parser.add_argument("--crossover", action="store_true", help="time torch vs FAISS top-K at small sizes")
    parser.add_argument("--scale", default="", help="only the large run, NMxNI (e.g. 100000x1000000)")
    parser.add_argument("--checkpoint", default="", help="with --scale: folder for resumable shards")
    args = parser.parse_args()
    if args.scale:
        large_run(args)
        return

    threads = torch.get_num_threads()
    print(machine())
    print(f"torch {torch.__version__}, {threads} threads; synthetic L2-normalised float32 embeddings, d={args.dim}")
    x, y, music_va, image_va = synthetic(args.music, args.images, args.dim)
    warm = synthetic(256, 4096, args.dim, seed=1)
    pair(*warm, k=args.k, m=args.m)  # load MKL, warm the thread pool

    def run_pair(xa=x, ya=y, mva=music_va, iva=image_va):
        return pair(xa, ya, mva, iva, k=args.k, m=args.m, alpha=args.alpha, backend="torch")

    t_pair, peak_pair, traced_pair = measure(run_pair)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    t_alloc, peak_dense, _ = measure(lambda: torch.matmul(xt, yt.T))
    dense_bytes = 4 * args.music * args.images
    buffer = torch.zeros(args.music, args.images)
    t_dense, _, _ = measure(lambda: torch.matmul(xt, yt.T, out=buffer))
    for _ in range(args.repeat - 1):  # interleaved, best of each: the machine is shared
        t_pair = min(t_pair, measure(run_pair)[0])
        t_dense = min(t_dense, measure(lambda: torch.matmul(xt, yt.T, out=buffer))[0])
    del buffer

    print(
        f"\nEMID-scale pairing: {args.music} clips x {args.images} images, K={args.k}, m={args.m}, "
        f"alpha={args.alpha} (best of {args.repeat})"
    )
    print(f"  pairing (top-K + E + T + m)        {t_pair:7.2f} s")
    print(f"  dense matmul, allocating result    {t_alloc:7.2f} s   (peak +{mb(peak_dense)})")
    print(f"  dense matmul, into touched buffer  {t_dense:7.2f} s")
    print(f"  ratio pairing / dense matmul       {t_pair / t_dense:7.3f}   (target <= 1.2; vs allocating: {t_pair / t_alloc:.3f})")
    print(f"  dense score matrix                 {mb(dense_bytes)}")
    print(
        f"  pairing peak additional memory     {mb(peak_pair)} = {100 * (peak_pair or 0) / dense_bytes:.1f} % of it"
        f"   (target <= 25 %; tracemalloc, numpy only: {mb(traced_pair)})"
    )
    if args.faiss:
        t_faiss, peak_faiss, _ = measure(lambda: top_k_candidates(x, y, k=args.k, backend="faiss"))
        t_torch, peak_torch, _ = measure(lambda: top_k_candidates(x, y, k=args.k, backend="torch"))
        print(f"  top-K only: torch {t_torch:.2f} s (+{mb(peak_torch)}), faiss {t_faiss:.2f} s (+{mb(peak_faiss)})")

    if args.crossover:
        print("\ntop-K only, torch vs FAISS IndexFlatIP (best of 3)")
        print(f"{'N_M':>7} {'N_I':>8} {'torch s':>9} {'faiss s':>9}")
        for n_m, n_i in [(100, 1000), (1000, 5000), (2000, 20000)]:
            xs, ys, _, _ = synthetic(n_m, n_i, args.dim, seed=2)
            times = {}
            for backend in ("torch", "faiss"):
                runs = []
                for _ in range(3):
                    start = time.perf_counter()
                    top_k_candidates(xs, ys, k=min(args.k, n_i), backend=backend)
                    runs.append(time.perf_counter() - start)
                times[backend] = min(runs)
            print(f"{n_m:>7} {n_i:>8} {times['torch']:>9.3f} {times['faiss']:>9.3f}")

    sizes = [(args.music, args.images, t_pair, peak_pair)]
    del x, y, xt, yt
    for spec in filter(None, args.sizes.split(",")):
        n_m, n_i = (int(v) for v in spec.lower().split("x"))
        data = synthetic(n_m, n_i, args.dim, seed=3)
        seconds, peak, _ = measure(lambda: run_pair(*data))
        sizes.append((n_m, n_i, seconds, peak))
        del data
    print("\ngrowth: pairing time vs N_M * N_I (d, K, m as above)")
    print(f"{'N_M':>8} {'N_I':>9} {'N_M*N_I':>10} {'seconds':>9} {'ns/entry':>9} {'peak +MB':>9} {'dense MB':>9}")
    for n_m, n_i, seconds, peak in sizes:
        entries = n_m * n_i
        print(
            f"{n_m:>8} {n_i:>9} {entries:>10.3g} {seconds:>9.2f} {1e9 * seconds / entries:>9.1f}"
            f" {(peak or 0) / 1e6:>9.0f} {4 * entries / 1e6:>9.0f}"
        )


def large_run(args: argparse.Namespace) -> None:
    """The pairing alone at a size whose dense matrix cannot exist, shard by shard, resumable."""
    n_m, n_i = (int(v) for v in args.scale.lower().split("x"))
    print(machine())
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; synthetic L2-normalised float32, "
          f"d={args.dim}, K={args.k}, m={args.m}")
    start = time.perf_counter()
    data = synthetic(n_m, n_i, args.dim, seed=4)
    print(f"data: {n_m} x {args.dim} music + {n_i} x {args.dim} images = "
          f"{mb(data[0].nbytes + data[1].nbytes)} generated in {time.perf_counter() - start:.0f} s")
    checkpoint = args.checkpoint or None
    resumed = len(list(Path(checkpoint).glob("shard-*.npz"))) if checkpoint and Path(checkpoint).is_dir() else 0
    seconds, peak, _ = measure(lambda: pair(*data, k=args.k, m=args.m, alpha=args.alpha, backend="torch",
                                            checkpoint=checkpoint, progress=True))
    entries = n_m * n_i
    note = f" ({resumed} finished shard(s) found in the checkpoint at the start)" if checkpoint else ""
    print(f"\npairing {n_m} clips x {n_i} images: {seconds:.1f} s{note}, {1e9 * seconds / entries:.1f} ns/entry, "
          f"peak additional memory {mb(peak)} (dense matrix: {mb(4 * entries)})")


if __name__ == "__main__":
    main()
