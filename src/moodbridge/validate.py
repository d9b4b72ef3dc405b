"""Checks of the values every layer receives: embedding matrices, fractions, positive integers, names.

One module so that the same mistake gets the same message everywhere; each
check returns the cleaned value or raises
:class:`~moodbridge.errors.InvalidValueError` naming what was wrong.
"""
from __future__ import annotations

import re
from typing import Any

import numpy as np

from moodbridge.errors import InvalidValueError

__all__ = ["NAME_PATTERN", "check_name", "finite_matrix", "fraction", "positive_int", "unit_rows"]

#: Names that become folder names (spaces, indexes): letters, digits, ``.``, ``_``, ``-``; not starting with ``.``.
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
#: Rows this far from unit norm count as normalised.
NORM_TOLERANCE = 1e-3
_CHECK_ROWS = 65536


def positive_int(value: Any, name: str) -> int:
    """``value`` as an ``int`` ≥ 1 (``bool`` refused)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise InvalidValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def fraction(value: Any, name: str, *, low_open: bool = False, high_open: bool = True) -> float:
    """``value`` as a float in ``[0, 1)`` by default (``low_open`` / ``high_open`` choose the ends)."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        x = float("nan")
    if isinstance(value, bool) or not np.isfinite(x):
        raise InvalidValueError(f"{name} must be a fraction, got {value!r}")
    low_ok = x > 0.0 if low_open else x >= 0.0
    high_ok = x < 1.0 if high_open else x <= 1.0
    if not (low_ok and high_ok):
        span = f"{'(' if low_open else '['}0, 1{')' if high_open else ']'}"
        raise InvalidValueError(f"{name} must be a fraction in {span}, got {value!r}")
    return x


def check_name(name: Any, what: str = "names") -> str:
    """A name that is safe as a folder name (:data:`NAME_PATTERN`)."""
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise InvalidValueError(
            f"{what} must be letters, digits, '.', '_' or '-' (not starting with '.'), got {name!r}"
        )
    return name


def finite_matrix(x: Any, name: str, *, dtype: Any = np.float64, allow_empty: bool = False,
                  dim: int | None = None, copy: bool = False) -> np.ndarray:
    """``x`` as a C-contiguous 2-D ``(N, d)`` array of ``dtype`` with only finite values.

    Parameters
    ----------
    x
        Array-like of row vectors.
    name
        What the rows are, for messages (``"music embeddings"``).
    dtype
        Result type (float64 by default, float32 for FAISS and torch).
    allow_empty
        Accept ``N = 0``.
    dim
        Required number of columns, if any.
    copy
        Always return a new array (otherwise no copy when ``x`` already fits).

    Raises
    ------
    InvalidValueError
        On a non-numeric input, a wrong shape or dimension, or NaN / inf
        (the number of bad rows and the first one are given).
    """
    try:
        arr = np.array(x, dtype=dtype, order="C", copy=True) if copy else np.ascontiguousarray(x, dtype=dtype)
    except (TypeError, ValueError):
        raise InvalidValueError(f"{name}: expected a numeric 2-D (N, d) array") from None
    if arr.ndim != 2:
        raise InvalidValueError(f"{name}: expected a 2-D (N, d) array, got shape {arr.shape}")
    if (arr.shape[0] == 0 and not allow_empty) or arr.shape[1] == 0:
        raise InvalidValueError(f"{name} are empty (shape {arr.shape}); need a non-empty 2-D (N, d) array")
    if dim is not None and arr.shape[1] != dim:
        raise InvalidValueError(f"{name}: dimension mismatch: expected {dim} columns, got {arr.shape[1]}")
    bad = np.zeros(arr.shape[0], dtype=bool)
    for start in range(0, arr.shape[0], _CHECK_ROWS):
        chunk = arr[start : start + _CHECK_ROWS]
        bad[start : start + len(chunk)] = ~np.isfinite(chunk).all(axis=1)
    if bad.any():
        raise InvalidValueError(
            f"{name}: {int(bad.sum())} of {arr.shape[0]} rows hold NaN or infinite values (first: row {int(np.argmax(bad))})"
        )
    return arr


def row_norms(arr: np.ndarray) -> np.ndarray:
    """L2 norm of each row, accumulated in float64.

    ``einsum`` casts in its own small buffers: no float64 copy of the rows is
    made (that copy, freshly faulted in, cost 0.36 s of a 3.7 s EMID-scale
    pairing), and the sums are the same.
    """
    return np.sqrt(np.einsum("ij,ij->i", arr, arr, dtype=np.float64))


def unit_rows(x: Any, name: str, *, normalise: bool = True, dtype: Any = np.float32,
              allow_empty: bool = False, dim: int | None = None) -> np.ndarray:
    """Finite ``(N, d)`` rows of unit L2 norm (cosine = inner product).

    With ``normalise`` the rows are scaled (a copy; all-zero rows are an
    error); without it they must already be unit length and no copy is made
    when ``x`` already has the right type.
    """
    arr = finite_matrix(x, name, dtype=dtype, allow_empty=allow_empty, dim=dim)
    norms = row_norms(arr)
    if normalise:
        zero = norms == 0
        if zero.any():
            raise InvalidValueError(
                f"{name}: {int(zero.sum())} of {arr.shape[0]} rows are all zeros and cannot be normalised"
                f" (first: row {int(np.argmax(zero))})"
            )
        return (arr / norms[:, None]).astype(dtype)
    off = np.abs(norms**2 - 1.0) > NORM_TOLERANCE
    if off.any():
        raise InvalidValueError(
            f"{name}: {int(off.sum())} of {arr.shape[0]} rows are not L2-normalised "
            f"(first: row {int(np.argmax(off))}, norm {norms[np.argmax(off)]:.4g}); pass normalise=True"
        )
    return arr
