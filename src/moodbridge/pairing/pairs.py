"""The result of EMID pairing: m images per music clip as flat arrays (EMID Sec. 3.1, Eq. 2)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Pairing"]


@dataclass(frozen=True)
class Pairing:
    """The m best images per music clip, as flat arrays of ``N_M · m`` pairs.

    Pairs are ordered by clip, then by rank.

    Attributes
    ----------
    clip, image
        int64 music clip and image indices.
    rank
        int64 rank of the image for its clip, 0 = best.
    semantic, emotional
        Raw S (cosine of embeddings) and E (VA similarity) of the pair.
    semantic_norm, emotional_norm
        S' and E' after per-clip normalisation over the K candidates.
    total
        ``T = α · S' + (1 − α) · E'`` (EMID Eq. 2 on normalised terms).
    alpha, normalisation, metric
        The settings used.
    """

    clip: np.ndarray
    image: np.ndarray
    rank: np.ndarray
    semantic: np.ndarray
    emotional: np.ndarray
    semantic_norm: np.ndarray
    emotional_norm: np.ndarray
    total: np.ndarray
    alpha: float
    normalisation: str
    metric: str

    def __len__(self) -> int:
        return int(self.clip.shape[0])

    def images_of(self, clip: int) -> np.ndarray:
        """Image indices paired with ``clip``, best first."""
        return self.image[self.clip == clip]
