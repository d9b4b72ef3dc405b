"""Leave-one-out split per clip (EMID's EMI-Adapter protocol, after He et al. 2017).

For every clip with at least two pairs, one of its pairs is held out for
testing (chosen uniformly at random with a seeded generator: a pairs table has
no time order, so NCF's "latest interaction" has no analogue here); all other
pairs are training pairs.  A clip with a single pair cannot be both trained on
and tested, so it is **skipped** for evaluation and counted
(:attr:`Split.n_skipped`); its one pair stays in training, where it still
teaches the model about its image.

The split is fixed by its seed and can be saved (:func:`save_split`, JSON with
the held-out pairs as paths) and reloaded against the same pairs
(:func:`load_split`), which checks the fingerprints of clips, images and pairs.

For choosing hyperparameters, :func:`validation_split` cuts a second
leave-one-out from the *training* part only (of half the clips; see there);
the test items are never seen.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from moodbridge.errors import InvalidValueError
from moodbridge.fileio import write_json_atomic
from moodbridge.recommend.data import Interactions

__all__ = ["SPLIT_FORMAT", "VALIDATION_FRACTION", "Split", "leave_one_out", "load_split", "save_split", "validation_split"]

SPLIT_FORMAT = "moodbridge-recommend-split"


@dataclass(frozen=True, eq=False)
class Split:
    """A leave-one-out split of :class:`Interactions`.

    Attributes
    ----------
    interactions
        All pairs.
    test_mask
        ``(n_pairs,)`` bool: the held-out pair of each evaluated clip.
    seed
        The seed that chose the held-out pairs.
    """

    interactions: Interactions
    test_mask: np.ndarray
    seed: int

    @property
    def train(self) -> Interactions:
        """The training pairs (same users, items and index maps)."""
        return self.interactions.subset(~self.test_mask)

    @property
    def test_users(self) -> np.ndarray:
        """Evaluated clips, ``(n_test,)`` int64, ascending."""
        return self.interactions.user_idx[self.test_mask]

    @property
    def test_items(self) -> np.ndarray:
        """The held-out image of each evaluated clip, aligned with :attr:`test_users`."""
        return self.interactions.item_idx[self.test_mask]

    @property
    def skipped_users(self) -> np.ndarray:
        """Clips with a single pair (not evaluated), ascending."""
        return np.flatnonzero(self.interactions.user_counts() == 1)

    @property
    def n_skipped(self) -> int:
        return len(self.skipped_users)

    @property
    def n_test(self) -> int:
        return int(self.test_mask.sum())


def leave_one_out(interactions: Interactions, *, seed: int = 0, fraction: float = 1.0) -> Split:
    """Hold out one random pair of every clip that has at least two (or of a random ``fraction`` of them).

    Parameters
    ----------
    interactions
        The pairs.
    seed
        Seeds the choice (numpy ``default_rng``); the same seed gives the same split.
    fraction
        Share of the clips with two or more pairs that give a held-out pair (1: all,
        the test protocol; :func:`validation_split` uses less, see there).

    Raises
    ------
    InvalidValueError
        If no clip has two pairs (nothing could be evaluated).
    """
    counts = interactions.user_counts()
    if not (counts >= 2).any():
        raise InvalidValueError(f"{interactions.source}: no clip has two or more pairs; leave-one-out needs one "
                                f"pair to train on and one to test ({interactions.n_users} clips, one pair each)")
    if not 0.0 < fraction <= 1.0:
        raise InvalidValueError(f"fraction must be in (0, 1], got {fraction}")
    rng = np.random.default_rng(seed)
    # pairs are sorted by user: the chosen pair of user u is start[u] + a uniform offset < counts[u]
    start = np.concatenate([[0], np.cumsum(counts)[:-1]])
    offset = np.floor(rng.random(interactions.n_users) * counts).astype(np.int64)
    eligible = np.flatnonzero(counts >= 2)
    if fraction < 1.0:
        eligible = np.sort(rng.choice(eligible, size=max(1, int(round(fraction * len(eligible)))), replace=False))
    chosen = (start + offset)[eligible]
    mask = np.zeros(interactions.n_pairs, dtype=bool)
    mask[chosen] = True
    return Split(interactions, mask, int(seed))


#: Share of the clips that give a validation pair (:func:`validation_split`).
VALIDATION_FRACTION = 0.5


def validation_split(split: Split, *, seed: int = 1, fraction: float = VALIDATION_FRACTION) -> Split:
    """A leave-one-out of ``split``'s training pairs, for tuning hyperparameters.

    Its test pairs are training pairs of ``split``; ``split``'s own test pairs are not in it at all.

    Only a random ``fraction`` (default half) of the clips give a validation pair.  With
    EMID's m = 3 a clip has two training pairs; holding one out of *every* clip would leave
    each clip a single pair, so no two images would share a clip and the ID models would
    have no collaborative signal at all — every setting would score like popularity and
    tuning would choose at random (measured on the real pairing of ``docs/results.md``).
    The clips that keep both pairs carry the co-occurrences the held-out ones are predicted
    from, as at test time.
    """
    return leave_one_out(split.train, seed=seed, fraction=fraction)


def save_split(split: Split, path: str | Path) -> Path:
    """Write the split as JSON (atomically): seed, fingerprints, held-out pairs and skipped clips by path."""
    inter = split.interactions
    data = {
        "format": SPLIT_FORMAT, "format_version": 1, "seed": split.seed, "source": inter.source,
        "n_users": inter.n_users, "n_items": inter.n_items, "n_pairs": inter.n_pairs,
        "user_fingerprint": inter.user_fingerprint, "item_fingerprint": inter.item_fingerprint,
        "pairs_fingerprint": inter.pairs_fingerprint,
        "test": [[inter.users[u], inter.items[i]] for u, i in zip(split.test_users, split.test_items)],
        "skipped": [inter.users[u] for u in split.skipped_users],
    }
    return write_json_atomic(path, data, what="leave-one-out split")


def load_split(path: str | Path, interactions: Interactions) -> Split:
    """Read a split written by :func:`save_split` for the same ``interactions``.

    Raises
    ------
    InvalidValueError
        If the file is missing or not a split, or was made from other pairs
        (the clip, image or pair fingerprints differ).
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidValueError(f"{path}: no such split file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidValueError(f"{path}: not a readable split file ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != SPLIT_FORMAT:
        raise InvalidValueError(f"{path}: not a moodbridge leave-one-out split (format {SPLIT_FORMAT!r} expected)")
    for key, what in (("user_fingerprint", "clips"), ("item_fingerprint", "images"), ("pairs_fingerprint", "pairs")):
        mine = getattr(interactions, key)
        if data.get(key) != mine:
            raise InvalidValueError(
                f"{path}: the split was made from other {what} ({data.get('n_users')} clips, {data.get('n_items')} "
                f"images, {data.get('n_pairs')} pairs; {key} {data.get(key)}) than {interactions.source} "
                f"({interactions.n_users} clips, {interactions.n_items} images, {interactions.n_pairs} pairs; {mine})")
    keys = interactions.user_idx * interactions.n_items + interactions.item_idx
    test = np.array([interactions.user_index(c) * interactions.n_items + interactions.item_index(i)
                     for c, i in data["test"]], dtype=np.int64)
    mask = np.isin(keys, test)
    if mask.sum() != len(test):
        raise InvalidValueError(f"{path}: {len(test) - int(mask.sum())} held-out pair(s) are not pairs of "
                                f"{interactions.source}")
    return Split(interactions, mask, int(data["seed"]))
