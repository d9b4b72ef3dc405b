"""EMID pairing (EMID Sec. 3.1): top-K candidates by semantic similarity S,
emotional similarity E, total score ``T = α S' + (1 − α) E'``, m images per clip.

:mod:`~moodbridge.pairing.topk` finds the candidates blockwise (never the full
music × image matrix); :mod:`~moodbridge.pairing.scores` adds E, normalises S
and E per clip over its candidates, and keeps the m best by T.
:mod:`~moodbridge.pairing.expand` (EMID Sec. 3.2.2) finds new clips in full
tracks by librosa cross-similarity and recurrence quantification; import it from
there (it loads librosa).
"""
from moodbridge.pairing.scores import (
    DEFAULT_ALPHA,
    DEFAULT_K,
    DEFAULT_M,
    Pairing,
    combine,
    emotional_similarity,
    normalise_rows,
    pair,
    pair_alphas,
)
from moodbridge.pairing.topk import (
    DEFAULT_MEMORY_BUDGET,
    Candidates,
    block_shape,
    ivf_top_k,
    top_k_candidates,
    validate_embeddings,
)

__all__ = [
    "DEFAULT_ALPHA",
    "DEFAULT_K",
    "DEFAULT_M",
    "DEFAULT_MEMORY_BUDGET",
    "Candidates",
    "Pairing",
    "block_shape",
    "combine",
    "emotional_similarity",
    "ivf_top_k",
    "normalise_rows",
    "pair",
    "pair_alphas",
    "top_k_candidates",
    "validate_embeddings",
]
