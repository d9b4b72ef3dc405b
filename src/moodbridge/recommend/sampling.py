"""Negative sampling: for training, and the fixed 99-negative evaluation sample.

Training (:class:`NegativeSampler`): for each positive pair, images drawn
uniformly from those the clip was *not* paired with in training (rejection
sampling; draws are independent, so one batch may repeat a negative).  The
held-out test image is not known to the sampler and may be drawn: that is
what an honest protocol does (He et al. 2017; Rendle et al. 2009).

Evaluation (:func:`evaluation_negatives`, EMID's protocol after He et al.
2017): for each evaluated clip, ``n`` (99) images sampled **without
replacement** from those that are neither among the clip's training images nor
its held-out image.  The sample is fixed by its seed and saved with
:func:`save_negatives` so every model is ranked against the same candidates.
Sampled metrics flatter and can even reorder models (Krichene & Rendle 2020):
the full-catalogue ranking of :mod:`moodbridge.recommend.evaluate` is the headline.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from moodbridge.errors import InvalidValueError
from moodbridge.fileio import atomic_path
from moodbridge.recommend.data import Interactions
from moodbridge.recommend.split import Split

__all__ = ["EVAL_NEGATIVES", "EvalNegatives", "NegativeSampler", "evaluation_negatives", "load_negatives",
           "save_negatives"]

#: Negatives per held-out image in EMID's sampled protocol.
EVAL_NEGATIVES = 99
NEGATIVES_FORMAT = "moodbridge-recommend-negatives"
_MAX_ROUNDS = 1000


class NegativeSampler:
    """Uniform negatives for training: images a clip has no training pair with.

    Parameters
    ----------
    train
        The training pairs.
    seed
        Seeds the sampler's own ``numpy`` generator.
    """

    def __init__(self, train: Interactions, *, seed: int = 0) -> None:
        self.n_items = train.n_items
        self._keys = np.unique(train.user_idx * np.int64(self.n_items) + train.item_idx)
        full = np.flatnonzero(train.user_counts() >= self.n_items)
        if len(full):
            raise InvalidValueError(f"{train.source}: clip {train.users[full[0]]!r} is paired with every image; "
                                    "it has no negatives to sample")
        self._rng = np.random.default_rng(seed)

    def is_positive(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """Whether each (user, item) is a training pair."""
        keys = np.asarray(users, dtype=np.int64) * self.n_items + np.asarray(items, dtype=np.int64)
        pos = np.searchsorted(self._keys, keys)
        return self._keys[np.minimum(pos, len(self._keys) - 1)] == keys

    def sample(self, users: np.ndarray, n: int) -> np.ndarray:
        """``(len(users), n)`` int64 negatives, none a training image of its row's user."""
        users = np.asarray(users, dtype=np.int64)
        out = self._rng.integers(0, self.n_items, (len(users), n), dtype=np.int64)
        rows = np.broadcast_to(users[:, None], out.shape)
        bad = self.is_positive(rows, out)
        for _ in range(_MAX_ROUNDS):
            if not bad.any():
                return out
            out[bad] = self._rng.integers(0, self.n_items, int(bad.sum()), dtype=np.int64)
            bad[bad] = self.is_positive(rows[bad], out[bad])
        raise InvalidValueError("negative sampling did not converge: some clips are paired with almost every image")


@dataclass(frozen=True, eq=False)
class EvalNegatives:
    """The fixed evaluation sample: ``items[r]`` are the negatives of the ``r``-th test pair of the split."""

    items: np.ndarray
    seed: int
    pairs_fingerprint: str
    test_fingerprint: str

    @property
    def n(self) -> int:
        return int(self.items.shape[1])


def _test_fingerprint(split: Split) -> str:
    import hashlib

    keys = split.test_users.astype(np.int64) * split.interactions.n_items + split.test_items
    return hashlib.sha256(keys.tobytes()).hexdigest()[:16]


def evaluation_negatives(split: Split, *, n: int = EVAL_NEGATIVES, seed: int = 0) -> EvalNegatives:
    """Sample ``n`` negatives per held-out pair, without replacement, excluding the clip's training images and its held-out image.

    Per clip, ``n`` ranks are drawn without replacement from the ``n_allowed``
    allowed images and mapped onto them past the sorted excluded indices, so
    every allowed image is equally likely and none repeats.

    Raises
    ------
    InvalidValueError
        If ``n < 1`` or a clip has fewer than ``n`` allowed images (the catalogue is too small).
    """
    if n < 1:
        raise InvalidValueError(f"the number of evaluation negatives must be >= 1, got {n}")
    inter = split.interactions
    indptr, indices = split.train.csr()
    rng = np.random.default_rng(seed)
    out = np.empty((split.n_test, n), dtype=np.int64)
    for row, (u, held_out) in enumerate(zip(split.test_users, split.test_items)):
        excluded = np.union1d(indices[indptr[u]:indptr[u + 1]], [held_out])
        n_allowed = inter.n_items - len(excluded)
        if n_allowed < n:
            raise InvalidValueError(f"{inter.source}: clip {inter.users[u]!r} has only {n_allowed} images that are "
                                    f"not its own; {n} evaluation negatives need a larger catalogue")
        ranks = rng.choice(n_allowed, size=n, replace=False)
        # the r-th allowed image is r + #(excluded e with e - (its position) <= r)
        out[row] = ranks + np.searchsorted(excluded - np.arange(len(excluded)), ranks, side="right")
    return EvalNegatives(out, int(seed), inter.pairs_fingerprint, _test_fingerprint(split))


def save_negatives(negatives: EvalNegatives, path: str | Path) -> Path:
    """Write the sample as ``.npz`` (atomically), with its seed and the fingerprints of the split it belongs to."""
    meta = {"format": NEGATIVES_FORMAT, "format_version": 1, "seed": negatives.seed,
            "pairs_fingerprint": negatives.pairs_fingerprint, "test_fingerprint": negatives.test_fingerprint}
    with atomic_path(path, what="evaluation negatives") as tmp, open(tmp, "wb") as handle:
        np.savez(handle, items=negatives.items, meta=np.array(json.dumps(meta)))
    return Path(path)


def load_negatives(path: str | Path, split: Split) -> EvalNegatives:
    """Read a sample written by :func:`save_negatives`; it must belong to ``split``.

    Raises
    ------
    InvalidValueError
        If the file is missing or not a sample, or was drawn for another split.
    """
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            items, meta = data["items"], json.loads(str(data["meta"]))
    except FileNotFoundError:
        raise InvalidValueError(f"{path}: no such evaluation-negatives file") from None
    except (OSError, ValueError, KeyError) as exc:
        raise InvalidValueError(f"{path}: not an evaluation-negatives file ({exc})") from None
    if meta.get("format") != NEGATIVES_FORMAT:
        raise InvalidValueError(f"{path}: not a moodbridge evaluation-negatives file")
    if meta["pairs_fingerprint"] != split.interactions.pairs_fingerprint or meta["test_fingerprint"] != _test_fingerprint(split):
        raise InvalidValueError(f"{path}: these negatives were drawn for another split or other pairs "
                                f"than {split.interactions.source}")
    return EvalNegatives(items.astype(np.int64), int(meta["seed"]), meta["pairs_fingerprint"], meta["test_fingerprint"])
