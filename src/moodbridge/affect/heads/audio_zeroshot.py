"""``audio-zeroshot``: valence-arousal of music from its tags, through the text bridge, with no emotion labels.

musicnn's two taggers (MSD and MagnaTagATune models, 50 tags each) give a
clip a tag distribution.  Each tag name, in the template ``"{} music"``, gets
the VA of the ``text-va`` head (trained on NRC-VAD words, Mohammad 2018), and
the clip gets the probability-weighted mean of its tags' VA (EMID's bridge
through a shared semantic space, with text standing in for ImageBind; see
:mod:`moodbridge.affect.semantic`).  Two label-free normalisations matter:

* contrast: a tag counts by how much more it fires on the clip than on a
  reference corpus (``max(p - mean_p, 0)``), so tags that fire on every clip
  ("rock", "guitar") do not pull every clip to the same emotion;
* centring and scaling: the raw bridge VA is biased (tag names are mostly
  pleasant words), so the corpus median is subtracted and each axis is scaled
  to a standard deviation of :data:`TARGET_SD`.

The reference corpus is the audio of the 4Q data set (Panda et al., 2018)
with its labels unused; :func:`evaluate` also reports a split-half check in
which the statistics come from the other half of the clips.  The labels are
used only to score the head (valence/arousal sign accuracy, quadrant accuracy,
macro-F1).

References
----------
Mohammad, S. M. (2018). Obtaining reliable human ratings of valence, arousal,
and dominance for 20,000 English words. *Proc. ACL*, 174-184.

Panda, R., Malheiro, R., & Paiva, R. P. (2018). Novel audio features for
music emotion recognition. *IEEE Trans. Affective Computing*, 11(4), 614-626.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from moodbridge.affect.base import Head, Outputs, load_weights, register_head, save_weights, weights_path
from moodbridge.affect.semantic import contrast_weights, weighted_va
from moodbridge.encoders.base import Modality
from moodbridge.errors import InvalidValueError

WEIGHTS_FILE = "audio_zeroshot.npz"
#: Template of the tag names in the text bridge.
TAG_TEMPLATE = "{} music"
#: Standard deviation of each output axis over the reference corpus.
TARGET_SD = 0.4
TAGGERS: tuple[str, ...] = ("musicnn-msd", "musicnn-mtt")
OUTPUT = "tag_probs_mean"


def tag_va_table(encoder: str, *, text_weights: str | None = None) -> np.ndarray:
    """``(50, 2)`` text-head VA of a tagger's tag names in :data:`TAG_TEMPLATE`."""
    from moodbridge.affect.heads.text import TextVAHead
    from moodbridge.affect.semantic import name_embeddings
    from moodbridge.encoders import get_encoder

    tags = get_encoder(encoder).extra_labels[OUTPUT]
    return TextVAHead(text_weights).predict_embeddings(name_embeddings([t.lower() for t in tags], template=TAG_TEMPLATE))


def bridge_va(probs: dict[str, np.ndarray], tables: dict[str, np.ndarray], references: dict[str, np.ndarray]) -> np.ndarray:
    """``(N, 2)`` raw bridge VA: mean over taggers of the contrast-weighted tag VA."""
    parts = [weighted_va(contrast_weights(probs[e], references[e]), tables[e]) for e in TAGGERS]
    return np.mean(parts, axis=0)


class AudioZeroShotHead(Head):
    """musicnn tag distributions -> text bridge -> valence-arousal, zero-shot.

    Parameters
    ----------
    weights
        A weight file (default: the shipped ``audio_zeroshot.npz``).
    """

    name: ClassVar[str] = "audio-zeroshot"
    version: ClassVar[str] = "1"
    modality: ClassVar[Modality] = "audio"
    encoders: ClassVar[tuple[str, ...]] = TAGGERS
    description: ClassVar[str] = "musicnn MSD+MTT tags through the NRC-VAD text bridge (no emotion labels used)"

    def __init__(self, weights: str | None = None) -> None:
        self._weights_path = weights or WEIGHTS_FILE
        self._arrays: dict[str, np.ndarray] | None = None
        self._meta: dict[str, Any] = {}

    def _load(self) -> dict[str, np.ndarray]:
        if self._arrays is None:
            self._arrays, self._meta = load_weights(self._weights_path)
        return self._arrays

    @property
    def meta(self) -> dict[str, Any]:
        """Metadata stored with the tables (4Q figures, settings)."""
        self._load()
        return dict(self._meta)

    def tag_va(self, encoder: str) -> np.ndarray:
        """``(50, 2)`` VA of the tags of ``encoder``."""
        return self._load()[f"tag_va.{encoder}"]

    def raw_va(self, probs: dict[str, np.ndarray]) -> np.ndarray:
        """Uncentred bridge VA from each tagger's ``(N, 50)`` mean tag probabilities."""
        a = self._load()
        return bridge_va(probs, {e: a[f"tag_va.{e}"] for e in TAGGERS}, {e: a[f"reference.{e}"] for e in TAGGERS})

    def predict_va(self, outputs: Outputs) -> np.ndarray:
        self.check_outputs(outputs)
        a = self._load()
        try:
            probs = {e: np.asarray(outputs[e][OUTPUT], dtype=np.float64) for e in TAGGERS}
        except KeyError:
            raise InvalidValueError(f"{self.name} needs the {OUTPUT!r} output of {', '.join(TAGGERS)}") from None
        raw = self.raw_va(probs)
        return np.clip((raw - a["centre"]) / a["scale"] * TARGET_SD, -1.0, 1.0)


register_head(AudioZeroShotHead.name, AudioZeroShotHead)


# --- fitting the label-free statistics and scoring on 4Q ----------------------------------------

def _load_4q(data_dir: str | Path, *, progress: bool) -> tuple[dict[str, np.ndarray], np.ndarray]:
    import csv

    from moodbridge.affect.training_data import encoder_outputs

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
    pred = np.where(pos_v, np.where(pos_a, 1, 4), np.where(pos_a, 2, 3))
    return {
        "valence_sign_accuracy": float((pos_v == np.isin(quads, (1, 4))).mean()),
        "arousal_sign_accuracy": float((pos_a == np.isin(quads, (1, 2))).mean()),
        "quadrant_accuracy": float((pred == quads).mean()),
        "macro_f1": float(f1_score(quads, pred, average="macro")),
    }


def _apply(probs: dict[str, np.ndarray], tables: dict[str, np.ndarray], stats: dict[str, np.ndarray], idx: np.ndarray) -> np.ndarray:
    raw = bridge_va({e: probs[e][idx] for e in TAGGERS}, tables, {e: stats[f"reference.{e}"] for e in TAGGERS})
    return np.clip((raw - stats["centre"]) / stats["scale"] * TARGET_SD, -1.0, 1.0)


def train(data_dir: str | Path, *, seed: int = 0, out: str | Path | None = None, progress: bool = True) -> dict[str, Any]:
    """Build the tag VA tables (text head) and the label-free 4Q statistics; write the head's file.

    Parameters
    ----------
    data_dir
        A folder like ``../shared/data/4q`` (``annotations.csv``, ``Q1..Q4``).
    seed
        Seeds the split-half check.
    out
        File to write (default: the shipped ``audio_zeroshot.npz``).

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
    path = save_weights(out or weights_path(WEIGHTS_FILE), arrays, meta)
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
