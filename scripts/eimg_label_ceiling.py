"""How well can any MIDI model agree with EIMG's quadrant labels? An inter-rater ceiling.

EIMG (../shared/data/eimg) gives each clip six annotators' valence and arousal
(1-9); the experiments label a clip with the Russell quadrant of the six-rater mean.
Those labels are noisy, so even a perfect model of the *consensus* emotion would not
reach them.  This script measures that with the project's converters
(``get_scale("eimg")``, ``moodbridge.emotion.quadrants``):

1. **split-half agreement**: the quadrant of three annotators' mean against that of the
   other three (all 10 splits that put annotator 1 in the first half);
2. **reliability of the six-rater mean** per axis, from the within-clip variance
   (classical test theory: ``(var(means) - s²/6) / var(means)``);
3. **the ceiling**: under a Gaussian measurement model (each rating = the clip's
   consensus value + independent rater noise with the pooled within-clip variance),
   draw consensus values consistent with the observed means (shrunk by the
   reliability) and score a predictor that knows them exactly against the quadrant of
   the noisy six-rater mean.  Reported as balanced and plain accuracy (mean of 20
   draws, seeded);
4. the share of clips whose mean lies within 0.5 rating points of the midpoint on an axis.

Usage: python scripts/eimg_label_ceiling.py [--data ../shared/data/eimg] [--draws 20]
"""
from __future__ import annotations

import argparse
import itertools
import os
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = Path(os.environ.get("MOODBRIDGE_SHARED_DATA", REPO.parent / "shared" / "data")) / "eimg"
RATERS = 6


def annotator_ratings(data_dir: Path) -> np.ndarray:
    """``(N, RATERS, 2)`` valence/arousal ratings on 1-9 (NaN where a rating is missing)."""
    import pandas as pd

    table = pd.read_csv(data_dir / "labels.csv")
    cols = [[f"a{r}_{axis}" for axis in ("v", "a")] for r in range(1, RATERS + 1)]
    missing = sorted({c for pair in cols for c in pair} - set(table.columns))
    if missing:
        raise SystemExit(f"error: {data_dir / 'labels.csv'}: missing column(s) {missing}")
    values = [table[c].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=np.float64) for c in cols]
    return np.stack(values, axis=1)


def quadrant_of(ratings_19: np.ndarray) -> np.ndarray:
    """Quadrant 1..4 of ``(N, 2)`` 1-9 ratings through the project's EIMG scale."""
    from moodbridge.emotion import get_scale, quadrants

    # simulated values may leave 1-9; clipping keeps every quadrant
    return quadrants(get_scale("eimg").to_va(np.clip(ratings_19, 1.0, 9.0)))


def split_half(ratings: np.ndarray) -> tuple[float, float]:
    """Mean (accuracy, balanced accuracy) of quadrant agreement between disjoint halves of the raters."""
    from sklearn.metrics import balanced_accuracy_score

    acc, bacc = [], []
    for half in itertools.combinations(range(RATERS), RATERS // 2):
        if 0 not in half:
            continue  # each split once
        other = [r for r in range(RATERS) if r not in half]
        qa = quadrant_of(np.nanmean(ratings[:, list(half)], axis=1))
        qb = quadrant_of(np.nanmean(ratings[:, other], axis=1))
        acc.append(float(np.mean(qa == qb)))
        bacc.append(float(balanced_accuracy_score(qa, qb)))
    return float(np.mean(acc)), float(np.mean(bacc))


def ceiling(ratings: np.ndarray, *, draws: int, seed: int = 0) -> dict[str, float]:
    """Reliabilities and the simulated consensus-oracle agreement with the six-rater quadrant labels."""
    from sklearn.metrics import balanced_accuracy_score

    rng = np.random.default_rng(seed)
    means = np.nanmean(ratings, axis=1)  # (N, 2)
    within = np.nanmean(np.nanvar(ratings, axis=1, ddof=1), axis=0)  # pooled rater variance per axis
    between = means.var(axis=0)
    reliability = (between - within / RATERS) / between
    out = {"reliability_valence": float(reliability[0]), "reliability_arousal": float(reliability[1])}
    shrink = np.clip(reliability, 0.0, 1.0)  # a sample estimate can fall below 0 when raters share nothing
    acc, bacc = [], []
    for _ in range(draws):
        grand = means.mean(axis=0)
        consensus = grand + shrink * (means - grand)
        consensus = consensus + rng.normal(size=means.shape) * np.sqrt(shrink * within / RATERS)
        observed = consensus + rng.normal(size=means.shape) * np.sqrt(within / RATERS)
        truth, label = quadrant_of(consensus), quadrant_of(observed)
        acc.append(float(np.mean(truth == label)))
        bacc.append(float(balanced_accuracy_score(label, truth)))
    out["oracle_accuracy"] = float(np.mean(acc))
    out["oracle_balanced_accuracy"] = float(np.mean(bacc))
    out["near_midpoint_share"] = float(np.mean((np.abs(means - 5.0) < 0.5).any(axis=1)))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the EIMG folder (labels.csv)")
    parser.add_argument("--draws", type=int, default=20, help="simulation draws for the ceiling")
    args = parser.parse_args(argv)
    if not (args.data / "labels.csv").is_file():
        print(f"error: {args.data / 'labels.csv'} not found", file=sys.stderr)
        return 2
    ratings = annotator_ratings(args.data)
    acc, bacc = split_half(ratings)
    result = ceiling(ratings, draws=args.draws)
    print(f"EIMG clips: {len(ratings)}, missing ratings: {int(np.isnan(ratings).sum())}")
    print(f"split-half quadrant agreement (3 vs 3 raters): accuracy {acc:.3f}, balanced {bacc:.3f}")
    print(f"reliability of the 6-rater mean: valence {result['reliability_valence']:.2f},"
          f" arousal {result['reliability_arousal']:.2f}")
    print(f"consensus oracle vs 6-rater quadrant labels: balanced accuracy {result['oracle_balanced_accuracy']:.3f},"
          f" accuracy {result['oracle_accuracy']:.3f} ({args.draws} draws)")
    print(f"clips within 0.5 of the midpoint on an axis: {result['near_midpoint_share']:.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
