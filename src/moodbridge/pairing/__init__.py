"""EMID pairing (EMID Sec. 3.1): top-K candidates by semantic similarity S,
emotional similarity E, total score ``T = α S' + (1 − α) E'``, m images per clip.

:mod:`~moodbridge.pairing.topk` finds the candidates blockwise (never the full
music × image matrix); :mod:`~moodbridge.pairing.scores` adds E, normalises S
and E per clip over its candidates, and keeps the m best by T.
:mod:`~moodbridge.pairing.expand` (EMID Sec. 3.2.2) finds new clips in full
tracks by librosa cross-similarity and recurrence quantification; import it from
there (it loads librosa).

The names below are loaded on first use (PEP 562), so importing a light
submodule such as :mod:`~moodbridge.pairing.filters` or
:mod:`~moodbridge.pairing.defaults` (the command line does) does not load torch.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from moodbridge.pairing.defaults import DEFAULT_ALPHA, DEFAULT_K, DEFAULT_M

if TYPE_CHECKING:  # pragma: no cover
    from moodbridge.pairing.pairs import Pairing
    from moodbridge.pairing.scores import (
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

#: public name -> the submodule that defines it
_LAZY: dict[str, str] = {
    **dict.fromkeys(("combine", "emotional_similarity", "normalise_rows", "pair", "pair_alphas"), "scores"),
    "Pairing": "pairs",
    **dict.fromkeys(("DEFAULT_MEMORY_BUDGET", "Candidates", "block_shape", "ivf_top_k", "top_k_candidates",
                     "validate_embeddings"), "topk"),
}

__all__ = sorted(["DEFAULT_ALPHA", "DEFAULT_K", "DEFAULT_M", *_LAZY])


def __getattr__(name: str) -> Any:
    """Load ``name`` from its submodule on first access (PEP 562)."""
    if name in _LAZY:
        value = getattr(importlib.import_module(f"moodbridge.pairing.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'moodbridge.pairing' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
