"""Benchmark: the scoring after EMID's top-K (E, T, the m best per clip) at EMID scale, A/B against main's code.

SYNTHETIC data (``benchmarks/pairing.py``'s generator): 10,738 clips × 19,901
images, d = 64 (only the candidates matter here), K = 100, m = 3, α = 0.6.
The top-K runs once; then the scoring runs ``--repeat`` times for each
variant, interleaved in this process (other jobs share the machine), and
every index and score of each run is compared with the baseline's:

* ``main``: the code before issue 16's second round, re-created here — a
  three-key ``np.lexsort`` of all K candidates per clip, and E as the row-wise
  cosine of ``np.repeat``-ed clip VA and gathered image VA (every point
  validated, centred and measured once per pair);
* ``branch``: :func:`moodbridge.pairing.scores._best_m` (a partition of T and a
  stable sort of m) and :func:`moodbridge.emotion.similarity.cosine_to_candidates`.

Usage: python benchmarks/pairing_scoring.py [--repeat 7]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pairing import machine, synthetic  # noqa: E402

from moodbridge.emotion.similarity import cosine_similarity  # noqa: E402
from moodbridge.pairing import scores, top_k_candidates  # noqa: E402

FIELDS = ("clip", "image", "rank", "semantic", "emotional", "semantic_norm", "emotional_norm", "total")


def _main_best_m(total, semantic, indices, m):
    return np.lexsort((indices, -semantic, -total), axis=1)[:, :m]


def _main_cosine(music, images, columns, centre):
    k = columns.shape[1]
    flat = cosine_similarity(np.repeat(music, k, axis=0), images[columns.ravel()], pairwise=False, centre=centre)
    return flat.reshape(columns.shape)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    print(machine())
    x, y, music_va, image_va = synthetic(10_738, 19_901, 64)
    candidates = top_k_candidates(x, y, k=100, backend="torch")
    variants = {"main": (_main_best_m, _main_cosine), "branch": (scores._best_m, scores.cosine_to_candidates)}

    def run(name):
        scores._best_m, scores.cosine_to_candidates = variants[name]
        return scores._score_candidates(candidates, music_va, image_va, alphas=(0.6,), m=3, metric="cosine",
                                        centre="neutral", normalisation="minmax")[0]

    reference = run("main")
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(args.repeat):
        for name in variants:
            start = time.perf_counter()
            got = run(name)
            times[name].append(time.perf_counter() - start)
            for field in FIELDS:
                assert np.array_equal(getattr(got, field), getattr(reference, field)), f"{name}: {field} differs"
    print(f"\nscoring 10738 clips x K=100, m=3 (best / median of {args.repeat}, interleaved); every field identical")
    for name, t in times.items():
        print(f"  {name:7s} {1e3 * min(t):7.0f} ms   {1e3 * float(np.median(t)):7.0f} ms")
    print(f"  ratio branch / main (best)  {min(times['branch']) / min(times['main']):.3f}")


if __name__ == "__main__":
    main()
