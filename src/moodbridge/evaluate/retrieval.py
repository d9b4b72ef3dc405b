"""Emotion retrieval metrics: P@k and MRR, per class and macro-averaged (Emo-CLIM Sec. 5.1).

A query retrieves gallery items ranked by a score (cosine similarity of
embeddings); a retrieved item is *correct* when it has the query's emotion
label.  Per query:

* ``P@k`` — the fraction of correct items among the top ``k``
  (``k`` is capped at the gallery size);
* ``MRR`` — ``1 / rank`` of the first correct item (0 if the gallery holds none).

Per class the metrics are averaged over the queries of that class; the
**macro** average is the unweighted mean over the query classes (Emo-CLIM
Sec. 5.1.1, after Won et al.), the **micro** average the mean over all
queries.  A query class absent from the gallery scores 0 and still counts in
the macro average.  Intra-modal retrieval (query set = gallery) excludes the
query itself (``exclude_self=True``).  Ties in the score are broken by gallery
order (stable sort).

Pure numpy; scores are computed in blocks of queries, so memory stays
``O(block × gallery)``.

References
----------
S. Stewart et al., "Emotion-Aligned Contrastive Learning Between Images and
Music", ICASSP 2024, Sec. 5.1 and Tables 1, 5.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from moodbridge.errors import InvalidValueError
from moodbridge.validate import finite_matrix

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "DEFAULT_KS",
    "RetrievalResult",
    "cosine_scores",
    "retrieval_metrics",
    "retrieval_metrics_from_scores",
    "retrieval_table",
]

#: the cut-offs of Emo-CLIM's tables
DEFAULT_KS: tuple[int, ...] = (1, 5)
#: queries scored at once
BLOCK = 1024


@dataclass(frozen=True)
class RetrievalResult:
    """Retrieval metrics of one query set against one gallery.

    Attributes
    ----------
    per_class
        ``label → {"p@1": ..., "p@5": ..., "mrr": ..., "n_queries": ..., "n_relevant": ...}``;
        ``n_relevant`` is the number of gallery items of the class.
    macro
        Unweighted mean of each metric over the classes.
    micro
        Mean of each metric over all queries.
    per_query
        ``metric → (n_queries,)`` array.
    """

    per_class: dict[Any, dict[str, float]]
    macro: dict[str, float]
    micro: dict[str, float]
    per_query: dict[str, np.ndarray] = field(repr=False)

    def to_frame(self) -> pd.DataFrame:
        """The per-class table (rows: classes, then a ``macro`` row), like Emo-CLIM Table 5."""
        import pandas as pd

        total = sum(int(row["n_queries"]) for row in self.per_class.values())
        rows = {**self.per_class, "macro": {**self.macro, "n_queries": total}}
        return pd.DataFrame.from_dict(rows, orient="index")


def cosine_scores(queries: Any, gallery: Any) -> np.ndarray:
    """``(Q, G)`` cosine similarities of the rows of ``queries`` and ``gallery``.

    Raises
    ------
    InvalidValueError
        If an input is not 2-D, holds NaN/inf, or the dimensions differ.
    """
    q, g = _matrix(queries, "queries"), _matrix(gallery, "gallery")
    if q.shape[1] != g.shape[1]:
        raise InvalidValueError(f"embedding dimensions differ: queries {q.shape[1]}, gallery {g.shape[1]}")
    return _normalise(q) @ _normalise(g).T


def retrieval_metrics(
    queries: Any,
    query_labels: Any,
    gallery: Any,
    gallery_labels: Any,
    *,
    ks: Sequence[int] = DEFAULT_KS,
    exclude_self: bool = False,
) -> RetrievalResult:
    """P@k and MRR of embedding retrieval by cosine similarity (Emo-CLIM Sec. 5.1.1).

    Parameters
    ----------
    queries, gallery
        ``(Q, d)`` and ``(G, d)`` embeddings.
    query_labels, gallery_labels
        ``(Q,)`` and ``(G,)`` emotion labels (any hashable values).
    ks
        Cut-offs of ``P@k``.
    exclude_self
        Intra-modal retrieval: ``queries`` and ``gallery`` are the same set
        (``Q == G``, item ``i`` is query ``i``) and an item never retrieves itself.

    Raises
    ------
    InvalidValueError
        On mismatched shapes or labels.
    """
    q, g = _matrix(queries, "queries"), _matrix(gallery, "gallery")
    if q.shape[1] != g.shape[1]:
        raise InvalidValueError(f"embedding dimensions differ: queries {q.shape[1]}, gallery {g.shape[1]}")
    qn, gn = _normalise(q), _normalise(g)
    return _evaluate(lambda rows: qn[rows] @ gn.T, q.shape[0], g.shape[0], query_labels, gallery_labels,
                     ks=ks, exclude_self=exclude_self)


def retrieval_metrics_from_scores(
    scores: Any,
    query_labels: Any,
    gallery_labels: Any,
    *,
    ks: Sequence[int] = DEFAULT_KS,
    exclude_self: bool = False,
) -> RetrievalResult:
    """As :func:`retrieval_metrics` from a precomputed ``(Q, G)`` score matrix (higher = more similar)."""
    s = _matrix(scores, "scores")
    return _evaluate(lambda rows: s[rows], s.shape[0], s.shape[1], query_labels, gallery_labels,
                     ks=ks, exclude_self=exclude_self)


#: How a retrieval direction is named: ``"<query modality> -> <gallery modality>"``.
DIRECTION = "{} -> {}"


def retrieval_directions(
    names: tuple[str, str],
    scores: Callable[[str, str], np.ndarray],
    labels: Mapping[str, Any],
    *,
    ks: Sequence[int] = DEFAULT_KS,
) -> dict[str, RetrievalResult]:
    """Cross-modal both ways and intra-modal (query excluded) retrieval (Emo-CLIM Sec. 5.1, Table 1).

    Parameters
    ----------
    names
        The two modalities ``(a, b)``.
    scores
        ``scores(query, gallery)`` → ``(Q, G)`` similarities of two modalities' items.
    labels
        Emotion labels per modality.

    Returns
    -------
    dict
        ``"a -> b"``, ``"b -> a"``, ``"a -> a"``, ``"b -> b"`` (:data:`DIRECTION`) → result.
    """
    a, b = names
    return {
        DIRECTION.format(q, g): retrieval_metrics_from_scores(scores(q, g), labels[q], labels[g], ks=ks,
                                                              exclude_self=q == g)
        for q, g in ((a, b), (b, a), (a, a), (b, b))
    }


def embedding_directions(embeddings: Mapping[str, Any], labels: Mapping[str, Any], *,
                         ks: Sequence[int] = DEFAULT_KS) -> dict[str, RetrievalResult]:
    """:func:`retrieval_directions` of two modalities' embeddings ranked by cosine."""
    a, b = list(embeddings)
    return retrieval_directions((a, b), lambda q, g: cosine_scores(embeddings[q], embeddings[g]), labels, ks=ks)


def retrieval_table(results: Mapping[str, RetrievalResult], *, metric: str | None = None) -> pd.DataFrame:
    """Several retrieval directions side by side.

    Parameters
    ----------
    results
        ``direction name → result`` (e.g. ``"audio → midi"``).
    metric
        ``None``: one row per direction, macro metrics as columns (Emo-CLIM
        Table 1).  A metric name (``"p@5"``): one row per class, one column per
        direction (Emo-CLIM Table 5).
    """
    import pandas as pd

    if metric is None:
        return pd.DataFrame.from_dict({d: r.macro for d, r in results.items()}, orient="index")
    columns = {d: {c: row[metric] for c, row in r.per_class.items()} | {"macro": r.macro[metric]}
               for d, r in results.items()}
    return pd.DataFrame(columns)


# ----------------------------------------------------------------------------- internals
def _matrix(x: Any, name: str) -> np.ndarray:
    return finite_matrix(x, name, allow_empty=True)


def _normalise(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms > 0, norms, 1.0)


def _labels(labels: Any, n: int, name: str) -> np.ndarray:
    arr = np.asarray(labels)
    if arr.ndim != 1 or arr.shape[0] != n:
        raise InvalidValueError(f"{name} must be 1-D with {n} labels, got shape {arr.shape}")
    return arr


def _evaluate(
    score_rows: Any,
    n_queries: int,
    n_gallery: int,
    query_labels: Any,
    gallery_labels: Any,
    *,
    ks: Sequence[int],
    exclude_self: bool,
) -> RetrievalResult:
    ql = _labels(query_labels, n_queries, "query_labels")
    gl = _labels(gallery_labels, n_gallery, "gallery_labels")
    ks = tuple(int(k) for k in ks)
    if any(k < 1 for k in ks):
        raise InvalidValueError(f"every k must be a positive integer, got {ks}")
    if exclude_self and n_queries != n_gallery:
        raise InvalidValueError(f"exclude_self needs the query set to be the gallery ({n_queries} vs {n_gallery})")
    candidates = n_gallery - int(exclude_self)
    if n_queries == 0 or candidates < 1:
        raise InvalidValueError(f"need at least one query and one candidate, got {n_queries} and {candidates}")
    names = [f"p@{k}" for k in ks] + ["mrr"]
    per_query = {m: np.empty(n_queries) for m in names}
    for start in range(0, n_queries, BLOCK):
        rows = np.arange(start, min(start + BLOCK, n_queries))
        scores = np.array(score_rows(rows), dtype=np.float64, copy=True)
        if exclude_self:
            scores[np.arange(rows.size), rows] = -np.inf
        order = np.argsort(-scores, axis=1, kind="stable")[:, :candidates]
        hits = gl[order] == ql[rows, None]  # (block, candidates) relevance in rank order
        for k in ks:
            per_query[f"p@{k}"][rows] = hits[:, : min(k, candidates)].mean(axis=1)
        first = hits.argmax(axis=1)
        per_query["mrr"][rows] = np.where(hits.any(axis=1), 1.0 / (first + 1), 0.0)
    per_class: dict[Any, dict[str, float]] = {}
    for c in sorted(set(ql.tolist()), key=repr):
        mask = ql == c
        per_class[c] = {m: float(per_query[m][mask].mean()) for m in names}
        per_class[c]["n_queries"] = int(mask.sum())
        per_class[c]["n_relevant"] = int((gl == c).sum())
    macro = {m: float(np.mean([row[m] for row in per_class.values()])) for m in names}
    micro = {m: float(per_query[m].mean()) for m in names}
    return RetrievalResult(per_class=per_class, macro=macro, micro=micro, per_query=per_query)
