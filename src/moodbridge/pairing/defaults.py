"""Default EMID pairing parameters and filter thresholds, read from ``data/emid_presets.json``.

EMID Sec. 3.1.3: K = 100 candidates, m = 3 images, α = 0.6; the filter
thresholds of Sec. 3.2 (reasoned in :class:`moodbridge.pairing.filters.FilterSettings`).
Kept apart from :mod:`moodbridge.pairing.scores` so that the command line can
show them without loading torch.
"""
from __future__ import annotations

import json
from importlib import resources
from typing import Any

__all__ = ["DEFAULT_ALPHA", "DEFAULT_K", "DEFAULT_M", "FILTER_PRESET", "PRESETS"]

#: the presets file, parsed
PRESETS: dict[str, Any] = json.loads(
    resources.files("moodbridge.pairing").joinpath("data", "emid_presets.json").read_text(encoding="utf-8")
)
#: candidate images per clip, by semantic similarity S
DEFAULT_K: int = int(PRESETS["pairing"]["k"])
#: images kept per clip, by the total score T
DEFAULT_M: int = int(PRESETS["pairing"]["m"])
#: weight of semantics in T = α S' + (1 − α) E'
DEFAULT_ALPHA: float = float(PRESETS["pairing"]["alpha"])
#: the default filter thresholds and class lists
FILTER_PRESET: dict[str, Any] = dict(PRESETS["filters"])
