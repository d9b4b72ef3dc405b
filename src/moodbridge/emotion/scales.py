"""Converters between the rating scales of the data sets and the project's VA space.

Each source rates valence and arousal on a bounded interval ``[lo, hi]`` whose
midpoint is neutral.  The map to the project's ``[-1, 1]`` is the affine one
that sends ``lo -> -1``, the midpoint ``-> 0`` and ``hi -> +1``::

    va = 2 * (x - lo) / (hi - lo) - 1        x = lo + (va + 1) * (hi - lo) / 2

This is the normalisation EMID applies to NRC-VAD coordinates ("map these
values to (-1, 1)", EMID Fig. 3b) and undoes EIMG's normalisation of every
data set into ``[1, 9]`` (EIMG Sec. III-A).

Named scales (look them up with :func:`get_scale`):

============  ===========  =============================================
constant      range        used by
============  ===========  =============================================
SCALE_1_9     1 .. 9       EIMG labels, IAPS, NAPS (SAM 9-point); 5 -> 0
SCALE_1_7     1 .. 7       OASIS; 4 -> 0
SCALE_0_1     0 .. 1       NRC-VAD lexicon; 0.5 -> 0
SCALE_PM1     -1 .. 1      VGMIDI, and the project's own VA (identity)
============  ===========  =============================================
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from moodbridge.emotion.va import RANGE_TOLERANCE, VA
from moodbridge.errors import InvalidValueError


def _as_float_array(values: ArrayLike, what: str) -> np.ndarray:
    """``values`` as a finite float64 array, or an InvalidValueError."""
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidValueError(f"{what}: expected numbers, got {type(values).__name__}") from None
    if not np.all(np.isfinite(arr)):
        raise InvalidValueError(f"{what}: contains NaN or infinite values")
    return arr


def _out(arr: np.ndarray) -> float | np.ndarray:
    """A Python float for 0-d results, the array otherwise."""
    return float(arr) if arr.ndim == 0 else arr


@dataclass(frozen=True)
class Scale:
    """A bounded rating scale ``[lo, hi]`` with a neutral midpoint.

    Parameters
    ----------
    lo, hi
        The bounds of the scale, ``lo < hi``.
    name
        A short name for messages (e.g. ``"1-9"``).

    Examples
    --------
    >>> SCALE_1_9.to_va([1, 5, 9]).tolist()
    [-1.0, 0.0, 1.0]
    >>> SCALE_0_1.from_va(0.0)
    0.5
    """

    lo: float
    hi: float
    name: str = ""

    def __post_init__(self) -> None:
        lo, hi = float(self.lo), float(self.hi)
        if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
            raise InvalidValueError(f"scale bounds must be finite with lo < hi, got lo={self.lo!r}, hi={self.hi!r}")
        object.__setattr__(self, "lo", lo)
        object.__setattr__(self, "hi", hi)
        if not self.name:
            object.__setattr__(self, "name", f"{lo:g}..{hi:g}")

    @property
    def midpoint(self) -> float:
        """The neutral value of the scale (maps to 0)."""
        return (self.lo + self.hi) / 2.0

    def to_va(self, values: ArrayLike) -> float | np.ndarray:
        """Convert ratings on this scale to the project's ``[-1, 1]``.

        Parameters
        ----------
        values
            A number or an array of any shape (valence and arousal alike).

        Returns
        -------
        float or numpy.ndarray
            Same shape as ``values``; ``lo -> -1``, midpoint ``-> 0``, ``hi -> 1``.

        Raises
        ------
        InvalidValueError
            If a value is NaN, infinite or outside ``[lo, hi]``.
        """
        arr = _as_float_array(values, f"ratings on the {self.name} scale")
        tol = RANGE_TOLERANCE * (self.hi - self.lo)
        outside = (arr < self.lo - tol) | (arr > self.hi + tol)
        if np.any(outside):
            bad = arr[outside].ravel()[0]
            raise InvalidValueError(
                f"rating {bad:g} is outside the {self.name} scale [{self.lo:g}, {self.hi:g}]"
            )
        va = 2.0 * (arr - self.lo) / (self.hi - self.lo) - 1.0
        return _out(np.clip(va, -1.0, 1.0))

    def from_va(self, values: ArrayLike) -> float | np.ndarray:
        """Convert values of the project's ``[-1, 1]`` back onto this scale.

        Raises
        ------
        InvalidValueError
            If a value is NaN, infinite or outside ``[-1, 1]``.
        """
        arr = _as_float_array(values, "VA values")
        outside = np.abs(arr) > 1.0 + RANGE_TOLERANCE
        if np.any(outside):
            bad = arr[outside].ravel()[0]
            raise InvalidValueError(f"VA value {bad:g} is outside [-1, 1]")
        x = self.lo + (np.clip(arr, -1.0, 1.0) + 1.0) * (self.hi - self.lo) / 2.0
        return _out(x)

    def point(self, valence: float, arousal: float) -> VA:
        """A :class:`VA` from one (valence, arousal) rating pair on this scale."""
        return VA(self.to_va(valence), self.to_va(arousal))

    def pair(self, point: VA) -> tuple[float, float]:
        """A :class:`VA` as a (valence, arousal) pair on this scale."""
        return self.from_va(point.valence), self.from_va(point.arousal)


SCALE_1_9 = Scale(1.0, 9.0, "1-9")
SCALE_1_7 = Scale(1.0, 7.0, "1-7")
SCALE_1_5 = Scale(1.0, 5.0, "1-5")
SCALE_0_1 = Scale(0.0, 1.0, "0-1")
SCALE_PM1 = Scale(-1.0, 1.0, "pm1")

#: Lookup table of :func:`get_scale`: scale names and data-set aliases.
SCALES: dict[str, Scale] = {
    "1-9": SCALE_1_9,
    "eimg": SCALE_1_9,
    "iaps": SCALE_1_9,
    "naps": SCALE_1_9,
    "emotion6": SCALE_1_9,
    "sam": SCALE_1_9,
    "1-7": SCALE_1_7,
    "oasis": SCALE_1_7,
    "1-5": SCALE_1_5,
    "emobank": SCALE_1_5,
    "0-1": SCALE_0_1,
    "nrc-vad": SCALE_0_1,
    "unit": SCALE_0_1,
    "pm1": SCALE_PM1,
    "-1-1": SCALE_PM1,
    "±1": SCALE_PM1,
    "vgmidi": SCALE_PM1,
    "va": SCALE_PM1,
}


def get_scale(scale: str | Scale) -> Scale:
    """Find a scale by name or data-set alias (case-insensitive); a :class:`Scale` passes through.

    Raises
    ------
    InvalidValueError
        If the name is unknown; the message lists the known names.
    """
    if isinstance(scale, Scale):
        return scale
    key = str(scale).strip().lower().replace("_", "-")
    try:
        return SCALES[key]
    except KeyError:
        raise InvalidValueError(
            f"unknown rating scale {scale!r}; known: {', '.join(SCALES)}"
        ) from None
