"""Retrain a shipped emotion head on its full real data set and compare with the shipped weight file.

The test suite trains every head's recipe on seeded subsets of the real data (minutes, not the
quarter hour a full retraining costs from an empty feature cache); this script is the full check:

    python scripts/reproduce_heads.py --task 4q --data ../shared/data/4q
    python scripts/reproduce_heads.py --task emobank --data ../shared/data/emobank

It retrains with the seed stored in the shipped file, into a temporary folder (the shipped file is
never touched), then compares every number of the two files' metadata (the cross-validated and
held-out metrics, sizes, settings) and every weight array.  It prints the largest differences and
exits 1 when a metric differs by more than ``--tol`` (default 5e-3), 0 otherwise.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

IGNORED = {"seconds", "weights", "path", "data"}


def numbers(meta: Any, prefix: str = "") -> Iterator[tuple[str, float]]:
    """``(dotted key, value)`` for every number in a nested metadata dict."""
    if isinstance(meta, dict):
        for key, value in meta.items():
            if key not in IGNORED:
                yield from numbers(value, f"{prefix}{key}.")
    elif isinstance(meta, list | tuple):
        for i, value in enumerate(meta):
            yield from numbers(value, f"{prefix}{i}.")
    elif isinstance(meta, bool):
        yield prefix.rstrip("."), float(meta)
    elif isinstance(meta, int | float):
        yield prefix.rstrip("."), float(meta)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--task", required=True, help="a task of `moodbridge affect train` (4q, emobank, emotion6, ...)")
    parser.add_argument("--data", required=True, type=Path, help="its real data folder under ../shared/data")
    parser.add_argument("--tol", type=float, default=5e-3)
    args = parser.parse_args(argv)

    from moodbridge.affect.base import load_weights
    from moodbridge.train.tasks import get_task

    task = get_task(args.task)
    shipped_arrays, shipped = load_weights(task.WEIGHTS_FILE)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "retrained.npz"
        task.train(args.data, seed=int(shipped.get("seed", 0)), out=out, progress=True)
        arrays, meta = load_weights(out)
    ours, theirs = dict(numbers(meta)), dict(numbers(shipped))
    common = sorted(set(ours) & set(theirs))
    diffs = sorted(((abs(ours[k] - theirs[k]), k) for k in common), reverse=True)
    print(f"task {args.task}: {len(common)} numbers compared ({len(set(theirs) - set(ours))} only in the shipped file)")
    for diff, key in diffs[:8]:
        print(f"  {key:<60} shipped {theirs[key]:.6g}  retrained {ours[key]:.6g}  |diff| {diff:.3g}")
    for name in sorted(set(arrays) & set(shipped_arrays)):
        a, b = np.asarray(arrays[name], dtype=np.float64), np.asarray(shipped_arrays[name], dtype=np.float64)
        gap = float(np.max(np.abs(a - b))) if a.shape == b.shape and a.size else float("inf") if a.shape != b.shape else 0.0
        if gap > 0:
            print(f"  array {name}: max |diff| {gap:.3g}")
    worst = diffs[0][0] if diffs else 0.0
    print("reproduced" if worst <= args.tol else f"NOT reproduced: largest difference {worst:.3g} > {args.tol}")
    return 0 if worst <= args.tol else 1


if __name__ == "__main__":
    sys.exit(main())
