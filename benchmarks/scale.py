"""Benchmark: the Ray engine's overhead, 1 vs 2 workers against the single-process path (issue 16).

Pairing (``pair_alphas``, EMID top-K + E + T + m) on SYNTHETIC L2-normalised
float32 vectors (seeded; default 16,384 clips × 20,000 images, d = 256,
K = 100, m = 3), in shards of 4,096 clips: the single-process path (torch on
every core of this process) against ``--engine ray`` on a local Ray instance
with 1 and with 2 worker CPUs (one torch thread per worker), with the images
broadcast (one task per shard of clips) and split into ``--image-shards``
shards (one task per clip shard × image shard, partial top-K merged per clip;
0: not timed).  The pairs are checked bit-identical to the single-process ones.

``add`` (unless ``--no-add``): ``--crops`` REAL photo crops (scikit-image's
sample photographs) added to a fresh library, single-process against Ray with
1 and 2 workers (actor pool of that size); features as in the tests.

Ratios are engine time / single-process time (> 1: the engine's overhead on
one machine; the engine's point is the machines it adds).  Ray's start
(``ray.init``) is timed apart and left out of the ratios.

``--ivf NMxNI`` instead: IVF candidate pruning (``ivf_top_k``, FAISS
``IndexIVFFlat``) against the exact blockwise top-K on SYNTHETIC clustered
unit vectors (the mixture of ``benchmarks/search.py``; clips drawn from the
same mixture), d = ``--dim``: time and recall@K for several ``nprobe``.

Usage: python benchmarks/scale.py [--music 16384] [--images 20000] [--dim 256] [--crops 48] [--no-add]
       [--image-shards 4]
       python benchmarks/scale.py --ivf 4096x200000 --dim 128
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def unit(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    x = rng.standard_normal((n, d), dtype=np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--music", type=int, default=16_384)
    parser.add_argument("--images", type=int, default=20_000)
    parser.add_argument("--dim", type=int, default=256)
    parser.add_argument("--k", type=int, default=100)
    parser.add_argument("--crops", type=int, default=48)
    parser.add_argument("--no-add", action="store_true")
    parser.add_argument("--image-shards", type=int, default=4, help="also time the image-sharded layout (0: no)")
    parser.add_argument("--ivf", default="", help="NMxNI: only the IVF pruning measurement")
    args = parser.parse_args()
    if args.ivf:
        ivf_pruning(args)
        return

    import ray

    from moodbridge.engine import get_engine
    from moodbridge.pairing import pair_alphas

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads in this process; ray {ray.__version__}")
    rng = np.random.default_rng(0)
    x, y = unit(rng, args.music, args.dim), unit(rng, args.images, args.dim)
    mva, iva = rng.uniform(-1, 1, (args.music, 2)), rng.uniform(-1, 1, (args.images, 2))
    options = {"alphas": (0.6,), "k": args.k, "m": 3}
    pair_alphas(x[:256], y[:4096], mva[:256], iva[:4096], **options)  # warm up
    t_local, expected = timed(lambda: pair_alphas(x, y, mva, iva, progress=True, **options)[0])

    media = None
    if not args.no_add:
        from moodbridge.library import Library
        from realmedia import write_photo_crops

        media = Path(tempfile.mkdtemp(prefix="mb-scale-"))
        write_photo_crops(media / "crops", args.crops)

        def add(engine=None) -> float:
            root = media / f"lib-{time.monotonic_ns()}"
            with Library.create(root) as lib:
                seconds, report = timed(lambda: lib.add([media / "crops"], progress=False, engine=engine,
                                                        annotate=False))
            assert len(report.added) == args.crops, report.summary()
            shutil.rmtree(root)
            return seconds

        add()  # warm the models' caches
        t_add_local = add()

    rows = []
    for cpus in (1, 2):
        t_init, _ = timed(lambda: ray.init(num_cpus=cpus, include_dashboard=False, log_to_driver=False,
                                           configure_logging=False))
        engine = get_engine("ray")
        pair_alphas(x[:256], y[:4096], mva[:256], iva[:4096], engine=engine, **options)  # start the workers
        t_ray, got = timed(lambda: pair_alphas(x, y, mva, iva, engine=engine, **options)[0])
        for name in ("clip", "image", "rank", "total"):
            assert np.array_equal(getattr(got, name), getattr(expected, name)), f"{name} differs"
        t_split = float("nan")
        if args.image_shards:
            t_split, split = timed(lambda: pair_alphas(x, y, mva, iva, engine=engine, image_shards=args.image_shards,
                                                       **options)[0])
            for name in ("clip", "image", "rank", "semantic", "emotional", "total"):
                assert np.array_equal(getattr(split, name), getattr(expected, name)), f"{name} differs (image shards)"
        t_add = add(engine) if media is not None else float("nan")
        rows.append((cpus, t_init, t_ray, t_add, t_split))
        ray.shutdown()

    entries = args.music * args.images
    print(f"\npairing {args.music} clips x {args.images} images, d={args.dim}, K={args.k} (synthetic); "
          f"pairs bit-identical on every engine")
    print(f"  single process ({torch.get_num_threads()} threads)   {t_local:7.2f} s   "
          f"{1e9 * t_local / entries:.2f} ns/entry")
    for cpus, t_init, t_ray, _, t_split in rows:
        print(f"  ray, {cpus} worker(s)               {t_ray:7.2f} s   ratio {t_ray / t_local:.2f}   "
              f"(ray.init {t_init:.1f} s, not counted)")
        if args.image_shards:
            print(f"  ray, {cpus} worker(s), {args.image_shards} image shards {t_split:7.2f} s   "
                  f"ratio {t_split / t_local:.2f}")
    if media is not None:
        print(f"\nadd {args.crops} real photo crops (effnet-lite0 + image-stats)")
        print(f"  single process                  {t_add_local:7.2f} s")
        for cpus, _, _, t_add, _ in rows:
            print(f"  ray, {cpus} worker(s)               {t_add:7.2f} s   ratio {t_add / t_add_local:.2f}")
        shutil.rmtree(media, ignore_errors=True)


def ivf_pruning(args: argparse.Namespace) -> None:
    """Exact top-K against IVF candidate pruning at several nprobe: time and recall@K."""
    from search import structured

    from moodbridge.pairing import ivf_top_k, top_k_candidates

    n_m, n_i = (int(v) for v in args.ivf.lower().split("x"))
    y, x = structured(n_i, args.dim, n_m, seed=0)
    t_exact, exact = timed(lambda: top_k_candidates(x, y, k=args.k, backend="torch"))
    print(f"IVF candidate pruning, {n_m} clips x {n_i} images, d={args.dim}, K={args.k} (synthetic clustered)")
    print(f"  exact blockwise top-K            {t_exact:7.2f} s")
    for nprobe in (8, 32, 128):
        t_ivf, (found, _) = timed(lambda: ivf_top_k(x, y, k=args.k, nprobe=nprobe, recall_sample=0))
        hits = np.mean([len(np.intersect1d(a, b)) for a, b in zip(found.indices, exact.indices)]) / args.k
        print(f"  IVF nprobe {nprobe:<4}                  {t_ivf:7.2f} s   recall@{args.k} {hits:.4f}   "
              f"time ratio {t_ivf / t_exact:.2f} (build included)")


if __name__ == "__main__":
    main()
