"""Human-readable descriptions of items: top classes and tags from stored features."""
from __future__ import annotations

from typing import Any

import numpy as np

from moodbridge.encoders import get_encoder
from moodbridge.library import Item, Library


def top_labels(probs: np.ndarray, names: list[str], k: int = 5) -> list[tuple[str, float]]:
    """The ``k`` most probable ``(name, probability)`` pairs of a probability vector."""
    order = np.argsort(-probs)[:k]
    return [(names[i], float(probs[i])) for i in order]


def describe_item(library: Library, item: Item, *, k: int = 5) -> dict[str, Any]:
    """Everything the library knows about an item, as plain data.

    Features are summarised by their dimension; every extra output with named
    columns (class or tag probabilities) by its top ``k`` names.
    """
    encoders: dict[str, Any] = {}
    for key in library.catalogue.encoders_of(item.content_hash):
        name = key.split("@", 1)[0]
        outputs = library.catalogue.get_features(item.content_hash, key)
        entry: dict[str, Any] = {"key": key, "dim": int(outputs["features"].shape[-1]) if "features" in outputs else 0}
        try:
            labels = get_encoder(name).extra_labels
        except Exception:  # an encoder no longer installed: show dimensions only
            labels = {}
        for out_name, names in labels.items():
            if out_name in outputs and "prob" in out_name and "std" not in out_name:
                entry[f"top_{out_name}"] = [(n, round(p, 3)) for n, p in top_labels(outputs[out_name], names, k)]
        encoders[name] = entry
    return {
        "id": item.id,
        "path": item.path,
        "modality": item.modality,
        "content_hash": item.content_hash,
        "size": item.size,
        "metadata": item.metadata,
        "labels": item.labels,
        "encoders": encoders,
        "emotions": library.catalogue.emotions_of(item.content_hash),
    }
