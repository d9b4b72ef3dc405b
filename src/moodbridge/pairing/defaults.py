"""Default EMID pairing parameters (EMID Sec. 3.1.3: K = 100 candidates, m = 3 images, α = 0.6).

Kept apart from :mod:`moodbridge.pairing.scores` so that the command line can
show them without loading torch.
"""
from __future__ import annotations

__all__ = ["DEFAULT_ALPHA", "DEFAULT_K", "DEFAULT_M"]

#: candidate images per clip, by semantic similarity S
DEFAULT_K = 100
#: images kept per clip, by the total score T
DEFAULT_M = 3
#: weight of semantics in T = α S' + (1 − α) E'
DEFAULT_ALPHA = 0.6
