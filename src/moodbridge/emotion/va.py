"""Points of the one valence-arousal (VA) space and their array form.

Every emotion in moodbridge is a point ``(valence, arousal)`` with both axes in
``[-1, 1]`` and ``0`` neutral (Russell's circumplex, as used by EMID and EIMG).
A single point is a :class:`VA`; many points are a float64 array of shape
``(N, 2)`` whose columns are valence and arousal.  :func:`as_va_array` is the
one gate every array goes through: it checks shape, finiteness and range and
raises :class:`~moodbridge.errors.InvalidValueError` with a readable message.

Values within ``1e-9`` of a bound (float round-off of a scale conversion) are
accepted and snapped onto the bound.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Union

import numpy as np

from moodbridge.errors import InvalidValueError

#: Largest excess over ``[-1, 1]`` accepted as round-off (and clipped away).
RANGE_TOLERANCE = 1e-9

#: Anything :func:`as_va_array` accepts: a :class:`VA`, a ``(2,)`` or ``(N, 2)``
#: array-like, or a sequence of :class:`VA` / pairs.
VALike = Union["VA", Sequence[float], Sequence["VA"], Sequence[Sequence[float]], np.ndarray]


def _check_value(value: Any, what: str) -> float:
    """One VA coordinate as a float in ``[-1, 1]``, or an InvalidValueError."""
    if isinstance(value, (bool, np.bool_)):
        raise InvalidValueError(f"{what} must be a number in [-1, 1], got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidValueError(f"{what} must be a number in [-1, 1], got {value!r}") from None
    if math.isnan(number):
        raise InvalidValueError(f"{what} is NaN; it must be a number in [-1, 1]")
    if not -1.0 - RANGE_TOLERANCE <= number <= 1.0 + RANGE_TOLERANCE:
        raise InvalidValueError(f"{what} = {number:g} is outside [-1, 1] (0 is neutral)")
    return min(1.0, max(-1.0, number))


@dataclass(frozen=True)
class VA:
    """One emotion: a point in valence-arousal space.

    Parameters
    ----------
    valence
        Unpleasant (-1) to pleasant (+1); 0 is neutral.
    arousal
        Calm (-1) to excited (+1); 0 is neutral.

    Raises
    ------
    InvalidValueError
        If a coordinate is not a number, is NaN or infinite, or lies outside ``[-1, 1]``.

    Examples
    --------
    >>> VA(0.5, -0.25).valence
    0.5

    Its Russell quadrant is :func:`moodbridge.emotion.quadrant_of` (``quadrant_of(VA(0.5, -0.25)).label == "Q4"``).
    """

    valence: float
    arousal: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "valence", _check_value(self.valence, "valence"))
        object.__setattr__(self, "arousal", _check_value(self.arousal, "arousal"))

    def to_array(self) -> np.ndarray:
        """The point as a float64 array ``[valence, arousal]`` of shape ``(2,)``."""
        return np.array([self.valence, self.arousal], dtype=np.float64)

    def __iter__(self) -> Iterator[float]:
        """Yield valence then arousal, so that ``v, a = point`` works."""
        yield self.valence
        yield self.arousal


#: The neutral point ``(0, 0)``.
NEUTRAL = VA(0.0, 0.0)


def as_va_array(points: VALike, *, name: str = "va") -> np.ndarray:
    """Validate VA points and return them as a float64 ``(N, 2)`` array.

    Parameters
    ----------
    points
        A :class:`VA`, a ``(2,)`` pair (one point), an ``(N, 2)`` array-like,
        or a sequence of :class:`VA` or pairs.  ``N`` may be 0.
    name
        What the points are, for error messages.

    Returns
    -------
    numpy.ndarray
        A new float64 array of shape ``(N, 2)`` (a single point gives ``N = 1``),
        columns valence and arousal, values in ``[-1, 1]``.

    Raises
    ------
    InvalidValueError
        On a wrong shape, a non-numeric entry, NaN/inf, or a value outside ``[-1, 1]``.
    """
    if isinstance(points, VA):
        return points.to_array()[None, :]
    if isinstance(points, (list, tuple)):
        points = [p.to_array() if isinstance(p, VA) else p for p in points]
    try:
        arr = np.array(points, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidValueError(
            f"{name}: expected VA points as numbers of shape (N, 2) or (2,), got {type(points).__name__}"
        ) from None
    if arr.ndim == 1 and arr.shape[0] == 2:
        arr = arr[None, :]
    elif arr.ndim == 1 and arr.shape[0] == 0:
        arr = arr.reshape(0, 2)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise InvalidValueError(
            f"{name}: expected shape (N, 2) of (valence, arousal) or (2,), got shape {arr.shape}"
        )
    if not np.all(np.isfinite(arr)):
        row = int(np.argwhere(~np.isfinite(arr))[0, 0])
        raise InvalidValueError(f"{name}: row {row} is NaN or infinite: {arr[row].tolist()}")
    outside = np.abs(arr) > 1.0 + RANGE_TOLERANCE
    if np.any(outside):
        row = int(np.argwhere(outside)[0, 0])
        raise InvalidValueError(
            f"{name}: row {row} = {arr[row].tolist()} is outside [-1, 1] (valence, arousal; 0 is neutral)"
        )
    return np.clip(arr, -1.0, 1.0)


def is_single_point(points: VALike) -> bool:
    """Whether ``points`` denotes one point (a :class:`VA` or a flat pair) rather than a set."""
    if isinstance(points, VA):
        return True
    if isinstance(points, np.ndarray):
        return points.shape == (2,)
    if isinstance(points, Sequence) and len(points) == 2:
        return all(not isinstance(p, (Sequence, np.ndarray, VA)) for p in points)
    return False


def to_array(points: Iterable[VA]) -> np.ndarray:
    """Stack :class:`VA` points into a float64 ``(N, 2)`` array.

    Parameters
    ----------
    points
        Any iterable of :class:`VA` (or of pairs).

    Returns
    -------
    numpy.ndarray
        Shape ``(N, 2)``, columns valence and arousal.
    """
    items = list(points)
    if not items:
        return np.zeros((0, 2), dtype=np.float64)
    return as_va_array(items, name="points")


def from_array(array: VALike) -> list[VA]:
    """Turn an ``(N, 2)`` array (or a single pair) into a list of :class:`VA`.

    Raises
    ------
    InvalidValueError
        As :func:`as_va_array`.
    """
    return [VA(float(v), float(a)) for v, a in as_va_array(array, name="array")]
