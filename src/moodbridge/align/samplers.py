"""Class-balanced paired batch samplers for two-modality contrastive training.

Emo-CLIM (Sec. 4.3) samples every item of a batch by first drawing an emotion
label uniformly, then an item with that label, for images and music alike, so
batches are *roughly* class-balanced.  :class:`ClassBalancedPairSampler` makes
this exact by default: each batch of ``N`` items per modality holds
``N // C`` items of each of the ``C`` shared classes (the remainder goes to
classes drawn at random), and both modalities get the **same class
composition**, so every anchor has cross-modal positives.  ``exact=False``
gives the paper's procedure (class drawn per slot), again shared by both
modalities.

Within a class, items are drawn without replacement from a shuffled pool that
is refilled when exhausted (every item is seen before any repeats), which
covers small classes evenly; the paper does not say.

:class:`QuadrantBalancedPairSampler` does the same for continuous
valence-arousal labels (EIMG losses), balancing over Russell's quadrants.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from moodbridge.emotion import quadrants
from moodbridge.errors import InvalidValueError

__all__ = ["ClassBalancedPairSampler", "QuadrantBalancedPairSampler"]


class _ClassPool:
    """Draws indices of one class without replacement, reshuffling when the pool runs out."""

    def __init__(self, indices: np.ndarray, rng: np.random.Generator) -> None:
        self.indices, self.rng = indices, rng
        self.queue = np.empty(0, dtype=np.int64)

    def draw(self, k: int) -> np.ndarray:
        out = []
        while k > 0:
            if self.queue.size == 0:
                self.queue = self.rng.permutation(self.indices)
            take = self.queue[:k]
            self.queue = self.queue[k:]
            out.append(take)
            k -= take.size
        return np.concatenate(out) if out else np.empty(0, dtype=np.int64)


class ClassBalancedPairSampler:
    """Batches of index pairs ``(idx_a, idx_b)`` with the same class composition (Emo-CLIM Sec. 4.3).

    Parameters
    ----------
    labels_a, labels_b
        Class labels of the two modalities' items (any hashable values).
        Only the classes present in **both** are sampled (the paper drops
        unmatched classes, Sec. 4.1.3).
    batch_size
        Items per modality per batch (Emo-CLIM: 64).
    steps
        Batches per epoch; default ``ceil(max(N_a, N_b) / batch_size)``.
    seed
        Seed of the sampler's generator; iterating again continues the stream
        (a new epoch), :meth:`reset` restarts it.
    exact
        ``True``: exactly balanced batches; ``False``: the paper's draw (a
        class per slot, uniformly).

    Raises
    ------
    InvalidValueError
        If the modalities share no class or ``batch_size`` / ``steps`` is not positive.
    """

    def __init__(
        self,
        labels_a: Any,
        labels_b: Any,
        *,
        batch_size: int = 64,
        steps: int | None = None,
        seed: int = 0,
        exact: bool = True,
    ) -> None:
        self.labels_a, self.labels_b = np.asarray(labels_a), np.asarray(labels_b)
        if self.labels_a.ndim != 1 or self.labels_b.ndim != 1:
            raise InvalidValueError("labels_a and labels_b must be 1-D (one class label per item)")
        if int(batch_size) != batch_size or batch_size < 1:
            raise InvalidValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        shared = sorted(set(self.labels_a.tolist()) & set(self.labels_b.tolist()), key=repr)
        if not shared:
            raise InvalidValueError("the two modalities share no class label: nothing to pair")
        self.classes = shared
        self.batch_size = int(batch_size)
        default_steps = -(-max(len(self.labels_a), len(self.labels_b)) // self.batch_size)
        self.steps = default_steps if steps is None else int(steps)
        if self.steps < 1:
            raise InvalidValueError(f"steps must be a positive integer, got {steps!r}")
        self.seed, self.exact = int(seed), bool(exact)
        self.reset()

    def reset(self) -> None:
        """Restart the random stream from the seed."""
        self.rng = np.random.default_rng(self.seed)
        self._pools = [
            {c: _ClassPool(np.flatnonzero(labels == c), self.rng) for c in self.classes}
            for labels in (self.labels_a, self.labels_b)
        ]

    def __len__(self) -> int:
        return self.steps

    def composition(self) -> np.ndarray:
        """Class counts ``(C,)`` of the next batch, summing to ``batch_size``."""
        n_classes = len(self.classes)
        if not self.exact:
            return np.bincount(self.rng.integers(0, n_classes, self.batch_size), minlength=n_classes)
        counts = np.full(n_classes, self.batch_size // n_classes)
        counts[self.rng.choice(n_classes, self.batch_size % n_classes, replace=False)] += 1
        return counts

    def sample(self) -> tuple[np.ndarray, np.ndarray]:
        """One batch: ``(batch_size,)`` indices into modality a and into modality b."""
        counts = self.composition()
        batch = []
        for pools in self._pools:
            idx = np.concatenate([pools[c].draw(int(k)) for c, k in zip(self.classes, counts, strict=True)])
            batch.append(self.rng.permutation(idx))
        return batch[0], batch[1]

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        for _ in range(self.steps):
            yield self.sample()


class QuadrantBalancedPairSampler(ClassBalancedPairSampler):
    """:class:`ClassBalancedPairSampler` over the Russell quadrants of VA labels (for the EIMG losses).

    Parameters
    ----------
    va_a, va_b
        ``(N, 2)`` valence-arousal labels in ``[-1, 1]``.
    **kwargs
        As :class:`ClassBalancedPairSampler`.
    """

    def __init__(self, va_a: Any, va_b: Any, **kwargs: Any) -> None:
        super().__init__(quadrants(va_a), quadrants(va_b), **kwargs)


def stratified_split(
    strata: np.ndarray, fraction: float, rng: np.random.Generator, *, min_held: int = 1, min_train: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """Seeded (kept, held-out) positions holding out ``fraction`` of every stratum.

    Each stratum (in sorted order) is shuffled with ``rng`` and its first
    ``round(fraction · n)`` items are held out, at least ``min_held`` and
    leaving at least ``min_train``; a stratum with fewer than
    ``min_held + min_train`` items, or ``fraction <= 0``, holds out nothing.
    Used for the trainer's validation split (1, 1), ``align train --holdout``
    (1, 2: the trainer still needs two of a class) and the experiments' test
    split (0, 0).
    """
    kept, held = [], []
    for s in np.unique(strata):
        idx = rng.permutation(np.flatnonzero(strata == s))
        n = idx.size
        k = 0 if fraction <= 0 or n < min_held + min_train else min(max(int(round(fraction * n)), min_held), n - min_train)
        held.append(idx[:k])
        kept.append(idx[k:])
    return np.sort(np.concatenate(kept)).astype(np.int64), np.sort(np.concatenate(held)).astype(np.int64)
