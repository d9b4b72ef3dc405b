"""HR@K and NDCG@K for one held-out item per clip (He et al. 2017, Sec. 4.1), with explicit ties.

With a single relevant item at 1-based rank ``r``: ``HR@K = [r ≤ K]`` and
``NDCG@K = [r ≤ K] / log2(r + 1)``; both are averaged over clips.

Ties.  The rank of the held-out item is only defined up to the candidates with
*exactly* its score.  With ``g`` candidates scoring higher and ``t`` others
scoring the same, every policy is explicit:

* ``"expected"`` (default): the expectation over a uniformly random order of
  the tied items, i.e. ``r`` uniform on ``g + 1 … g + t + 1``; the metrics are
  the exact means over those ranks (not the metric of the mean rank).  A model
  that gives every image the same score gets exactly chance, ``K / n``;
* ``"pessimistic"``: ``r = g + t + 1`` (the held-out item is last among its ties);
* ``"optimistic"``: ``r = g + 1`` — shown for comparison only: a constant model
  would score a perfect 1.0.

All functions are pure numpy; :func:`rank_counts` takes the scores.
"""
from __future__ import annotations

import numpy as np

from moodbridge.errors import InvalidValueError

__all__ = ["TIES", "hit_rate", "ndcg", "rank_counts", "ranks"]

TIES: tuple[str, ...] = ("expected", "pessimistic", "optimistic")


def rank_counts(scores: np.ndarray, target: np.ndarray, *, valid: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(greater, tied)`` per row: candidates scoring above the target's score, and the *other* candidates scoring the same.

    Parameters
    ----------
    scores
        ``(n, m)`` candidate scores per row.
    target
        ``(n,)`` column of the held-out item in each row.
    valid
        Optional ``(n, m)`` bool: candidates to count (e.g. not the clip's training images);
        the target must be valid.

    Raises
    ------
    InvalidValueError
        On bad shapes, a NaN score, or an invalid target.
    """
    scores = np.asarray(scores)
    target = np.asarray(target, dtype=np.int64)
    if scores.ndim != 2 or target.shape != (scores.shape[0],):
        raise InvalidValueError(f"rank_counts: scores must be (n, m) and target (n,), got {scores.shape} and {target.shape}")
    if np.isnan(scores).any():
        raise InvalidValueError("rank_counts: NaN scores (the model diverged?)")
    rows = np.arange(len(target))
    own = scores[rows, target][:, None]
    greater, equal = scores > own, scores == own
    if valid is not None:
        valid = np.asarray(valid, dtype=bool)
        if not valid[rows, target].all():
            raise InvalidValueError("rank_counts: a held-out item is marked as not a valid candidate")
        greater &= valid
        equal &= valid
    return greater.sum(1).astype(np.int64), equal.sum(1).astype(np.int64) - 1


def _check(k: int, ties: str) -> None:
    if k < 1:
        raise InvalidValueError(f"K must be >= 1, got {k}")
    if ties not in TIES:
        raise InvalidValueError(f"unknown tie policy {ties!r}; known: {', '.join(TIES)}")


def ranks(greater: np.ndarray, tied: np.ndarray, *, ties: str = "expected") -> np.ndarray:
    """1-based rank of the held-out item (float: ``"expected"`` gives the mean rank ``g + 1 + t / 2``)."""
    _check(1, ties)
    g, t = np.asarray(greater, dtype=np.float64), np.asarray(tied, dtype=np.float64)
    return {"expected": g + 1 + t / 2, "pessimistic": g + t + 1, "optimistic": g + 1}[ties]


def _expected(greater: np.ndarray, tied: np.ndarray, k: int, gain: np.ndarray) -> np.ndarray:
    """Mean of ``gain[r]`` (``gain[0] = 0``; ranks beyond ``k`` gain 0) over ``r = g+1 … g+t+1``."""
    cumulative = np.concatenate([[0.0], np.cumsum(gain[1:])])  # cumulative[x] = Σ_{r=1..x} gain[r]
    g = np.minimum(np.asarray(greater, dtype=np.int64), k)
    top = np.minimum(np.asarray(greater, dtype=np.int64) + np.asarray(tied, dtype=np.int64) + 1, k)
    return (cumulative[top] - cumulative[g]) / (np.asarray(tied, dtype=np.float64) + 1)


def _metric(greater: np.ndarray, tied: np.ndarray, k: int, ties: str, gain: np.ndarray) -> np.ndarray:
    _check(k, ties)
    greater, tied = np.asarray(greater, dtype=np.int64), np.asarray(tied, dtype=np.int64)
    if ties == "expected":
        return _expected(greater, tied, k, gain)
    r = (greater + tied + 1) if ties == "pessimistic" else (greater + 1)
    return np.where(r <= k, gain[np.minimum(r, k)], 0.0)


def hit_rate(greater: np.ndarray, tied: np.ndarray, *, k: int = 10, ties: str = "expected") -> np.ndarray:
    """Per-row HR@K (He et al. 2017): 1 when the held-out item is in the top ``k``; under ``"expected"`` ties, the probability."""
    return _metric(greater, tied, k, ties, np.r_[0.0, np.ones(k)])


def ndcg(greater: np.ndarray, tied: np.ndarray, *, k: int = 10, ties: str = "expected") -> np.ndarray:
    """Per-row NDCG@K with one relevant item (He et al. 2017): ``1 / log2(r + 1)`` for ``r ≤ k``, else 0."""
    return _metric(greater, tied, k, ties, np.r_[0.0, 1.0 / np.log2(np.arange(2, k + 2))])
