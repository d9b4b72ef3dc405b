"""Library items in the semantic bridge: stored encoder outputs -> 384-d text-space vectors.

:func:`moodbridge.semantic.bridge.bridge_from_outputs` does the mapping; this
module feeds it a library's stored outputs and the shipped 4Q reference tag
distributions of the ``audio-zeroshot`` head (the contrast of the audio weights).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from moodbridge.affect.heads.audio_zeroshot import shipped_tag_references
from moodbridge.semantic.bridge import BRIDGE_DIM, NEEDED, bridge_from_outputs

if TYPE_CHECKING:
    from moodbridge.library.catalogue import Item
    from moodbridge.library.library import Library

__all__ = ["bridge_embeddings", "item_bridge"]


def item_bridge(modality: str, outputs: Mapping[str, Mapping[str, np.ndarray]]) -> np.ndarray:
    """``(N, 384)`` bridge vectors of items of ``modality`` from their encoder outputs (shipped references)."""
    return bridge_from_outputs(modality, outputs, references=shipped_tag_references())


def bridge_embeddings(library: "Library", items: Sequence["Item"]) -> np.ndarray:
    """``(len(items), 384)`` bridge embeddings of library items, in item order.

    Items may mix modalities; each modality's stored encoder outputs are read
    from the library (:data:`~moodbridge.semantic.bridge.NEEDED`).

    Raises
    ------
    InvalidValueError
        For MIDI items or an unknown modality.
    LibraryError
        If an item lacks a needed stored output (it was added without that encoder).
    """
    out = np.zeros((len(items), BRIDGE_DIM))
    by_modality: dict[str, list[int]] = {}
    for i, it in enumerate(items):
        by_modality.setdefault(it.modality, []).append(i)
    for modality, rows in by_modality.items():
        if modality not in NEEDED:
            bridge_from_outputs(modality, {})  # raises the modality's error
        chosen = [items[i] for i in rows]
        outputs: dict[str, dict[str, np.ndarray]] = {}
        for enc, output in NEEDED[modality]:
            outputs.setdefault(enc, {})[output] = library.feature_matrix(chosen, enc, output=output)
        out[rows] = item_bridge(modality, outputs)
    return out
