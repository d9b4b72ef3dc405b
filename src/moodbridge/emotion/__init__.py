"""The one emotion space of moodbridge: valence-arousal points, scales, taxonomies, similarities.

Every emotion is a point ``(valence, arousal)`` in ``[-1, 1]^2`` with 0 neutral
(:class:`VA`; many points are an ``(N, 2)`` array).  Source ratings come in
through :mod:`~moodbridge.emotion.scales`; categories of the built-in
taxonomies are placed with the NRC-VAD lexicon as in EMID
(:mod:`~moodbridge.emotion.taxonomy`); points are compared with EMID's centred
cosine, EIMG's inverse Euclidean similarity or a Gaussian kernel
(:mod:`~moodbridge.emotion.similarity`).
"""
from moodbridge.emotion.lexicon import Lexicon
from moodbridge.emotion.quadrants import (
    QUADRANT_CENTRES,
    Quadrant,
    get_quadrant,
    quadrant_labels,
    quadrant_of,
    quadrants,
)
from moodbridge.emotion.scales import (
    SCALE_0_1,
    SCALE_1_5,
    SCALE_1_7,
    SCALE_1_9,
    SCALE_PM1,
    SCALES,
    Scale,
    get_scale,
)
from moodbridge.emotion.similarity import (
    SIMILARITIES,
    cosine_similarity,
    gaussian_similarity,
    get_similarity,
    inverse_euclidean_similarity,
    pairwise_similarity,
    rowwise_similarity,
    similarity,
)
from moodbridge.emotion.taxonomy import (
    CATEGORY_WORDS,
    DEFAULT_TEMPERATURE,
    TAXONOMIES,
    Category,
    Taxonomy,
    category_va,
    distribution_to_va,
    get_taxonomy,
    nearest_category,
    va_to_distribution,
)
from moodbridge.emotion.va import NEUTRAL, VA, as_va_array, from_array, to_array

__all__ = [
    "CATEGORY_WORDS",
    "DEFAULT_TEMPERATURE",
    "NEUTRAL",
    "QUADRANT_CENTRES",
    "SCALES",
    "SCALE_0_1",
    "SCALE_1_5",
    "SCALE_1_7",
    "SCALE_1_9",
    "SCALE_PM1",
    "SIMILARITIES",
    "TAXONOMIES",
    "VA",
    "Category",
    "Lexicon",
    "Quadrant",
    "Scale",
    "Taxonomy",
    "as_va_array",
    "category_va",
    "cosine_similarity",
    "distribution_to_va",
    "from_array",
    "gaussian_similarity",
    "get_quadrant",
    "get_scale",
    "get_similarity",
    "get_taxonomy",
    "inverse_euclidean_similarity",
    "nearest_category",
    "pairwise_similarity",
    "quadrant_labels",
    "quadrant_of",
    "quadrants",
    "rowwise_similarity",
    "similarity",
    "to_array",
    "va_to_distribution",
]
