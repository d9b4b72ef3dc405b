"""The one rule for an item's emotion, used by pairing, search, joint spaces and everything after them.

Where each item's VA comes from (recorded per item in the ``*_source`` columns)
------------------------------
1. ``label:valence,arousal`` — numeric ``valence`` and ``arousal`` labels,
   on the scale named by a ``scale`` label (:func:`moodbridge.emotion.get_scale`,
   e.g. ``1-9``), else read as already in ``[-1, 1]``.
2. ``label:<column>=<value>`` — a category label in one of
   :data:`CATEGORY_COLUMNS` (``mood``, ``emotion`` …) found in a built-in
   taxonomy by name, alias or lexicon word, tried in the order of
   :data:`TAXONOMY_ORDER` (AudioSet's music moods first).  EMID places a
   category at the lexicon VA of its words; the taxonomies ship those points.
   For the demo's moods: happy, tender → AudioSet; calm → Cowen's
   calm/relaxing; energetic → Cowen's energizing/pump-up (by its word).
3. ``text:<column>=<value>`` — a category found in no taxonomy (the demo's
   "nostalgic") is read by the text emotion head (NRC-VAD-trained, on the
   MiniLM embedding of ``"<value> music"`` or ``"a photo of <value>"``).
4. ``caption+head:<head key>`` — an image with a ``caption`` label (a column of
   :data:`CAPTION_COLUMN` in a labels CSV) and a stored head estimate: the
   pixels' estimate combined with the caption's ``text-va`` estimate by
   precision weighting (:mod:`moodbridge.affect.caption`);
   ``caption:<text head key>`` when the image has no stored estimate.
5. ``head:<head key>`` — otherwise the stored estimate of the modality's
   default emotion head (``image-va``, ``audio-va``), else any stored head.

:func:`item_emotions` gives an :class:`ItemEmotion` (VA, quadrant, source) per
item or ``None`` where nothing is known; :func:`item_va` is the array form
for pairing, which needs every item's VA.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from moodbridge.affect.estimate import preferred_estimate
from moodbridge.emotion import Quadrant, get_scale, get_taxonomy, quadrant_of
from moodbridge.emotion.lexicon import normalise_word
from moodbridge.errors import InvalidValueError, LibraryError
from moodbridge.semantic.embeddings import apply_template
from moodbridge.semantic.templates import LABEL_TEMPLATES

if TYPE_CHECKING:
    from moodbridge.library.catalogue import Item
    from moodbridge.library.library import Library

#: Label columns read as an emotion category, in this order.
CATEGORY_COLUMNS: tuple[str, ...] = ("mood", "emotion", "category", "emotion_category", "quadrant")
#: Label column holding a caption of an image, read with its pixels.
CAPTION_COLUMN = "caption"
#: Taxonomies a category label is looked up in, in this order.
TAXONOMY_ORDER: tuple[str, ...] = ("audioset", "cowen", "mikels", "quadrants")

@dataclass(frozen=True)
class ItemEmotion:
    """An item's emotion and where it came from.

    Attributes
    ----------
    valence, arousal
        In ``[-1, 1]``.
    source
        ``label:…``, ``text:…``, ``caption…`` or ``head:<name@version>`` (module docstring).
    """

    valence: float
    arousal: float
    source: str

    @property
    def quadrant(self) -> Quadrant:
        """Russell quadrant (0 counts as positive)."""
        return quadrant_of((self.valence, self.arousal))

    @property
    def head(self) -> str | None:
        """``name@version`` of the image or other head when the emotion is (partly) a head's estimate, else ``None``."""
        for prefix in ("head:", "caption+head:"):
            if self.source.startswith(prefix):
                return self.source[len(prefix):]
        return None


def _float(value: str, what: str, item: "Item") -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise InvalidValueError(f"{item.path}: label {what}={value!r} is not a number") from None
    if not np.isfinite(x):
        raise InvalidValueError(f"{item.path}: label {what}={value!r} is not finite")
    return x


def _labelled_va(item: "Item") -> tuple[np.ndarray, str] | None:
    labels = {k.lower(): v for k, v in item.labels.items()}
    if "valence" not in labels or "arousal" not in labels:
        return None
    v, a = _float(labels["valence"], "valence", item), _float(labels["arousal"], "arousal", item)
    if labels.get("scale"):
        scale = get_scale(labels["scale"])
        point = np.array([scale.to_va(v), scale.to_va(a)], dtype=np.float64)
        return point, f"label:valence,arousal({scale.name})"
    if not (-1.0 <= v <= 1.0 and -1.0 <= a <= 1.0):
        raise InvalidValueError(
            f"{item.path}: labels valence={v:g}, arousal={a:g} lie outside [-1, 1]; "
            "add a 'scale' label (e.g. 1-9) to say what scale they are on"
        )
    return np.array([v, a]), "label:valence,arousal"


def _taxonomy_va(value: str) -> tuple[np.ndarray, str] | None:
    key = normalise_word(value)
    for name in TAXONOMY_ORDER:
        tax = get_taxonomy(name)
        for cat in tax:
            if cat.matches(key):
                return np.array([cat.va.valence, cat.va.arousal]), f"{name}/{cat.name}"
    for name in TAXONOMY_ORDER:  # then by lexicon word ("energetic" -> energizing/pump-up)
        for cat in get_taxonomy(name):
            if key in (normalise_word(w) for w in cat.words):
                return np.array([cat.va.valence, cat.va.arousal]), f"{name}/{cat.name}"
    return None


def category_label(item: "Item") -> tuple[str, str] | None:
    """``(column, value)`` of the item's first non-empty category label (:data:`CATEGORY_COLUMNS`), or ``None``."""
    labels = {k.lower(): v for k, v in item.labels.items()}
    for col in CATEGORY_COLUMNS:
        value = (labels.get(col) or "").strip()
        if value:
            return col, value
    return None


def _head_va(library: "Library", item: "Item") -> tuple[np.ndarray, str]:
    chosen = preferred_estimate(library.emotions(item), item.modality)
    if chosen is None:
        raise LibraryError(
            f"{item.path}: no emotion label and no stored emotion estimate; "
            f"re-add it with emotion annotation on, or attach valence/arousal or mood labels"
        )
    return np.array([float(chosen["valence"]), float(chosen["arousal"])]), f"head:{chosen['head']}"


def item_va(library: "Library", items: Sequence["Item"]) -> tuple[np.ndarray, list[str]]:
    """``(N, 2)`` VA of items and where each came from (module docstring).

    Raises
    ------
    LibraryError
        If an item has neither an emotion label nor a stored estimate.
    """
    va, sources = _resolve(library, items, required=True)
    return va, sources


def item_emotions(library: "Library", items: Sequence["Item"]) -> list[ItemEmotion | None]:
    """Each item's emotion by the rule of the module docstring; ``None`` where it has none."""
    va, sources = _resolve(library, items, required=False)
    return [ItemEmotion(float(v), float(a), src) if src else None for (v, a), src in zip(va, sources)]


def _resolve(library: "Library", items: Sequence["Item"], *, required: bool) -> tuple[np.ndarray, list[str]]:
    """VA and source per item; without ``required`` an item with no emotion gets NaN and source ``""``."""
    items = list(items)
    va = np.full((len(items), 2), np.nan)
    sources: list[str] = [""] * len(items)
    text_todo: list[tuple[int, str, str]] = []
    caption_todo: list[tuple[int, str, tuple[np.ndarray, str] | None]] = []
    for i, it in enumerate(items):
        found = _labelled_va(it)
        if found is None:
            cat = category_label(it)
            if cat is not None:
                hit = _taxonomy_va(cat[1])
                if hit is not None:
                    found = (hit[0], f"label:{cat[0]}={cat[1]}({hit[1]})")
                elif it.modality in LABEL_TEMPLATES:
                    text_todo.append((i, cat[0], cat[1]))
                    continue
        caption = _caption(it) if found is None else None
        if found is None:
            try:
                found = _head_va(library, it)
            except LibraryError:
                if required and caption is None:
                    raise
                if caption is None:
                    continue
        if caption is not None:
            caption_todo.append((i, caption, found))
            continue
        va[i], sources[i] = found
    if text_todo:
        from moodbridge.affect.heads.text import TextVAHead

        texts = [apply_template([value], LABEL_TEMPLATES[items[i].modality])[0] for i, _, value in text_todo]
        points = TextVAHead().predict_texts(texts)
        for (i, col, value), point in zip(text_todo, points):
            va[i], sources[i] = point, f"text:{col}={value}"
    if caption_todo:
        _read_captions(caption_todo, va, sources)
    return np.clip(va, -1.0, 1.0), sources


def _caption(item: "Item") -> str | None:
    if item.modality != "image":
        return None
    labels = {k.lower(): v for k, v in item.labels.items()}
    return (labels.get(CAPTION_COLUMN) or "").strip() or None


def _read_captions(todo: list[tuple[int, str, tuple[np.ndarray, str] | None]], va: np.ndarray,
                   sources: list[str]) -> None:
    """Fill ``va`` and ``sources`` of captioned images: pixels and caption combined, or the caption alone."""
    from moodbridge.affect.base import get_head
    from moodbridge.affect.caption import CAPTION_HEAD, caption_va, combine, weight_for

    points = caption_va([caption for _, caption, _ in todo])
    text_key = get_head(CAPTION_HEAD).key
    for (i, _, head), point in zip(todo, points):
        if head is None:
            va[i], sources[i] = point, f"caption:{text_key}"
        else:
            image_key = head[1].split(":", 1)[1]
            va[i] = combine(head[0][None, :], point[None, :], weight_for(image_key))[0]
            sources[i] = f"caption+{head[1]}"
