"""Pairs table → implicit-feedback interactions (EMID Sec. 3.1.3's "EMI-Adapter" input).

EMID trains its recommenders on the music–image pairs: a music clip is a
*user*, an image an *item*, and each pair one positive interaction.  The input
is the pairs table written by ``moodbridge pair`` (``pairs.csv``, columns
:data:`PAIRS_COLUMNS`), as a path or a :class:`pandas.DataFrame`.

Index maps: users are the distinct ``clip_path`` values and items the distinct
``image_path`` values (or a given catalogue of image paths, so images that were
never paired are ranked too), each **sorted**, so the maps and their
fingerprints do not depend on the row order of the file.  A pair that occurs
twice is kept once (and counted in :attr:`Interactions.n_duplicates`).
"""
from __future__ import annotations

import bisect
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from moodbridge.errors import InvalidValueError
from moodbridge.fileio import read_csv_frame

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["PAIRS_COLUMNS", "REQUIRED_COLUMNS", "Interactions", "fingerprint", "interactions_from_pairs", "read_pairs"]

#: The columns of ``pairs.csv`` as ``moodbridge pair`` writes them.
PAIRS_COLUMNS: tuple[str, ...] = (
    "clip_path", "image_path", "rank", "S", "E", "T", "S_norm", "E_norm",
    "clip_valence", "clip_arousal", "clip_quadrant", "clip_source",
    "image_valence", "image_arousal", "image_quadrant", "image_source",
)
#: The columns every pairs table must have; the others are optional (VA is needed by content models only).
REQUIRED_COLUMNS: tuple[str, ...] = ("clip_path", "image_path")
_VA = {"user": ("clip_valence", "clip_arousal"), "item": ("image_valence", "image_arousal")}


def fingerprint(ids: Sequence[str]) -> str:
    """SHA-256 (first 16 hex digits) of the ids in their index order, one per line."""
    digest = hashlib.sha256()
    for i in ids:
        digest.update(i.encode("utf-8") + b"\n")
    return digest.hexdigest()[:16]


@dataclass(frozen=True, eq=False)
class Interactions:
    """Implicit feedback: which clip (user) was paired with which image (item).

    Attributes
    ----------
    users, items
        Clip and image paths in index order (sorted).
    user_idx, item_idx
        ``(n_pairs,)`` int64 indices of each distinct pair, sorted by user then item.
    user_va, item_va
        ``(n_users, 2)`` / ``(n_items, 2)`` valence–arousal from the table's VA columns
        (the first row per clip / image), or ``None`` where the table has none.  Items of
        the catalogue that no pair names have NaN VA.
    source
        Where the pairs came from (a file name, or ``"<DataFrame>"``).
    n_duplicates
        Rows dropped because the same (clip, image) pair occurred before.
    """

    users: tuple[str, ...]
    items: tuple[str, ...]
    user_idx: np.ndarray
    item_idx: np.ndarray
    user_va: np.ndarray | None = None
    item_va: np.ndarray | None = None
    source: str = "<DataFrame>"
    n_duplicates: int = 0

    @property
    def n_users(self) -> int:
        return len(self.users)

    @property
    def n_items(self) -> int:
        return len(self.items)

    @property
    def n_pairs(self) -> int:
        return len(self.user_idx)

    @property
    def user_fingerprint(self) -> str:
        return fingerprint(self.users)

    @property
    def item_fingerprint(self) -> str:
        return fingerprint(self.items)

    @property
    def pairs_fingerprint(self) -> str:
        """Fingerprint of the pairs themselves (indices, with both id maps)."""
        digest = hashlib.sha256(f"{self.user_fingerprint}/{self.item_fingerprint}/".encode())
        digest.update(np.ascontiguousarray(self.user_idx, dtype=np.int64).tobytes())
        digest.update(np.ascontiguousarray(self.item_idx, dtype=np.int64).tobytes())
        return digest.hexdigest()[:16]

    def csr(self) -> tuple[np.ndarray, np.ndarray]:
        """``(indptr, indices)``: user ``u``'s items are ``indices[indptr[u]:indptr[u + 1]]`` (sorted)."""
        order = np.lexsort((self.item_idx, self.user_idx))
        counts = np.bincount(self.user_idx, minlength=self.n_users)
        indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        return indptr, self.item_idx[order].astype(np.int64)

    def user_counts(self) -> np.ndarray:
        """Pairs per user, ``(n_users,)``."""
        return np.bincount(self.user_idx, minlength=self.n_users)

    def item_counts(self) -> np.ndarray:
        """Pairs per item (the popularity), ``(n_items,)``."""
        return np.bincount(self.item_idx, minlength=self.n_items)

    def subset(self, mask: np.ndarray) -> Interactions:
        """The pairs where ``mask`` is true, with the same users, items and VA."""
        mask = np.asarray(mask, dtype=bool)
        return Interactions(self.users, self.items, self.user_idx[mask], self.item_idx[mask],
                            self.user_va, self.item_va, self.source, 0)

    def user_index(self, path: str) -> int:
        """Index of a clip path; :class:`InvalidValueError` when it is not one of the users."""
        return _lookup(self.users, path, "clip")

    def item_index(self, path: str) -> int:
        """Index of an image path; :class:`InvalidValueError` when it is not in the catalogue."""
        return _lookup(self.items, path, "image")


def _lookup(ids: tuple[str, ...], path: str, what: str) -> int:
    pos = bisect.bisect_left(ids, path)
    if pos >= len(ids) or ids[pos] != path:
        raise InvalidValueError(f"{what} {path!r} is not in the catalogue ({len(ids)} {what}s)")
    return pos


def read_pairs(source: str | Path | pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """Read and check a pairs table; returns ``(frame, source name)``.

    Raises
    ------
    InvalidValueError
        Naming the file: it is missing, unreadable or empty, lacks a column of
        :data:`REQUIRED_COLUMNS`, has a column that is not in :data:`PAIRS_COLUMNS`
        (not a pairs table, or a misspelt header), has no rows, or has an empty path
        or a non-finite VA value (with the first offending row).
    """
    import pandas as pd

    if isinstance(source, pd.DataFrame):
        frame, name = source, "<DataFrame>"
    else:
        path = Path(source)
        name = str(path)
        if not path.is_file():
            raise InvalidValueError(f"{name}: no such pairs file")
        try:
            frame = read_csv_frame(path, dtype={"clip_path": str, "image_path": str}, keep_default_na=False,
                                na_values={c: [""] for c in PAIRS_COLUMNS if c not in REQUIRED_COLUMNS})
        except pd.errors.EmptyDataError:
            raise InvalidValueError(f"{name}: empty file (no header, no pairs); expected a pairs.csv "
                                    f"with columns {', '.join(PAIRS_COLUMNS)}") from None
        except (pd.errors.ParserError, UnicodeDecodeError, OSError) as exc:
            raise InvalidValueError(f"{name}: not a readable CSV pairs table ({str(exc).splitlines()[0]})") from None
    columns = [str(c) for c in frame.columns]
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    unknown = [c for c in columns if c not in PAIRS_COLUMNS]
    if missing or unknown:
        parts = ([f"missing column(s) {', '.join(missing)}"] if missing else []) + (
            [f"unknown column(s) {', '.join(unknown)}"] if unknown else [])
        raise InvalidValueError(f"{name}: not a pairs table: {'; '.join(parts)} "
                                f"(a pairs.csv has {', '.join(PAIRS_COLUMNS)})")
    if len(frame) == 0:
        raise InvalidValueError(f"{name}: the pairs table has a header but no pairs")
    for column in REQUIRED_COLUMNS:
        values = frame[column]
        bad = values.isna() | (values.astype(str).str.strip() == "")
        if bad.any():
            raise InvalidValueError(f"{name}: empty {column} in row {int(np.flatnonzero(bad.to_numpy())[0]) + 2} "
                                    "(line numbers count the header as line 1)")
    for pair in _VA.values():
        for column in pair:
            if column in columns:
                values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
                bad = ~np.isfinite(values)
                if bad.any():
                    raise InvalidValueError(f"{name}: {column} is not a finite number in row "
                                            f"{int(np.flatnonzero(bad)[0]) + 2} (line numbers count the header)")
    return frame, name


def interactions_from_pairs(source: str | Path | pd.DataFrame, *,
                            catalogue: Sequence[str] | None = None) -> Interactions:
    """Build :class:`Interactions` from a pairs table (file or DataFrame).

    Parameters
    ----------
    source
        ``pairs.csv`` (or a DataFrame with its columns), checked by :func:`read_pairs`.
    catalogue
        All image paths to rank (e.g. every image of the library); default: the images
        that occur in the table.  Every paired image must be in it.

    Raises
    ------
    InvalidValueError
        On a bad table (:func:`read_pairs`), or a paired image missing from ``catalogue``.
    """
    frame, name = read_pairs(source)
    clips = frame["clip_path"].astype(str).to_numpy()
    images = frame["image_path"].astype(str).to_numpy()
    users = np.unique(clips)
    items = np.unique(images) if catalogue is None else np.unique(np.asarray(list(catalogue), dtype=str))
    u = np.searchsorted(users, clips)
    i = np.searchsorted(items, images)
    if catalogue is not None:
        absent = (i >= len(items)) | (items[np.minimum(i, len(items) - 1)] != images)
        if absent.any():
            raise InvalidValueError(f"{name}: {int(absent.sum())} pair(s) name an image that is not in the "
                                    f"catalogue of {len(items)} images, e.g. {images[absent][0]!r}")
    keys = u.astype(np.int64) * len(items) + i
    unique_keys = np.unique(keys)
    user_va = item_va = None
    if all(c in frame.columns for c in _VA["user"]):
        user_va = _first_va(frame, _VA["user"], u, len(users))
    if all(c in frame.columns for c in _VA["item"]):
        item_va = _first_va(frame, _VA["item"], i, len(items))
    return Interactions(
        users=tuple(users.tolist()), items=tuple(items.tolist()),
        user_idx=(unique_keys // len(items)).astype(np.int64), item_idx=(unique_keys % len(items)).astype(np.int64),
        user_va=user_va, item_va=item_va, source=name, n_duplicates=int(len(keys) - len(unique_keys)),
    )


def _first_va(frame: pd.DataFrame, columns: tuple[str, str], index: np.ndarray, n: int) -> np.ndarray:
    out = np.full((n, 2), np.nan, dtype=np.float32)
    values = frame[list(columns)].to_numpy(dtype=np.float32)
    rows = np.arange(len(index))[::-1]  # assign in reverse so the first row per entity wins
    out[index[rows]] = values[rows]
    return out
