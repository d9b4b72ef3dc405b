"""Emotional similarity of VA points, vectorised with numpy.

Three similarities, all larger for closer emotions:

``"cosine"`` (:func:`cosine_similarity`)
    EMID's emotional similarity E (EMID Sec. 3.1.3, used in Eq. 2
    ``T = alpha * S + (1 - alpha) * E``): the cosine of the angle between two
    VA vectors **after subtracting a centre** (cosine only means something on
    centred coordinates).  Range ``[-1, 1]``.
``"inverse-euclidean"`` (:func:`inverse_euclidean_similarity`)
    EIMG's emotion matching score (EIMG Eq. 1,
    ``sim(x, y) = [(v_x - v_y)^2 + (a_x - a_y)^2]^(-1/2)``) made finite:
    ``1 / (1 + d)``.  Range ``[1 / (1 + 2 sqrt 2), 1]`` ~= ``[0.261, 1]``.
``"gaussian"`` (:func:`gaussian_similarity`)
    The Gaussian (RBF) kernel ``exp(-d^2 / (2 sigma^2))``.  Range ``(0, 1]``.

Every function takes ``x`` and ``y`` as VA points (a :class:`VA`, a ``(2,)``
pair, or an ``(N, 2)`` array) and computes

* ``pairwise=True`` (default): all pairs, shape ``(N, M)``;
* ``pairwise=False``: row by row, shape ``(N,)``; ``x`` and ``y`` must have
  equal length, or one of them be a single point (broadcast).

An axis given as a single point is dropped from the result, so two single
points give a float.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from moodbridge.emotion.va import VA, VALike, as_va_array, is_single_point
from moodbridge.errors import InvalidValueError

#: Default ``sigma`` of :func:`gaussian_similarity` (in VA units; the VA square has side 2).
DEFAULT_SIGMA = 0.5

#: Norms below this count as zero vectors in :func:`cosine_similarity`.
ZERO_NORM = 1e-12

Centre = Literal["neutral", "mean"] | VA | ArrayLike


def _pair(x: VALike, y: VALike, pairwise: bool) -> tuple[np.ndarray, np.ndarray]:
    """Validated arrays shaped so that ``a - b`` broadcasts to ``(N, M, 2)`` or ``(N, 2)``."""
    xa, ya = as_va_array(x, name="x"), as_va_array(y, name="y")
    if pairwise:
        return xa[:, None, :], ya[None, :, :]
    if len(xa) != len(ya) and 1 not in (len(xa), len(ya)):
        raise InvalidValueError(
            f"row-wise similarity needs x and y of equal length (or one single point), got {len(xa)} and {len(ya)}"
        )
    return xa, ya


def _shape(result: np.ndarray, x: VALike, y: VALike, pairwise: bool) -> float | np.ndarray:
    """Drop the axes of single-point inputs; a 0-d result becomes a float."""
    x1, y1 = is_single_point(x), is_single_point(y)
    if pairwise:
        result = result[0] if x1 else result
        result = result[..., 0] if y1 else result
    elif x1 and y1:
        result = result[0]
    return float(result) if np.ndim(result) == 0 else result


def _distances(x: VALike, y: VALike, pairwise: bool) -> np.ndarray:
    a, b = _pair(x, y, pairwise)
    return np.sqrt(((a - b) ** 2).sum(axis=-1))


def resolve_centre(centre: Centre, reference: VALike) -> np.ndarray:
    """The centre of :func:`cosine_similarity` as a ``(2,)`` array.

    Parameters
    ----------
    centre
        ``"neutral"``: the VA origin ``(0, 0)``, the neutral point every scale
        converter maps its midpoint to; ``"mean"``: the mean of ``reference``;
        or an explicit point (a :class:`VA` or pair).
    reference
        The reference set (the ``y`` of the similarity).
    """
    if isinstance(centre, str):
        if centre == "neutral":
            return np.zeros(2)
        if centre == "mean":
            ref = as_va_array(reference, name="y")
            if len(ref) == 0:
                raise InvalidValueError("centre='mean' needs a non-empty reference set y")
            return ref.mean(axis=0)
        raise InvalidValueError(f"centre must be 'neutral', 'mean' or a VA point, got {centre!r}")
    point = as_va_array(centre, name="centre")
    if point.shape[0] != 1:
        raise InvalidValueError(f"centre must be one VA point, got {point.shape[0]}")
    return point[0]


def cosine_similarity(
    x: VALike, y: VALike, *, centre: Centre = "neutral", pairwise: bool = True
) -> float | np.ndarray:
    """Cosine similarity of centred VA points: EMID's emotional similarity E.

    ``E(x, y) = <x - c, y - c> / (||x - c|| ||y - c||)`` (EMID Sec. 3.1.3,
    Eq. 2; EMID computes it on VA mapped to ``(-1, 1)``, i.e. centred at the
    neutral point).  A point lying on the centre has no direction: its
    similarity to anything is defined as 0 (never NaN).

    Parameters
    ----------
    x, y
        VA points; ``y`` is the reference set.
    centre
        ``"neutral"`` (default, the origin ``(0, 0)``: EMID's choice and stable
        across queries), ``"mean"`` (the mean of ``y``: angles around the
        reference set's own centre; with a single reference point every
        similarity is then 0), or an explicit VA point.
    pairwise
        All pairs ``(N, M)`` or row-wise ``(N,)``; see the module docstring.

    Returns
    -------
    float or numpy.ndarray
        Values in ``[-1, 1]``.
    """
    c = resolve_centre(centre, y)
    a, b = _pair(x, y, pairwise)
    a, b = a - c, b - c
    return _shape(_cosine(a, b, np.linalg.norm(a, axis=-1), np.linalg.norm(b, axis=-1)), x, y, pairwise)


def _cosine(a: np.ndarray, b: np.ndarray, na: np.ndarray, nb: np.ndarray) -> np.ndarray:
    """Cosine of centred points ``a``, ``b`` with their norms, 0 where a norm is zero, clipped to ``[-1, 1]``."""
    ok = (na > ZERO_NORM) & (nb > ZERO_NORM)
    result = np.where(ok, (a * b).sum(axis=-1) / np.where(ok, na * nb, 1.0), 0.0)
    return np.clip(result, -1.0, 1.0)


def cosine_to_candidates(x: VALike, y: VALike, columns: np.ndarray, *, centre: Centre = "neutral") -> np.ndarray:
    """``E[i, j]`` = :func:`cosine_similarity` of ``x[i]`` and ``y[columns[i, j]]``, ``(N, K)``.

    The same values as the row-wise ``cosine_similarity(np.repeat(x, K, 0),
    y[columns.ravel()], pairwise=False)``, but each point is validated,
    centred and its norm taken once, not once per pair: EMID's E over each
    clip's K candidate images (Sec. 3.1.3).
    """
    xa, ya = as_va_array(x, name="x"), as_va_array(y, name="y")
    c = resolve_centre(centre, ya)
    a, b = xa - c, ya - c
    na, nb = np.linalg.norm(a, axis=-1), np.linalg.norm(b, axis=-1)
    k, flat = columns.shape[1], columns.ravel()
    result = _cosine(np.repeat(a, k, axis=0), b[flat], np.repeat(na, k), nb[flat])
    return result.reshape(columns.shape)


def inverse_euclidean_similarity(x: VALike, y: VALike, *, pairwise: bool = True) -> float | np.ndarray:
    """Inverse Euclidean similarity ``1 / (1 + d)`` of VA points (after EIMG Eq. 1).

    EIMG scores an image-music pair by ``sim = d^-1`` with
    ``d = sqrt((v_x - v_y)^2 + (a_x - a_y)^2)`` (EIMG Eq. 1) and uses it only
    to rank (top-n / bottom-n sets, EIMG Eqs. 3-4).  ``1 / (1 + d)`` is a
    strictly decreasing function of ``d`` as well, so it ranks identically,
    but it is finite at ``d = 0`` and bounded: self-similarity is 1.

    Returns
    -------
    float or numpy.ndarray
        Values in ``[1 / (1 + 2 sqrt 2), 1]``.
    """
    return _shape(1.0 / (1.0 + _distances(x, y, pairwise)), x, y, pairwise)


def gaussian_similarity(
    x: VALike, y: VALike, *, sigma: float = DEFAULT_SIGMA, pairwise: bool = True
) -> float | np.ndarray:
    """Gaussian kernel ``exp(-d^2 / (2 sigma^2))`` of the VA distance ``d``.

    Parameters
    ----------
    sigma
        Width in VA units (> 0); default :data:`DEFAULT_SIGMA`.

    Returns
    -------
    float or numpy.ndarray
        Values in ``(0, 1]``.
    """
    sigma = float(sigma)
    if not (np.isfinite(sigma) and sigma > 0):
        raise InvalidValueError(f"sigma must be a positive number, got {sigma!r}")
    d = _distances(x, y, pairwise)
    return _shape(np.exp(-(d**2) / (2.0 * sigma**2)), x, y, pairwise)


#: Similarities by name.
SIMILARITIES: dict[str, Callable[..., float | np.ndarray]] = {
    "cosine": cosine_similarity,
    "inverse-euclidean": inverse_euclidean_similarity,
    "gaussian": gaussian_similarity,
}


def get_similarity(name: str) -> Callable[..., float | np.ndarray]:
    """A similarity function by name (``"cosine"``, ``"inverse-euclidean"``, ``"gaussian"``).

    Raises
    ------
    InvalidValueError
        If the name is unknown.
    """
    key = str(name).strip().lower().replace("_", "-")
    try:
        return SIMILARITIES[key]
    except KeyError:
        raise InvalidValueError(f"unknown similarity {name!r}; known: {', '.join(SIMILARITIES)}") from None


def similarity(
    x: VALike, y: VALike, *, metric: str = "cosine", pairwise: bool = True, **params: object
) -> float | np.ndarray:
    """Similarity of VA points by metric name; ``params`` go to the metric (``centre``, ``sigma``).

    Raises
    ------
    InvalidValueError
        If the metric is unknown or does not take one of ``params``.
    """
    function = get_similarity(metric)
    try:
        return function(x, y, pairwise=pairwise, **params)
    except TypeError as exc:
        raise InvalidValueError(f"similarity {metric!r}: {exc}") from None


def pairwise_similarity(x: VALike, y: VALike, *, metric: str = "cosine", **params: object) -> float | np.ndarray:
    """All-pairs similarity, ``(N, 2) x (M, 2) -> (N, M)``."""
    return similarity(x, y, metric=metric, pairwise=True, **params)


def rowwise_similarity(x: VALike, y: VALike, *, metric: str = "cosine", **params: object) -> float | np.ndarray:
    """Row-by-row similarity, ``(N, 2) x (N, 2) -> (N,)``."""
    return similarity(x, y, metric=metric, pairwise=False, **params)
