"""Emotion of files, texts and library items through the default head of each modality."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from moodbridge.affect.base import EmotionEstimate, Head, get_head
from moodbridge.encoders import get_encoder
from moodbridge.encoders.run import Failure, Row, encode_sources, failure_from
from moodbridge.media import sniff

#: the head used for each modality unless the caller names another
DEFAULT_HEADS: dict[str, str] = {"image": "image-va", "audio": "audio-va", "midi": "midi-va", "text": "text-va"}


def head_for(modality: str, heads: Mapping[str, str] | None = None) -> Head:
    """The head that estimates emotion for ``modality``."""
    return get_head((heads or DEFAULT_HEADS)[modality])


def preferred_estimate(estimates: Sequence[Mapping[str, Any]], modality: str) -> Mapping[str, Any] | None:
    """Of an item's stored estimates: the current version of its modality's default head, else the newest
    other version of that head, else the first.

    Estimates are keyed by ``name@version``, so a library annotated by an
    earlier head keeps those estimates next to the new ones.
    """
    if not estimates:
        return None
    wanted = DEFAULT_HEADS.get(modality)
    if wanted is None:
        return estimates[0]
    current = get_head(wanted).key
    exact = next((e for e in estimates if e["head"] == current), None)
    if exact is not None:
        return exact
    same = [e for e in estimates if str(e["head"]).split("@")[0] == wanted]
    if same:
        return max(same, key=lambda e: _version_key(str(e["head"]).split("@", 1)[-1]))
    return estimates[0]


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(p) if p.isdigit() else 0 for p in version.split("."))


def stack_rows(rows: Sequence[Mapping[str, Row]]) -> dict[str, dict[str, np.ndarray]]:
    """Turn per-item ``encoder → output → vector`` rows into batched ``(N, k)`` arrays."""
    encoders = rows[0].keys()
    return {e: {o: np.stack([r[e][o] for r in rows]) for o in rows[0][e]} for e in encoders}


def estimate_sources(
    sources: Sequence[str | Path], *, heads: Mapping[str, str] | None = None, batch_size: int = 16
) -> list[tuple[str, EmotionEstimate | Failure]]:
    """Emotion of each source: a :class:`~pathlib.Path` is a media file, a ``str`` a text.

    Returns ``(modality, estimate or failure)`` per source, in order; a bad
    source gets a :class:`Failure` naming it and the others carry on.
    """
    results: list[tuple[str, EmotionEstimate | Failure] | None] = [None] * len(sources)
    groups: dict[str, list[int]] = {}
    for i, src in enumerate(sources):
        if isinstance(src, Path):
            try:
                groups.setdefault(sniff(src), []).append(i)
            except Exception as exc:  # noqa: BLE001 - reported per source
                results[i] = ("unknown", failure_from(exc, str(src)))
        else:
            groups.setdefault("text", []).append(i)
    for modality, idx in groups.items():
        head = head_for(modality, heads)
        encoders = [get_encoder(n) for n in head.encoders]
        encoded = encode_sources([sources[i] for i in idx], encoders, batch_size=batch_size)
        ok = [(i, r) for i, r in zip(idx, encoded) if not isinstance(r, Failure)]
        for i, r in zip(idx, encoded):
            if isinstance(r, Failure):
                results[i] = (modality, r)
        if ok:
            estimates = head.estimate(stack_rows([r for _, r in ok]))
            for (i, _), est in zip(ok, estimates):
                results[i] = (modality, est)
    return [r for r in results if r is not None]
