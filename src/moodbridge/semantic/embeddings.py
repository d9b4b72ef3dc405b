"""The semantic bridge through text: names of classes or tags -> text embeddings -> emotion.

EMID (``papers/emid.txt``) pairs music and images through a shared semantic
space (ImageBind).  moodbridge stands in for it offline with text: an image
classifier's class distribution, or a music tagger's tag distribution, is
mapped into the all-MiniLM-L6-v2 sentence space by its names, and a text
emotion head trained on the NRC-VAD lexicon (Mohammad, 2018) reads an
emotion off any point of that space.  This module is the one place that does
the mapping, for every modality:

* :func:`embed_texts` embeds strings with the ``minilm`` encoder, with an
  on-disk cache keyed by the encoder key and a text template, so that the
  20,007 lexicon words and the 1,000 + 100 class and tag names are embedded
  once per machine;
* :func:`name_embeddings` gives one unit vector per class or tag from its
  names (the mean of the embeddings of its synonyms, re-normalised);
* :func:`weighted_embedding` is the probability-weighted mean of those
  vectors (the "probability-weighted name embedding" of an item), and
  :func:`weighted_va` the probability-weighted mean of per-name VA values
  (optionally with the probabilities contrasted against a reference
  distribution, see :func:`contrast_weights`).

References
----------
Mohammad, S. M. (2018). Obtaining reliable human ratings of valence, arousal,
and dominance for 20,000 English words. *Proc. ACL*, 174-184.
"""
from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from moodbridge.errors import InvalidValueError
from moodbridge.fileio import atomic_path
from moodbridge.paths import cache_root
from moodbridge.semantic.templates import SLOT


def _cache_file(encoder_key: str, template: str) -> Path:
    digest = hashlib.sha1(template.encode("utf-8")).hexdigest()[:12]
    safe_key = encoder_key.replace("@", "-").replace("/", "-")
    return cache_root() / "text-embeddings" / safe_key / f"{digest}.npz"


def _load_cache(path: Path) -> dict[str, np.ndarray]:
    if not path.exists():
        return {}
    try:
        with np.load(path, allow_pickle=False) as data:
            return dict(zip(data["texts"].tolist(), data["vectors"]))
    except (OSError, ValueError, KeyError):
        return {}  # a broken cache is rebuilt


def _save_cache(path: Path, table: dict[str, np.ndarray]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    texts = list(table)
    with atomic_path(path, what="text-embedding cache") as tmp:
        np.savez(tmp, texts=np.array(texts, dtype=np.str_), vectors=np.stack([table[t] for t in texts]))


def apply_template(texts: Sequence[str], template: str = SLOT) -> list[str]:
    """Put each text into ``template`` (which holds one ``{}``)."""
    if template.count(SLOT) != 1:
        raise InvalidValueError(f"a text template needs exactly one {SLOT!r}, got {template!r}")
    return [template.replace(SLOT, t) for t in texts]


def embed_texts(
    texts: Sequence[str],
    *,
    template: str = SLOT,
    cache: bool = True,
    progress: bool = False,
    batch_size: int = 512,
) -> np.ndarray:
    """``(len(texts), 384)`` unit-norm ``minilm`` embeddings of ``template`` filled with each text.

    Parameters
    ----------
    texts
        Non-empty strings (words, names, captions).
    template
        A string with one ``{}`` (e.g. ``"a {} feeling"``); ``"{}"`` embeds the texts as they are.
    cache
        Keep the vectors in ``<cache_root>/text-embeddings/<encoder key>/<template hash>.npz``
        and embed only texts not seen before.
    progress
        Show a progress bar over batches.
    batch_size
        Texts per model call.

    Raises
    ------
    EmptyMediaError
        If a text is empty or only whitespace.
    """
    from moodbridge.encoders import get_encoder
    from moodbridge.media.text import check_text

    encoder = get_encoder("minilm")
    texts = [check_text(t) for t in texts]
    filled = apply_template(texts, template)
    path = _cache_file(encoder.key, template)
    table = _load_cache(path) if cache else {}
    todo = sorted({f for f in filled if f not in table})
    if todo:
        from tqdm.auto import tqdm

        starts = range(0, len(todo), batch_size)
        for start in tqdm(starts, desc=f"minilm {template!r}", disable=not progress, unit="batch"):
            chunk = todo[start : start + batch_size]
            vectors = encoder.embed_texts(chunk)
            table.update(zip(chunk, vectors))
        if cache:
            _save_cache(path, table)
    if not filled:
        return np.zeros((0, encoder.dim), np.float32)
    return np.stack([table[f] for f in filled]).astype(np.float32)


def unit_rows(X: np.ndarray) -> np.ndarray:
    """Rows of ``X`` scaled to unit L2 norm (zero rows stay zero)."""
    X = np.asarray(X, dtype=np.float64)
    norm = np.linalg.norm(X, axis=-1, keepdims=True)
    return X / np.where(norm > 1e-12, norm, 1.0)


def name_embeddings(names: Sequence[Sequence[str] | str], *, template: str = SLOT) -> np.ndarray:
    """One unit vector per class or tag: the mean embedding of its names, re-normalised.

    Parameters
    ----------
    names
        For each class, a name or a list of synonyms (e.g. ImageNet's WordNet
        lemmas ``["tabby", "tabby cat"]``).
    template
        Template the names are embedded in.
    """
    groups = [[n] if isinstance(n, str) else list(n) for n in names]
    if not groups or any(not g for g in groups):
        raise InvalidValueError("every class needs at least one name")
    flat = [n.replace("_", " ") for g in groups for n in g]
    vectors = embed_texts(flat, template=template)
    out = np.zeros((len(groups), vectors.shape[1]))
    i = 0
    for k, g in enumerate(groups):
        out[k] = vectors[i : i + len(g)].mean(axis=0)
        i += len(g)
    return unit_rows(out)


def _check_probs(probs: np.ndarray, n_classes: int, what: str) -> np.ndarray:
    P = np.asarray(probs, dtype=np.float64)
    if P.ndim == 1:
        P = P[None, :]
    if P.ndim != 2 or P.shape[1] != n_classes:
        raise InvalidValueError(f"{what}: expected (N, {n_classes}) probabilities, got shape {P.shape}")
    if not np.isfinite(P).all():
        raise InvalidValueError(f"{what}: probabilities hold NaN or infinite values")
    if (P < 0).any():
        raise InvalidValueError(f"{what}: negative probabilities")
    return P


def contrast_weights(probs: np.ndarray, reference: np.ndarray | None = None, *, top_k: int | None = None) -> np.ndarray:
    """Row-normalised weights from class or tag probabilities.

    Parameters
    ----------
    probs
        ``(N, K)`` non-negative scores (softmax probabilities of a classifier,
        or independent sigmoid tag probabilities).
    reference
        ``(K,)`` typical scores (e.g. the mean over a corpus).  When given, the
        weights are ``max(p - reference, 0)``: only what is more present than
        usual counts ("contrast-normalised"), which keeps tags that fire on
        every clip from pulling every clip to the same emotion.
    top_k
        Keep only the ``top_k`` largest weights of each row.

    Returns
    -------
    numpy.ndarray
        ``(N, K)`` weights summing to 1 per row (uniform for a row with no
        positive weight).
    """
    P = _check_probs(probs, np.shape(probs)[-1], "weights")
    if reference is not None:
        P = np.maximum(P - np.asarray(reference, dtype=np.float64)[None, :], 0.0)
    if top_k is not None and top_k < P.shape[1]:
        cut = -np.sort(-P, axis=1)[:, top_k - 1 : top_k]
        P = np.where(P >= cut, P, 0.0)
    total = P.sum(axis=1, keepdims=True)
    return np.where(total > 1e-12, P / np.where(total > 1e-12, total, 1.0), 1.0 / P.shape[1])


def weighted_embedding(weights: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """``(N, d)`` unit-norm probability-weighted mean of class vectors (EMID's semantic bridge)."""
    W = _check_probs(weights, vectors.shape[0], "weighted embedding")
    return unit_rows(W @ np.asarray(vectors, dtype=np.float64))


def weighted_va(weights: np.ndarray, class_va: np.ndarray) -> np.ndarray:
    """``(N, 2)`` probability-weighted mean of per-class VA (``weights`` rows sum to 1)."""
    W = _check_probs(weights, class_va.shape[0], "weighted VA")
    return W @ np.asarray(class_va, dtype=np.float64)
