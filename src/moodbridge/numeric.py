"""Small numeric helpers shared by several layers (no domain knowledge)."""
from __future__ import annotations

from typing import Literal

import numpy as np

from moodbridge.errors import InvalidValueError

__all__ = ["NORMALISATIONS", "Normalisation", "minmax", "normalise_rows"]

Normalisation = Literal["minmax", "zscore", "none"]
NORMALISATIONS: tuple[str, ...] = ("minmax", "zscore", "none")
#: A spread at or below this is flat: every entry gets the middle value.
FLAT = 1e-12


def normalise_rows(scores: np.ndarray, method: Normalisation = "minmax") -> np.ndarray:
    """Normalise a ``(N, K)`` score matrix per row.

    ``minmax`` maps each row onto ``[0, 1]`` (a flat row becomes 0.5);
    ``zscore`` subtracts the row mean and divides by its SD (a flat row becomes
    0); ``none`` copies.  EMID's pairing normalises S and E per clip over its K
    candidates this way (:mod:`moodbridge.pairing.scores`).

    Raises
    ------
    InvalidValueError
        On an unknown method.
    """
    scores = np.asarray(scores, dtype=np.float64)
    if method == "none":
        return scores.copy()
    if method == "minmax":
        low = scores.min(axis=1, keepdims=True)
        spread = scores.max(axis=1, keepdims=True) - low
        flat = spread <= FLAT
        return np.where(flat, 0.5, (scores - low) / np.where(flat, 1.0, spread))
    if method == "zscore":
        spread = scores.std(axis=1, keepdims=True)
        flat = spread <= FLAT
        return np.where(flat, 0.0, (scores - scores.mean(axis=1, keepdims=True)) / np.where(flat, 1.0, spread))
    raise InvalidValueError(f"unknown normalisation {method!r}; known: {', '.join(NORMALISATIONS)}")


def minmax(values: np.ndarray) -> np.ndarray:
    """One vector min-max normalised onto ``[0, 1]`` (all 0.5 when it is flat or empty)."""
    x = np.asarray(values, dtype=np.float64).reshape(1, -1)
    if x.size == 0:
        return x.reshape(-1)
    return normalise_rows(x, "minmax")[0]
