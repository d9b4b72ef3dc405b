"""A photo's emotion from its pixels and a caption, combined by precision weighting.

When a user gives a caption with a photo (``moodbridge emotion photo.jpg
--caption "..."``, or a ``caption`` column in a labels CSV), two estimates of
the same emotion exist: the image head's, from the pixels, and the text head's,
from the caption.  They are combined per axis as independent noisy readings of
one quantity, weighting each by its precision, the inverse of its squared
cross-validated error (inverse-variance weighting)::

    va = (w_img * va_img + w_cap * va_cap) / (w_img + w_cap),   w = 1 / err**2

The errors are the held-out mean absolute errors stored with each head's
weights: ``caption_<axis>_mae`` (the text head on rated photo descriptions,
NAPS) for the caption and ``grouped_<axis>_mae`` (keyword-grouped CV on
Emotion6) for the pixels; a head without such a figure counts as equally
good (weight 1/2).  ``docs/emotion.md`` says what the combination gains.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from moodbridge.affect.base import EmotionEstimate, Head, get_head
from moodbridge.emotion import quadrant_labels

__all__ = ["CAPTION_HEAD", "caption_va", "caption_weight", "combine", "head_error", "weight_for", "with_caption"]

#: the head that reads captions
CAPTION_HEAD = "text-va"
#: metadata keys holding a head's held-out per-axis MAE, best suited first ("{}" is the axis)
ERROR_KEYS: tuple[str, ...] = ("caption_{}_mae", "grouped_{}_mae", "cv_{}_mae")


def head_error(head: Head) -> np.ndarray | None:
    """``(2,)`` held-out MAE of valence and arousal stored with ``head``'s weights, or ``None``."""
    meta = getattr(head, "meta", {}) or {}
    for key in ERROR_KEYS:
        vals = [meta.get(key.format(axis)) for axis in ("valence", "arousal")]
        if all(isinstance(v, (int, float)) and v > 0 for v in vals):
            return np.array(vals, dtype=np.float64)
    return None


def caption_weight(image_error: np.ndarray | None, caption_error: np.ndarray | None) -> np.ndarray:
    """``(2,)`` weight of the caption per axis: ``(1/e_cap²) / (1/e_cap² + 1/e_img²)`` (1/2 when unknown)."""
    if image_error is None or caption_error is None:
        return np.full(2, 0.5)
    p_img, p_cap = 1.0 / np.square(image_error), 1.0 / np.square(caption_error)
    return p_cap / (p_img + p_cap)


def combine(image_va: np.ndarray, caption_va: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """``(N, 2)`` precision-weighted mean ``(1 - w) * image + w * caption`` per axis."""
    w = np.asarray(weight, dtype=np.float64)
    return (1.0 - w) * np.asarray(image_va, dtype=np.float64) + w * np.asarray(caption_va, dtype=np.float64)


def caption_va(captions: Sequence[str]) -> np.ndarray:
    """``(N, 2)`` VA of captions by the current text head."""
    return get_head(CAPTION_HEAD).predict_texts(list(captions))  # type: ignore[attr-defined]


def weight_for(image_head: str) -> np.ndarray:
    """The caption's per-axis weight next to the image head ``image_head`` (``name`` or ``name@version``)."""
    return caption_weight(head_error(get_head(image_head)), head_error(get_head(CAPTION_HEAD)))


def with_caption(estimate: EmotionEstimate, caption: str) -> EmotionEstimate:
    """The image ``estimate`` combined with ``caption``'s text estimate (``head``: ``<image>+caption:<text head>``).

    The category distribution stays the image head's (it comes from the pixels).

    Raises
    ------
    EmptyMediaError
        If the caption is empty or only whitespace.
    """
    text_head = get_head(CAPTION_HEAD)
    cap = caption_va([caption])
    va = np.clip(combine(np.array([[estimate.valence, estimate.arousal]]), cap, weight_for(estimate.head)), -1, 1)
    return replace(
        estimate, valence=float(va[0, 0]), arousal=float(va[0, 1]), quadrant=quadrant_labels(va)[0],
        head=f"{estimate.head}+caption:{text_head.key}", features=(*estimate.features, *text_head.encoders),
    )
