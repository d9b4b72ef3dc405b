"""Russell's four quadrants of the valence-arousal plane.

=====  ==========  ==========  =====================================
name   valence     arousal     typical emotions
=====  ==========  ==========  =====================================
Q1     positive    positive    happy, excited, joyful, triumphant
Q2     negative    positive    angry, afraid, tense, annoyed
Q3     negative    negative    sad, depressed, bored, tired
Q4     positive    negative    calm, relaxed, content, serene
=====  ==========  ==========  =====================================

These are the classes of the 4Q audio emotion data set (Panda et al. 2018).

**Points on an axis.** A coordinate that is exactly 0 (or -0.0) counts as
*positive*: valence ``>= 0`` is positive valence and arousal ``>= 0`` is
positive arousal (closed upper half-planes).  Hence the neutral point
``(0, 0)`` is Q1, ``(0, -0.5)`` is Q4, ``(-0.5, 0)`` is Q2 and ``(0.5, 0)``
is Q1.  The rule is total and deterministic, so every point has exactly one
quadrant; callers who need a "neutral" class should test ``|v|``, ``|a|``
against their own dead zone first.

**Centres.** The centre of a quadrant is the centroid of its unit square,
``(±0.5, ±0.5)``.  With these centres the nearest centre of any point off the
axes is the point's own quadrant, so the quadrant taxonomy of
:mod:`moodbridge.emotion.taxonomy` agrees with :func:`quadrants`.
"""
from __future__ import annotations

from enum import IntEnum

import numpy as np

from moodbridge.emotion.va import VA, VALike, as_va_array
from moodbridge.errors import InvalidValueError

_DESCRIPTIONS = {
    1: "positive valence, high arousal (happy, excited)",
    2: "negative valence, high arousal (angry, afraid, tense)",
    3: "negative valence, low arousal (sad, depressed, bored)",
    4: "positive valence, low arousal (calm, relaxed, content)",
}
_SIGNS = {1: (1.0, 1.0), 2: (-1.0, 1.0), 3: (-1.0, -1.0), 4: (1.0, -1.0)}


class Quadrant(IntEnum):
    """A Russell quadrant; its integer value is 1 to 4."""

    Q1 = 1
    Q2 = 2
    Q3 = 3
    Q4 = 4

    @property
    def label(self) -> str:
        """``"Q1"`` to ``"Q4"``."""
        return self.name

    @property
    def description(self) -> str:
        """One line saying what the quadrant holds."""
        return _DESCRIPTIONS[self.value]

    @property
    def signs(self) -> tuple[float, float]:
        """Signs ``(±1, ±1)`` of valence and arousal in this quadrant."""
        return _SIGNS[self.value]

    @property
    def centre(self) -> VA:
        """Centroid ``(±0.5, ±0.5)`` of the quadrant."""
        sv, sa = self.signs
        return VA(0.5 * sv, 0.5 * sa)


#: Centres of Q1..Q4 as a ``(4, 2)`` array, row ``i`` for quadrant ``i + 1``.
QUADRANT_CENTRES: np.ndarray = np.array([q.centre.to_array() for q in Quadrant])
QUADRANT_CENTRES.setflags(write=False)


def quadrants(points: VALike) -> np.ndarray:
    """Quadrant numbers (1-4) of many VA points, vectorised.

    Parameters
    ----------
    points
        ``(N, 2)`` VA array-like (or one point).

    Returns
    -------
    numpy.ndarray
        int64 array of shape ``(N,)`` with values 1-4; a coordinate equal to 0
        counts as positive (see the module docstring).

    Raises
    ------
    InvalidValueError
        As :func:`moodbridge.emotion.va.as_va_array`.
    """
    arr = as_va_array(points, name="points")
    pos_v = arr[:, 0] >= 0.0
    pos_a = arr[:, 1] >= 0.0
    return np.where(pos_v, np.where(pos_a, 1, 4), np.where(pos_a, 2, 3)).astype(np.int64)


def quadrant_labels(points: VALike) -> list[str]:
    """``"Q1"`` … ``"Q4"`` of many VA points: the form quadrants take in files and JSON (see :func:`quadrants`)."""
    return [Quadrant(int(q)).label for q in quadrants(points)]


def quadrant_of(point: VA | tuple[float, float]) -> Quadrant:
    """The :class:`Quadrant` of one VA point (0 counts as positive).

    Raises
    ------
    InvalidValueError
        If ``point`` is not exactly one valid VA point.
    """
    numbers = quadrants(point)
    if numbers.shape[0] != 1:
        raise InvalidValueError(f"expected one VA point, got {numbers.shape[0]}; use quadrants() for many")
    return Quadrant(int(numbers[0]))


def get_quadrant(name: str | int) -> Quadrant:
    """Find a quadrant by label (``"Q1"``, ``"q1"``) or number (1-4).

    Raises
    ------
    InvalidValueError
        If ``name`` names no quadrant.
    """
    key = str(name).strip().upper()
    if key.isdigit():
        key = f"Q{key}"
    try:
        return Quadrant[key]
    except KeyError:
        raise InvalidValueError(f"unknown quadrant {name!r}; expected Q1, Q2, Q3, Q4 or 1-4") from None
