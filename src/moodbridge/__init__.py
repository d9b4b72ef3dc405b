"""moodbridge: match images and music by the emotion they evoke.

The package implements three research systems in one valence-arousal space:
EMID (emotion-aligned music-image datasets), Emo-CLIM (emotion-supervised
contrastive joint embeddings) and continuous-emotion image-to-music generation.
"""
from moodbridge.errors import MoodbridgeError

__version__ = "0.1.0"

__all__ = ["MoodbridgeError", "__version__"]
