"""The offline semantic bridge: every modality mapped into one text embedding space.

EMID (Sec. 3.1.2) compares music and images in ImageBind's joint space.
moodbridge stands in for it offline, through text (``DESIGN.md``, "A semantic
bridge through text"): an item's classifier or tagger distribution is mapped
into the all-MiniLM-L6-v2 sentence space (384-d) as the probability-weighted
mean of the embeddings of its class or tag names, and the semantic similarity
S of a clip and an image is the cosine of their bridge vectors.

Per modality (:func:`bridge_from_outputs`):

``image``
    ``effnet-lite0`` ``class_probs`` (1000 ImageNet classes, softmax).  Each
    class is embedded as the mean of its WordNet synonyms in the template
    :data:`IMAGE_TEMPLATE` (``"a photo of {}"``,
    :func:`~moodbridge.encoders.effnet.imagenet_class_synonyms`).  Weights:
    the :data:`IMAGE_TOP_K` most probable classes, renormalised to sum to 1
    (:func:`~moodbridge.semantic.embeddings.contrast_weights` with ``top_k``; no
    reference distribution, a softmax is already peaked).  The long tail of
    1000 tiny probabilities would otherwise pull every image towards the
    mean class vector.  Same choice as the image emotion head.
``audio``
    ``tag_probs_mean`` of ``musicnn-msd`` and ``musicnn-mtt`` (50 tags each,
    independent sigmoids), each tag embedded in :data:`TAG_TEMPLATE`
    (``"{} music"``, lower-cased).  Weights are *contrast-normalised*:
    ``max(p − reference, 0)`` renormalised, where the reference is each
    tagger's mean tag distribution over the 4Q corpus shipped with the
    zero-shot audio head (tags that fire on every clip, such as "rock" or
    "guitar", would otherwise make all clips alike); a clip with no tag
    above its reference gets uniform weights.  Without the shipped
    reference the raw probabilities are used.  The two taggers' unit
    vectors are averaged and re-normalised.
``text``
    The ``minilm`` features themselves, re-normalised.
``midi``
    Not bridged yet: :class:`~moodbridge.errors.InvalidValueError`.

The class and tag name embeddings are cached on disk by
:func:`~moodbridge.semantic.embeddings.name_embeddings`.
"""
from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache

import numpy as np

from moodbridge.errors import InvalidValueError
from moodbridge.semantic.embeddings import contrast_weights, name_embeddings, unit_rows, weighted_embedding
from moodbridge.semantic.templates import MUSIC_TEMPLATE, PHOTO_TEMPLATE

#: Dimension of the bridge space (all-MiniLM-L6-v2).
BRIDGE_DIM = 384
#: Template of ImageNet class names.
IMAGE_TEMPLATE = PHOTO_TEMPLATE
#: Template of musicnn tag names.
TAG_TEMPLATE = MUSIC_TEMPLATE
#: Classes of an image's distribution that count.
IMAGE_TOP_K = 5
IMAGE_ENCODER = "effnet-lite0"
IMAGE_OUTPUT = "class_probs"
TAGGERS: tuple[str, ...] = ("musicnn-msd", "musicnn-mtt")
TAG_OUTPUT = "tag_probs_mean"
TEXT_ENCODER = "minilm"

#: Encoder outputs the bridge reads, per modality: ``[(encoder, output), ...]``.
NEEDED: dict[str, list[tuple[str, str]]] = {
    "image": [(IMAGE_ENCODER, IMAGE_OUTPUT)],
    "audio": [(e, TAG_OUTPUT) for e in TAGGERS],
    "text": [(TEXT_ENCODER, "features")],
}


@lru_cache(maxsize=None)
def class_vectors() -> np.ndarray:
    """``(1000, 384)`` unit vectors of the ImageNet classes in :data:`IMAGE_TEMPLATE`."""
    from moodbridge.encoders.effnet import imagenet_class_synonyms

    return name_embeddings(imagenet_class_synonyms(), template=IMAGE_TEMPLATE)


@lru_cache(maxsize=None)
def tag_vectors(encoder: str) -> np.ndarray:
    """``(50, 384)`` unit vectors of a musicnn tagger's tags in :data:`TAG_TEMPLATE`."""
    from moodbridge.encoders import get_encoder

    tags = get_encoder(encoder).extra_labels[TAG_OUTPUT]
    return name_embeddings([t.lower() for t in tags], template=TAG_TEMPLATE)


def _get(outputs: Mapping[str, Mapping[str, np.ndarray]], encoder: str, output: str) -> np.ndarray:
    """One output of one encoder, found by encoder name or key."""
    from moodbridge.encoders import get_encoder

    for name in (encoder, get_encoder(encoder).key):
        if name in outputs and output in outputs[name]:
            arr = np.asarray(outputs[name][output], dtype=np.float64)
            return arr[None, :] if arr.ndim == 1 else arr
    raise InvalidValueError(f"the semantic bridge needs the {output!r} output of {encoder}; got {sorted(outputs)}")


def _check_finite(arr: np.ndarray, what: str) -> None:
    bad = ~np.isfinite(arr).all(axis=1)
    if bad.any():
        raise InvalidValueError(
            f"{what}: {int(bad.sum())} row(s) hold NaN or infinite values (first: row {int(np.argmax(bad))})"
        )


def bridge_from_outputs(modality: str, outputs: Mapping[str, Mapping[str, np.ndarray]], *,
                        references: Mapping[str, np.ndarray] | None = None) -> np.ndarray:
    """``(N, 384)`` unit-norm bridge embeddings of N items from their encoder outputs.

    Parameters
    ----------
    modality
        ``"image"``, ``"audio"`` or ``"text"`` (see the module docstring for
        what each reads and how it is weighted).
    outputs
        ``encoder name (or key) → output name → (N, k) array``, e.g.
        ``{"effnet-lite0": {"class_probs": P}}``.
    references
        Per musicnn tagger, its mean tag distribution over a reference corpus
        (the contrast of the audio weights); ``None`` uses the raw
        probabilities.  :func:`moodbridge.library.bridge.item_bridge` passes the
        shipped 4Q reference.

    Raises
    ------
    InvalidValueError
        For MIDI or an unknown modality, a missing output, wrong shapes, or
        NaN / infinite inputs.
    """
    if modality == "midi":
        raise InvalidValueError("no semantic bridge for MIDI yet")
    if modality == "image":
        probs = _get(outputs, IMAGE_ENCODER, IMAGE_OUTPUT)
        _check_finite(probs, f"{IMAGE_ENCODER} {IMAGE_OUTPUT}")
        return weighted_embedding(contrast_weights(probs, top_k=IMAGE_TOP_K), class_vectors())
    if modality == "audio":
        parts = []
        for enc in TAGGERS:
            probs = _get(outputs, enc, TAG_OUTPUT)
            _check_finite(probs, f"{enc} {TAG_OUTPUT}")
            ref = None if references is None else references.get(enc)
            parts.append(weighted_embedding(contrast_weights(probs, ref), tag_vectors(enc)))
        if parts[0].shape != parts[1].shape:
            raise InvalidValueError(f"{TAGGERS[0]} and {TAGGERS[1]} outputs cover different numbers of clips")
        return unit_rows(np.mean(parts, axis=0))
    if modality == "text":
        feats = _get(outputs, TEXT_ENCODER, "features")
        if feats.shape[1] != BRIDGE_DIM:
            raise InvalidValueError(f"{TEXT_ENCODER} features: expected (N, {BRIDGE_DIM}), got shape {feats.shape}")
        _check_finite(feats, f"{TEXT_ENCODER} features")
        return unit_rows(feats)
    raise InvalidValueError(f"unknown modality {modality!r}; the semantic bridge covers image, audio and text")
