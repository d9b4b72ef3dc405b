"""What combining a caption with the pixels gains, measured on NAPS (the one rated set with both).

NAPS (Marchewka et al. 2014; ``../shared/data/naps``) gives each photograph a
short ``description`` and its authors' physical descriptors, but not the
photo itself, so here "the pixels" are ridge on those descriptors (the
``image-stats`` part), not ``image-va@2`` (EfficientNet features): the figures
say how much precision weighting adds to a pixel estimate of about this
quality, not what it adds to ``image-va@2``.  5-fold CV over the photos
(seeded); in each fold, the precision weights come from the training photos
only (the pixel model's error by inner 5-fold CV, the caption head's error on
the training photos; the caption head never saw NAPS).

Usage: ``PYTHONPATH=src python scripts/caption_naps.py ../shared/data/naps``
"""
from __future__ import annotations

import json
import sys

import numpy as np

from moodbridge.affect.base import get_head
from moodbridge.affect.caption import caption_weight, combine
from moodbridge.encoders.text_stats import text_stats
from moodbridge.semantic.embeddings import embed_texts
from moodbridge.train.metrics import va_metrics
from moodbridge.train.tasks.naps import load_naps, stacker

N_FOLDS = 5


def folds(n: int, seed: int) -> list[np.ndarray]:
    order = np.random.default_rng(seed).permutation(n)
    return [np.sort(f) for f in np.array_split(order, N_FOLDS)]


def oof(X: np.ndarray, Y: np.ndarray, idx: np.ndarray, seed: int) -> np.ndarray:
    """Out-of-fold predictions of the descriptor ridge on the rows ``idx``."""
    pred = np.zeros((len(idx), 2))
    for test in folds(len(idx), seed):
        train = np.setdiff1d(np.arange(len(idx)), test)
        pred[test] = stacker(X[idx[train]], Y[idx[train]]).predict(X[idx[test]])
    return pred


def main(naps_dir: str, seed: int = 0) -> dict[str, float]:
    naps = load_naps(naps_dir)
    Y, D, texts = naps["va"], naps["descriptors"], naps["descriptions"]
    X = embed_texts(texts).astype(np.float64)
    caps = {"text-va@2": get_head("text-va@2").predict_routed(X, text_stats(texts)),
            "text-va@1": get_head("text-va@1").predict_embeddings(X)}
    pix = oof(D, Y, np.arange(len(Y)), seed)
    out: dict[str, float] = {"n": len(Y)}
    out.update({f"pixels_{k}": v for k, v in va_metrics(Y, pix).items() if k.endswith("_r")})
    for name, cap in caps.items():
        comb = np.zeros_like(Y)
        weights = []
        for test in folds(len(Y), seed):
            train = np.setdiff1d(np.arange(len(Y)), test)
            e_pix = np.abs(oof(D, Y, train, seed + 1) - Y[train]).mean(axis=0)
            e_cap = np.abs(cap[train] - Y[train]).mean(axis=0)
            w = caption_weight(e_pix, e_cap)
            weights.append(w)
            comb[test] = combine(pix[test], cap[test], w)
        out.update({f"caption_{name}_{k}": v for k, v in va_metrics(Y, cap).items() if k.endswith("_r")})
        out.update({f"combined_{name}_{k}": v for k, v in va_metrics(Y, comb).items() if k.endswith("_r")})
        out[f"caption_weight_{name}_valence"], out[f"caption_weight_{name}_arousal"] = np.mean(weights, axis=0).tolist()
    return out


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1] if len(sys.argv) > 1 else "../shared/data/naps"), indent=1))
