"""Emotion annotation of library items: each item's default-head estimate, stored beside its features.

Estimates are keyed by content hash and head key (``name@version``), so a new
head version is added next to the old one from the stored features, without
re-running the encoders.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

from moodbridge.affect.estimate import head_for, stack_rows
from moodbridge.encoders import get_encoder
from moodbridge.library.catalogue import Catalogue, Item


def annotate_items(catalogue: Catalogue, items: Sequence[Item], *, heads: Mapping[str, str] | None = None) -> int:
    """Store the default head's emotion for items that lack it (from stored features); returns how many.

    Items whose features for the head's encoders are not all stored are left out.
    """
    done = 0
    by_modality: dict[str, list[Item]] = {}
    for it in items:
        by_modality.setdefault(it.modality, []).append(it)
    for modality, group in by_modality.items():
        head = head_for(modality, heads)
        have = catalogue.emotion_hashes(head.key, [it.content_hash for it in group])
        keys = {name: get_encoder(name).key for name in head.encoders}
        todo = []
        for it in dict((it.content_hash, it) for it in group if it.content_hash not in have).values():
            stored = {name: catalogue.get_features(it.content_hash, key) for name, key in keys.items()}
            if all(stored.values()):
                todo.append((it, stored))
        for start in range(0, len(todo), 256):
            chunk = todo[start : start + 256]
            estimates = head.estimate(stack_rows([s for _, s in chunk]))
            with catalogue.transaction() as conn:
                for (it, _), est in zip(chunk, estimates):
                    catalogue.put_emotion(conn, it.content_hash, est)
            done += len(chunk)
    return done
