"""Task ``naps``: the ``image-va`` head, fitted and evaluated on the NAPS norms.

Data: ``naps_ratings.csv`` of the Nencki Affective Picture System (Marchewka
et al., 2014): per photograph the mean valence and arousal ratings
(``all_val_m``, ``all_aro_m``, SAM 1-9, converted with ``get_scale("naps")``),
the authors' physical descriptors and a short ``description``.  The photos
are not available, so the semantic route of the head (ImageNet class
distribution -> text bridge, see :mod:`moodbridge.affect.heads.image`) is
represented by the ``text-va`` head on the description in the template
``"a photo of {}"`` (lower-cased), a stand-in for a caption or a classifier.

Parts, each scored by 5-fold cross-validation over the photographs (seeded):

* ``descriptors``: ridge on the standardised descriptors (luminance,
  contrast, entropy, L*a*b* means, JPEG bytes per pixel = ``jpeg_size80 /
  (width * height)``; NAPS photos are 1600x1200, so this is the resolution-free
  form of ``jpeg_size80`` that the ``image-stats`` encoder also gives);
* ``text``: a linear calibration of the description's text-head VA
  (both coordinates feed each output);
* ``combined``: ridge on [text VA, descriptors].

The descriptors are kept in the shipped stacker only when they raise the
mean of the valence and arousal CV r by at least :data:`MIN_GAIN`; otherwise
the head uses the semantic route alone (the figures say which).  As a
diagnostic of the class-distribution route, each description is also turned
into a pseudo ImageNet distribution (softmax of its cosine to the class
names) and mapped both ways: the probability-weighted class VA (what the head
uses) and the text head on the probability-weighted name embedding.

References
----------
Marchewka, A., Żurawski, Ł., Jednoróg, K., & Grabowska, A. (2014). The Nencki
Affective Picture System (NAPS). *Behavior Research Methods*, 46(2), 596-610.
"""
from __future__ import annotations

import csv
import time
from pathlib import Path
from typing import Any

import numpy as np

from moodbridge.affect.base import load_weights, save_weights
from moodbridge.affect.heads.image import WEIGHTS_FILE
from moodbridge.affect.models import Chain, Linear, Standardize
from moodbridge.emotion import get_scale
from moodbridge.errors import InvalidValueError
from moodbridge.train.metrics import pearson
from moodbridge.train.tasks import data_file

RATINGS_FILE = "naps_ratings.csv"
N_FOLDS = 5
RIDGE_ALPHA = 1.0
#: Smallest mean CV gain (r) for which the descriptors stay in the stacker.
MIN_GAIN = 0.005
#: Temperature of the pseudo class distribution of the route diagnostic.
PROXY_TEMPERATURE = 0.1


def ratings_file(data_dir: str | Path) -> Path:
    """``naps_ratings.csv`` inside ``data_dir`` (or ``data_dir`` itself)."""
    return data_file(data_dir, RATINGS_FILE, "NAPS ratings")


def load_naps(data_dir: str | Path) -> dict[str, Any]:
    """The NAPS table: ``va`` (N, 2) in [-1, 1], ``descriptors`` (N, 7), ``descriptions``, ``categories``."""
    from moodbridge.affect.heads.image import DESCRIPTORS

    path = ratings_file(data_dir)
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    if not rows:
        raise InvalidValueError(f"{path}: no rows")
    scale = get_scale("naps")
    try:
        va = np.column_stack([
            scale.to_va(np.array([float(r["all_val_m"]) for r in rows])),
            scale.to_va(np.array([float(r["all_aro_m"]) for r in rows])),
        ])
        table = {k: np.array([float(r[k]) for r in rows]) for k in
                 ("luminance", "contrast", "entropy", "lab_l", "lab_a", "lab_b", "jpeg_size80", "width", "height")}
    except (KeyError, ValueError) as exc:
        raise InvalidValueError(f"{path}: missing or non-numeric column ({exc})") from None
    table["jpeg_bpp80"] = table["jpeg_size80"] / (table["width"] * table["height"])
    descriptions = [" ".join(r["description"].replace("'S", "'s").lower().split()) or "photo" for r in rows]
    return {
        "va": va, "descriptors": np.column_stack([table[k] for k in DESCRIPTORS]),
        "descriptions": descriptions, "categories": [r["category"] for r in rows], "path": path,
    }


def description_va(descriptions: list[str], *, text_weights: str | None = None, progress: bool = False) -> np.ndarray:
    """Text-head VA of NAPS descriptions in the photo template."""
    from moodbridge.affect.heads.image import PHOTO_TEMPLATE
    from moodbridge.affect.heads.text import TextVAHead
    from moodbridge.semantic.embeddings import embed_texts

    head = TextVAHead(text_weights)
    return head.predict_embeddings(embed_texts(descriptions, template=PHOTO_TEMPLATE, progress=progress))


def stacker(X: np.ndarray, Y: np.ndarray) -> Chain:
    """Standardise + ridge (alpha :data:`RIDGE_ALPHA`), as a stored chain."""
    from sklearn.linear_model import Ridge

    std = Standardize.fit(X)
    return Chain([std, Linear.from_sklearn(Ridge(alpha=RIDGE_ALPHA).fit(std.predict(X), Y))])


def _cv(X: np.ndarray, Y: np.ndarray, seed: int) -> dict[str, float]:
    order = np.random.default_rng(seed).permutation(len(Y))
    pred = np.zeros_like(Y)
    for test in np.array_split(order, N_FOLDS):
        train = np.setdiff1d(order, test)
        pred[test] = stacker(X[train], Y[train]).predict(X[test])
    return {"valence_r": pearson(pred[:, 0], Y[:, 0]), "arousal_r": pearson(pred[:, 1], Y[:, 1])}


def class_va_table(*, text_weights: str | None = None) -> np.ndarray:
    """``(1000, 2)`` text-head VA of the ImageNet classes (mean embedding of their names in the photo template)."""
    from moodbridge.affect.heads.image import PHOTO_TEMPLATE
    from moodbridge.affect.heads.text import TextVAHead
    from moodbridge.encoders.effnet import imagenet_class_synonyms
    from moodbridge.semantic.embeddings import name_embeddings

    C = name_embeddings(imagenet_class_synonyms(), template=PHOTO_TEMPLATE)
    return TextVAHead(text_weights).predict_embeddings(C)


def route_diagnostic(descriptions: list[str], Y: np.ndarray, *, text_weights: str | None = None) -> dict[str, float]:
    """r of the two class-distribution routes on pseudo ImageNet distributions of the descriptions."""
    from moodbridge.affect.heads.image import PHOTO_TEMPLATE, TOP_K
    from moodbridge.affect.heads.text import TextVAHead
    from moodbridge.encoders.effnet import imagenet_class_synonyms
    from moodbridge.semantic.embeddings import (
        contrast_weights,
        embed_texts,
        name_embeddings,
        weighted_embedding,
        weighted_va,
    )

    head = TextVAHead(text_weights)
    C = name_embeddings(imagenet_class_synonyms(), template=PHOTO_TEMPLATE)
    S = embed_texts(descriptions, template=PHOTO_TEMPLATE).astype(np.float64) @ C.T
    P = np.exp((S - S.max(axis=1, keepdims=True)) / PROXY_TEMPERATURE)
    W = contrast_weights(P / P.sum(axis=1, keepdims=True), top_k=TOP_K)
    a = weighted_va(W, head.predict_embeddings(C))
    b = head.predict_embeddings(weighted_embedding(W, C))
    return {
        "proxy_class_va_valence_r": pearson(a[:, 0], Y[:, 0]), "proxy_class_va_arousal_r": pearson(a[:, 1], Y[:, 1]),
        "proxy_name_embedding_valence_r": pearson(b[:, 0], Y[:, 0]), "proxy_name_embedding_arousal_r": pearson(b[:, 1], Y[:, 1]),
    }


def train(data_dir: str | Path, *, seed: int = 0, out: str | Path, progress: bool = True) -> dict[str, Any]:
    """Cross-validate the parts, fit the ``image-va`` stacker on all of NAPS, write its weights.

    Needs the ``text-va`` weights (task ``lexicon``); the ImageNet class VA
    table stored with the head is regenerated from them here.

    Returns
    -------
    dict
        ``cv_<part>_valence_r`` / ``cv_<part>_arousal_r`` for the parts
        ``descriptors``, ``text`` and ``combined``, the route diagnostic,
        ``descriptors_kept``, ``n``, ``weights`` and ``seconds``.
    """
    from moodbridge.affect.heads.image import (
        DESCRIPTORS,
        PHOTO_TEMPLATE,
        TOP_K,
        ImageVAHead,
    )
    from moodbridge.affect.heads.text import TextVAHead

    start = time.time()
    data = load_naps(data_dir)
    Y, D = data["va"], data["descriptors"]
    T = description_va(data["descriptions"], progress=progress)
    parts = {"descriptors": D, "text": T, "combined": np.hstack([T, D])}
    cv = {name: _cv(X, Y, seed) for name, X in parts.items()}
    gain = np.mean([cv["combined"][k] - cv["text"][k] for k in ("valence_r", "arousal_r")])
    keep = bool(gain >= MIN_GAIN)
    final = "combined" if keep else "text"
    model = stacker(parts[final], Y)
    metrics: dict[str, Any] = {f"cv_{p}_{k}": v for p, m in cv.items() for k, v in m.items()}
    metrics.update({"cv_valence_r": cv[final]["valence_r"], "cv_arousal_r": cv[final]["arousal_r"]})
    metrics.update(route_diagnostic(data["descriptions"], Y))
    text_meta = TextVAHead().meta
    meta = {
        "head": ImageVAHead.name, "version": ImageVAHead.version, "task": "naps", "seed": seed, "n": len(Y),
        "data": data["path"].name, "descriptors": list(DESCRIPTORS) if keep else [], "descriptors_kept": keep,
        "descriptor_gain": float(gain), "top_k": TOP_K, "template": PHOTO_TEMPLATE, "cv_folds": N_FOLDS,
        "ridge_alpha": RIDGE_ALPHA, "text_head": f"{TextVAHead.name}@{TextVAHead.version}",
        "text_head_cv_valence_r": text_meta.get("cv_valence_r"),
        "semantic_stand_in": "text-va of the NAPS description ('a photo of {description}')",
        "reference": "Marchewka et al. (2014), NAPS norms", **metrics,
    }
    arrays = {
        **model.to_arrays("combine."), "class_va": class_va_table(),
        "descriptor_lo": D.min(axis=0), "descriptor_hi": D.max(axis=0),
    }
    path = save_weights(out, arrays, meta)
    return {**metrics, "descriptors_kept": keep, "n": len(Y), "weights": str(path), "seconds": round(time.time() - start, 1)}


def evaluate(data_dir: str | Path, *, weights: str | Path | None = None, progress: bool = True) -> dict[str, Any]:
    """r of the ``image-va`` stacker on a NAPS-like table, with descriptions standing in for the photos.

    On the NAPS photos the head was fitted on these figures are optimistic; the
    cross-validated figures of the weights' metadata are returned beside them
    (``cv_valence_r``, ``cv_arousal_r`` and per part).

    Returns
    -------
    dict
        ``valence_r``, ``arousal_r``, ``n``, ``head``, ``version`` and the CV figures.
    """
    from moodbridge.affect.heads.image import ImageVAHead

    data = load_naps(data_dir)
    head = ImageVAHead(str(weights) if weights else None)
    used = head.meta["descriptors"]
    from moodbridge.affect.heads.image import DESCRIPTORS

    D = data["descriptors"][:, [list(DESCRIPTORS).index(u) for u in used]]
    pred = head.combine(description_va(data["descriptions"], progress=progress), D)
    Y = data["va"]
    _, meta = load_weights(weights or WEIGHTS_FILE)
    out: dict[str, Any] = {
        "valence_r": pearson(pred[:, 0], Y[:, 0]), "arousal_r": pearson(pred[:, 1], Y[:, 1]), "n": len(Y),
        "head": head.name, "version": head.version,
    }
    out.update({k: v for k, v in meta.items() if k.startswith("cv_") and k != "cv_folds"})
    return out
