"""Task ``zeroshot``: the label-free statistics of the ``audio-zeroshot`` head, fitted and scored on 4Q.

The head (:mod:`moodbridge.affect.heads.audio_zeroshot`) needs no emotion
labels: its tag VA tables come from the text head and its contrast reference,
centre and scale from the 4Q audio with the labels unused.  The labels only
score it (sign and quadrant accuracy, macro-F1), on all clips and split-half.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from moodbridge.affect.base import save_weights
from moodbridge.affect.heads.audio_zeroshot import (
    OUTPUT,
    TAG_TEMPLATE,
    TAGGERS,
    TARGET_SD,
    WEIGHTS_FILE,
    AudioZeroShotHead,
    bridge_va,
    tag_va_table,
)
from moodbridge.emotion import quadrants
from moodbridge.errors import InvalidValueError


def _load_4q(data_dir: str | Path, *, progress: bool) -> tuple[dict[str, np.ndarray], np.ndarray]:
    import csv

    from moodbridge.train.features import encoder_outputs

    root = Path(data_dir)
    with (root / "annotations.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    paths, quads = [], []
    for r in rows:
        found = sorted((root / r["Quadrant"]).glob(f"{r['Song']}.*"))
        if not found:
            raise InvalidValueError(f"{root}: no audio file for {r['Song']} in {r['Quadrant']}")
        paths.append(found[0])
        quads.append(int(r["Quadrant"][1]))
    out = encoder_outputs(paths, TAGGERS, cache_name="4q", outputs=[OUTPUT], progress=progress)
    return {e: out[e][OUTPUT] for e in TAGGERS}, np.array(quads)


def _statistics(probs: dict[str, np.ndarray], tables: dict[str, np.ndarray], idx: np.ndarray) -> dict[str, np.ndarray]:
    refs = {e: probs[e][idx].mean(axis=0) for e in TAGGERS}
    raw = bridge_va({e: probs[e][idx] for e in TAGGERS}, tables, refs)
    scale = raw.std(axis=0)
    return {**{f"reference.{e}": refs[e] for e in TAGGERS},
            "centre": np.median(raw, axis=0), "scale": np.where(scale > 1e-12, scale, 1.0)}


def _quadrant_metrics(va: np.ndarray, quads: np.ndarray) -> dict[str, float]:
    from sklearn.metrics import f1_score

    pos_v, pos_a = va[:, 0] >= 0, va[:, 1] >= 0
    pred = quadrants(va)
    return {
        "valence_sign_accuracy": float((pos_v == np.isin(quads, (1, 4))).mean()),
        "arousal_sign_accuracy": float((pos_a == np.isin(quads, (1, 2))).mean()),
        "quadrant_accuracy": float((pred == quads).mean()),
        "macro_f1": float(f1_score(quads, pred, average="macro")),
    }


def _apply(probs: dict[str, np.ndarray], tables: dict[str, np.ndarray], stats: dict[str, np.ndarray], idx: np.ndarray) -> np.ndarray:
    raw = bridge_va({e: probs[e][idx] for e in TAGGERS}, tables, {e: stats[f"reference.{e}"] for e in TAGGERS})
    return np.clip((raw - stats["centre"]) / stats["scale"] * TARGET_SD, -1.0, 1.0)


def train(data_dir: str | Path, *, seed: int = 0, out: str | Path, progress: bool = True) -> dict[str, Any]:
    """Build the tag VA tables (text head) and the label-free 4Q statistics; write the head's file.

    Parameters
    ----------
    data_dir
        A folder like ``../shared/data/4q`` (``annotations.csv``, ``Q1..Q4``).
    seed
        Seeds the split-half check.
    out
        Weight file to write.

    Returns
    -------
    dict
        4Q figures (all clips, statistics from all clips) and the split-half
        figures (``split_*``, statistics from the other half).
    """
    from moodbridge.affect.heads.text import TextVAHead

    start = time.time()
    probs, quads = _load_4q(data_dir, progress=progress)
    tables = {e: tag_va_table(e) for e in TAGGERS}
    everything = np.arange(len(quads))
    stats = _statistics(probs, tables, everything)
    metrics = _quadrant_metrics(_apply(probs, tables, stats, everything), quads)
    halves = np.array_split(np.random.default_rng(seed).permutation(len(quads)), 2)
    split_pred = np.zeros((len(quads), 2))
    for a, b in (halves, halves[::-1]):
        split_pred[b] = _apply(probs, tables, _statistics(probs, tables, a), b)
    metrics.update({f"split_{k}": v for k, v in _quadrant_metrics(split_pred, quads).items()})
    meta = {
        "head": AudioZeroShotHead.name, "version": AudioZeroShotHead.version, "seed": seed, "n": int(len(quads)),
        "template": TAG_TEMPLATE, "target_sd": TARGET_SD, "text_head": f"{TextVAHead.name}@{TextVAHead.version}",
        "reference_corpus": "4Q audio (Panda et al. 2018), labels unused", **metrics,
    }
    arrays = {**{f"tag_va.{e}": tables[e] for e in TAGGERS}, **stats}
    path = save_weights(out, arrays, meta)
    return {**metrics, "n": int(len(quads)), "weights": str(path), "seconds": round(time.time() - start, 1)}


def evaluate(data_dir: str | Path, *, weights: str | Path | None = None, progress: bool = True) -> dict[str, Any]:
    """Sign, quadrant accuracy and macro-F1 of the head on a 4Q-like folder.

    Returns
    -------
    dict
        ``valence_sign_accuracy``, ``arousal_sign_accuracy``, ``quadrant_accuracy``,
        ``macro_f1``, ``n``, ``head``, ``version`` and the stored split-half figures.
    """
    head = AudioZeroShotHead(str(weights) if weights else None)
    probs, quads = _load_4q(data_dir, progress=progress)
    va = head.predict_va({e: {OUTPUT: probs[e]} for e in TAGGERS})
    out: dict[str, Any] = {**_quadrant_metrics(va, quads), "n": int(len(quads)), "head": head.name, "version": head.version}
    out.update({k: v for k, v in head.meta.items() if k.startswith("split_")})
    return out
