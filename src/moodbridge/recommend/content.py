"""Side information of the content-aware option: encoder features and VA per clip and image, by path.

Every model of :mod:`moodbridge.recommend.models` has a content-aware variant
(``content=`` of :meth:`~moodbridge.recommend.models.base.Recommender.build`;
the formula is in :mod:`moodbridge.recommend.models.base`): each clip and
image vector is computed by a small tower from the item's *side information*
— its encoder features (e.g. EfficientNet-Lite0 for images, musicnn for clips)
followed by its valence–arousal point — plus, for the items of the training
catalogue, learned factors.  A new clip or image gets scores from its
features alone, with no retraining.

Side information comes in as plain arrays keyed by path (:class:`SideInfo`,
built with :func:`side_info`); :mod:`moodbridge.recommend.adapter` fetches them
from a library.  Standardisation statistics are taken from the training inputs
and saved with the weights; the inputs themselves are not saved (they live in
the library), so a loaded content model is given them again.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from moodbridge.errors import InvalidValueError

if TYPE_CHECKING:
    from moodbridge.recommend.data import Interactions

__all__ = ["SideInfo", "side_info", "va_side"]


@dataclass(frozen=True, eq=False)
class SideInfo:
    """Per-path inputs of a content model: ``features[r]`` (with ``va[r]``) belongs to ``paths[r]``."""

    paths: tuple[str, ...]
    features: np.ndarray
    va: np.ndarray | None = None
    what: str = "item"

    def __post_init__(self) -> None:
        object.__setattr__(self, "_row", {p: r for r, p in enumerate(self.paths)})

    @property
    def dim(self) -> int:
        return int(self.features.shape[1]) + (0 if self.va is None else 2)

    def __len__(self) -> int:
        return len(self.paths)

    def __contains__(self, path: object) -> bool:
        return path in self._row  # type: ignore[attr-defined]

    def plus(self, paths: Sequence[str], rows: np.ndarray) -> SideInfo:
        """A copy with more paths; ``rows`` are their full inputs (features, then VA when this side has VA)."""
        rows = np.asarray(rows, dtype=np.float32).reshape(len(paths), -1)
        if rows.shape[1] != self.dim:
            raise InvalidValueError(f"{self.what} inputs: {rows.shape[1]} columns given, this side has {self.dim}")
        width = self.features.shape[1]
        va = None if self.va is None else np.concatenate([self.va, rows[:, width:]])
        return SideInfo(self.paths + tuple(paths), np.concatenate([self.features, rows[:, :width]]), va, self.what)

    def matrix(self, paths: Sequence[str]) -> np.ndarray:
        """``(len(paths), dim)`` float32 rows (features, then VA) for ``paths``.

        Raises
        ------
        InvalidValueError
            Naming the first path with no side information and how many lack it.
        """
        rows = [self._row.get(p, -1) for p in paths]  # type: ignore[attr-defined]
        missing = [p for p, r in zip(paths, rows) if r < 0]
        if missing:
            raise InvalidValueError(f"no features for {len(missing)} {self.what}(s), e.g. {missing[0]!r}; "
                                    f"a content model needs features (and VA) for every {self.what} it scores")
        rows_arr = np.asarray(rows, dtype=np.int64)
        parts = [self.features[rows_arr]] + ([] if self.va is None else [self.va[rows_arr]])
        return np.concatenate(parts, axis=1).astype(np.float32)


def side_info(features: Mapping[str, np.ndarray] | tuple[Sequence[str], np.ndarray] | None,
              va: Mapping[str, Sequence[float]] | np.ndarray | None = None, *,
              paths: Sequence[str] | None = None, what: str = "item") -> SideInfo:
    """Check and pack side information.

    Parameters
    ----------
    features
        ``{path: vector}`` or ``(paths, (n, d) array)``; ``None`` for VA only.
    va
        ``{path: (valence, arousal)}`` or an ``(n, 2)`` array aligned with the paths; optional.
    paths
        The paths when ``features`` is ``None`` and ``va`` is an array.
    what
        ``"clip"`` or ``"image"``, for messages.

    Raises
    ------
    InvalidValueError
        On ragged or non-finite vectors, mismatched lengths, or no input at all.
    """
    if isinstance(features, Mapping):
        keys = list(features)
        try:
            matrix = np.stack([np.asarray(features[k], dtype=np.float32).reshape(-1) for k in keys]) if keys else None
        except ValueError:
            raise InvalidValueError(f"{what} features: vectors of different lengths") from None
    elif features is not None:
        keys, matrix = list(features[0]), np.asarray(features[1], dtype=np.float32)
    else:
        keys, matrix = list(paths) if paths is not None else (list(va) if isinstance(va, Mapping) else []), None
    if isinstance(va, Mapping):
        try:
            va_arr = np.asarray([va[k] for k in keys], dtype=np.float32)
        except KeyError as exc:
            raise InvalidValueError(f"no VA for {what} {exc.args[0]!r}") from None
    else:
        va_arr = None if va is None else np.asarray(va, dtype=np.float32)
    if matrix is None:
        if va_arr is None:
            raise InvalidValueError(f"{what} side information: give features, VA or both")
        matrix = np.zeros((len(keys), 0), dtype=np.float32)
    if matrix.ndim != 2 or matrix.shape[0] != len(keys):
        raise InvalidValueError(f"{what} features: expected {len(keys)} rows of one length, got shape {matrix.shape}")
    if va_arr is not None and va_arr.shape != (len(keys), 2):
        raise InvalidValueError(f"{what} VA: expected shape ({len(keys)}, 2), got {va_arr.shape}")
    for name, arr in (("features", matrix), ("VA", va_arr)):
        if arr is not None and not np.isfinite(arr).all():
            raise InvalidValueError(f"{what} {name}: NaN or infinite values (e.g. for {keys[int(np.flatnonzero(~np.isfinite(arr).all(axis=1))[0])]!r})")
    return SideInfo(tuple(str(k) for k in keys), matrix, va_arr, what)


def va_side(train: Interactions, which: str) -> SideInfo:
    """The pairs table's VA columns as side information (``which``: ``"user"`` or ``"item"``).

    Raises
    ------
    InvalidValueError
        If the table has no VA columns for that side (or an image of the catalogue has no pair, hence no VA).
    """
    va = train.user_va if which == "user" else train.item_va
    ids = train.users if which == "user" else train.items
    what = "clip" if which == "user" else "image"
    if va is None:
        raise InvalidValueError(f"{train.source}: the content model needs {what} features or the pairs table's "
                                f"{what} VA columns, and it has neither")
    return side_info(None, va, paths=ids, what=what)
