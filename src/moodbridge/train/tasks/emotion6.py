"""Task ``emotion6``: the ``image-va`` v2 head, fitted and evaluated on Emotion6's rated photographs.

Data: a folder laid out like ``../shared/data/emotion6`` — ``images/<keyword>/<n>.jpg``
(1,980 Flickr photos found under six emotion keywords) and ``ground_truth.txt``
(tab-separated: file, valence and arousal on 1-9, and the viewers' distribution
over anger, disgust, fear, joy, sadness, surprise, neutral; Peng et al. 2015).
Academic research use only; nothing of it ships with moodbridge but the fitted
weights.

Two cross-validations, both reported (the shipped head must transfer to
photographs from other sources, so choices follow the grouped figures):

* ``random``: 5 folds at random (seeded);
* ``grouped``: leave one keyword folder out (6 folds) — the test photos were
  found under a keyword the model never saw, closer to a new source.

Parts (:data:`PARTS`), each a design matrix of stored encoder outputs fed to
ridge regression with one penalty per axis chosen by inner generalised
cross-validation (``RidgeCV``): EfficientNet-Lite0 features, its log class
probabilities, NAPS-style ``image-stats`` descriptors, and combinations.  The
baselines are the mean rating (r = 0) and the issue's ``RidgeCV`` with its
default penalties on the standardised features.  The distribution model is a
softmax regression on the shipped part's features, fitted to the viewers'
distributions (soft-label cross-entropy, by sample-weighted multinomial
logistic regression), scored by KL divergence against the mean distribution.
"""
from __future__ import annotations

import csv
import time
from pathlib import Path
from typing import Any

import numpy as np

from moodbridge.affect.base import load_weights, save_weights
from moodbridge.affect.heads.image_v2 import WEIGHTS_FILE, ImageVAHeadV2, photo_features
from moodbridge.affect.models import Chain, Linear, Standardize
from moodbridge.emotion import get_scale, get_taxonomy
from moodbridge.errors import InvalidValueError
from moodbridge.train.metrics import va_metrics
from moodbridge.train.tasks import data_file

__all__ = ["PARTS", "SHIPPED_PART", "WEIGHTS_FILE", "evaluate", "load_emotion6", "train"]

GROUND_TRUTH = "ground_truth.txt"
N_FOLDS = 5
#: ridge penalties searched by RidgeCV's inner generalised cross-validation (per axis)
ALPHAS = tuple(float(a) for a in np.logspace(-1, 5, 25))
#: RidgeCV's own default penalties (the issue's baseline)
BASELINE_ALPHAS = (0.1, 1.0, 10.0)
#: inverse L2 strength of the softmax regression of the distribution
DIST_C = 0.01
#: the candidate parts: name -> encoder outputs ``(encoder, output, transform)``
PARTS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "features": (("effnet-lite0", "features", "identity"),),
    "log-class-probs": (("effnet-lite0", "class_probs", "log"),),
    "descriptors": (("image-stats", "features", "identity"),),
    "features+descriptors": (("effnet-lite0", "features", "identity"), ("image-stats", "features", "identity")),
}
#: the part the shipped head uses (chosen on the grouped figures; see docs/emotion.md)
SHIPPED_PART = "features"


def load_emotion6(data_dir: str | Path) -> dict[str, Any]:
    """``paths``, ``va`` (N, 2) in [-1, 1], ``dist`` (N, 7) and ``groups`` (keyword folder) of an Emotion6 folder.

    Raises
    ------
    InvalidValueError
        If ``ground_truth.txt`` is missing or malformed, or a listed photo is absent.
    """
    root = Path(data_dir)
    table = data_file(root, GROUND_TRUTH, "Emotion6 ground truth")
    root = table.parent
    rows = list(csv.reader(table.open(encoding="utf-8"), delimiter="\t"))
    if len(rows) < 2:
        raise InvalidValueError(f"{table}: no rows")
    scale = get_scale("emotion6")
    paths, va, dist, groups = [], [], [], []
    for i, row in enumerate(rows[1:], start=2):
        if not row or not row[0].strip():
            continue
        try:
            name, v, a, *probs = row
            values = [float(x) for x in (v, a, *probs)]
        except ValueError:
            raise InvalidValueError(f"{table}: line {i} is not 'file, valence, arousal, 7 probabilities'") from None
        if len(values) != 9:
            raise InvalidValueError(f"{table}: line {i} has {len(values)} numbers, expected 9")
        path = root / "images" / name
        if not path.exists():
            raise InvalidValueError(f"{path}: listed in {table.name} but missing")
        paths.append(path)
        va.append([scale.to_va(values[0]), scale.to_va(values[1])])
        p = np.maximum(np.array(values[2:]), 0.0)
        dist.append(p / p.sum() if p.sum() > 0 else np.full(7, 1 / 7))
        groups.append(name.split("/")[0])
    return {"paths": paths, "va": np.array(va), "dist": np.array(dist), "groups": np.array(groups)}


def photo_outputs(paths: list[Path], *, progress: bool) -> dict[str, dict[str, np.ndarray]]:
    from moodbridge.train.features import encoder_outputs

    return encoder_outputs(paths, ["effnet-lite0", "image-stats"], cache_name="emotion6", progress=progress)


def _folds(data: dict[str, Any], scheme: str, seed: int) -> list[np.ndarray]:
    n = len(data["va"])
    if scheme == "grouped":
        return [np.flatnonzero(data["groups"] == g) for g in sorted(set(data["groups"]))]
    order = np.random.default_rng(seed).permutation(n)
    return [np.sort(f) for f in np.array_split(order, N_FOLDS)]


def _fit_va(X: np.ndarray, Y: np.ndarray, alphas: tuple[float, ...] = ALPHAS) -> Chain:
    from sklearn.linear_model import RidgeCV

    scaler = Standardize.fit(X)
    ridge = RidgeCV(alphas=alphas, alpha_per_target=True).fit(scaler.predict(X), Y)
    return Chain([scaler, Linear.from_sklearn(ridge)])


def _fit_dist(X: np.ndarray, P: np.ndarray, *, seed: int) -> Chain:
    """Softmax regression fitted to soft labels: each row once per class, weighted by its probability."""
    from sklearn.linear_model import LogisticRegression

    scaler = Standardize.fit(X)
    Z = scaler.predict(X)
    k = P.shape[1]
    rows = np.repeat(np.arange(len(Z)), k)
    labels = np.tile(np.arange(k), len(Z))
    weights = P.reshape(-1)
    keep = weights > 0
    model = LogisticRegression(C=DIST_C, max_iter=2000, random_state=seed)
    model.fit(Z[rows[keep]], labels[keep], sample_weight=weights[keep])
    return Chain([scaler, Linear.from_sklearn(model)])


def _kl(P: np.ndarray, Q: np.ndarray) -> float:
    """Mean KL(P || Q) in nats."""
    P, Q = np.maximum(P, 1e-9), np.maximum(Q, 1e-9)
    return float(np.mean(np.sum(P * np.log(P / Q), axis=1)))


def _cv(X: np.ndarray, data: dict[str, Any], scheme: str, seed: int, *,
        alphas: tuple[float, ...] = ALPHAS) -> dict[str, float]:
    pred = np.zeros_like(data["va"])
    for test in _folds(data, scheme, seed):
        train = np.setdiff1d(np.arange(len(X)), test)
        pred[test] = np.clip(_fit_va(X[train], data["va"][train], alphas).predict(X[test]), -1, 1)
    return va_metrics(data["va"], pred)


def _cv_dist(X: np.ndarray, data: dict[str, Any], scheme: str, seed: int) -> dict[str, float]:
    from moodbridge.affect.models import softmax

    P = data["dist"]
    pred, mean_pred = np.zeros_like(P), np.zeros_like(P)
    for test in _folds(data, scheme, seed):
        train = np.setdiff1d(np.arange(len(X)), test)
        pred[test] = softmax(_fit_dist(X[train], P[train], seed=seed).predict(X[test]), axis=1)
        mean_pred[test] = P[train].mean(axis=0)
    top = float(np.mean(pred.argmax(1) == P.argmax(1)))
    return {"dist_kl": _kl(P, pred), "dist_kl_mean_baseline": _kl(P, mean_pred), "dist_top1": top,
            "dist_top1_majority": float(np.mean(mean_pred.argmax(1) == P.argmax(1)))}


def cross_validate(data: dict[str, Any], outputs: dict[str, dict[str, np.ndarray]], *, part: str = SHIPPED_PART,
                   scheme: str = "grouped", seed: int = 0, baseline: bool = False) -> dict[str, float]:
    """Out-of-fold VA metrics of one part (``baseline``: with RidgeCV's default penalties) under ``scheme``."""
    if scheme not in ("random", "grouped"):
        raise InvalidValueError(f"unknown CV scheme {scheme!r}; known: random, grouped")
    if part not in PARTS:
        raise InvalidValueError(f"unknown part {part!r}; known: {', '.join(PARTS)}")
    X = photo_features(outputs, PARTS[part])
    return _cv(X, data, scheme, seed, alphas=BASELINE_ALPHAS if baseline else ALPHAS)


def train(data_dir: str | Path, *, seed: int = 0, out: str | Path, progress: bool = True,
          ablation: bool = False) -> dict[str, Any]:
    """Cross-validate the shipped part (and the baseline) under random and grouped folds, fit it on all photos, write it.

    Parameters
    ----------
    data_dir
        A folder like ``../shared/data/emotion6``.
    seed
        Seeds the random folds and the softmax regression.
    out
        Weight file to write (the caller chooses; ``moodbridge affect train --replace-shipped`` names the shipped one).
    progress
        Show progress bars while encoding the photos (once; cached).
    ablation
        Also cross-validate every other part of :data:`PARTS` (slow; the
        figures are in ``docs/emotion.md``).

    Returns
    -------
    dict
        Flat metrics: ``random_*`` and ``grouped_*`` of the shipped part, the
        baselines and every part (``part_<name>_<scheme>_<axis>_r``), the
        distribution's KL against the mean-distribution baseline, ``n``.
    """
    start = time.time()
    data = load_emotion6(data_dir)
    outputs = photo_outputs(data["paths"], progress=progress)
    metrics: dict[str, Any] = {}
    for scheme in ("random", "grouped"):
        base = _cv(photo_features(outputs, PARTS["features"]), data, scheme, seed, alphas=BASELINE_ALPHAS)
        metrics.update({f"baseline_ridgecv_{scheme}_{k}": v for k, v in base.items() if k.endswith("_r")})
        for name, parts in PARTS.items():
            if name != SHIPPED_PART and not ablation:
                continue
            cv = _cv(photo_features(outputs, parts), data, scheme, seed)
            metrics.update({f"part_{name}_{scheme}_{k}": v for k, v in cv.items() if k.endswith("_r")})
            if name == SHIPPED_PART:
                metrics.update({f"{scheme}_{k}": v for k, v in cv.items()})
        metrics.update({f"{scheme}_{k}": v for k, v in
                        _cv_dist(photo_features(outputs, PARTS[SHIPPED_PART]), data, scheme, seed).items()})
    X = photo_features(outputs, PARTS[SHIPPED_PART])
    va_model = _fit_va(X, data["va"])
    dist_model = _fit_dist(X, data["dist"], seed=seed)
    meta = {
        "head": ImageVAHeadV2.name, "version": ImageVAHeadV2.version, "seed": seed, "n": len(X),
        "data": "Emotion6 (Peng et al. 2015), academic research only",
        "feature_parts": [list(p) for p in PARTS[SHIPPED_PART]], "part": SHIPPED_PART,
        "taxonomy": get_taxonomy("emotion6").names, **metrics,
    }
    path = save_weights(out, {**va_model.to_arrays("va."), **dist_model.to_arrays("dist.")}, meta)
    return {**metrics, "n": len(X), "weights": str(path), "seconds": round(time.time() - start, 1)}


def evaluate(data_dir: str | Path, *, weights: str | Path | None = None, progress: bool = True) -> dict[str, Any]:
    """The shipped (or given) head on an Emotion6-like folder: ``valence_r``, ``arousal_r``, MAEs, ``n``, head, version.

    On Emotion6 itself the head saw these photos in training, so the figures are
    in-sample; the cross-validated figures stored with the weights are returned
    beside them (``cv_*``).
    """
    data = load_emotion6(data_dir)
    head = ImageVAHeadV2(str(weights) if weights else None)
    outputs = photo_outputs(data["paths"], progress=progress)
    pred = head.predict_va(outputs)
    out: dict[str, Any] = {**va_metrics(data["va"], pred), "n": len(pred), "head": head.name, "version": head.version}
    _, meta = load_weights(weights or WEIGHTS_FILE)
    out.update({f"cv_{k}": v for k, v in meta.items() if k.startswith(("random_", "grouped_")) and isinstance(v, float)})
    return out
