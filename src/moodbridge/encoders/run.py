"""Running several encoders over sources: decode once per form, prepare, embed in batches.

Shared by ``moodbridge add`` (which also hashes and stores) and by the
commands that work on files outside a library (``moodbridge emotion``,
``moodbridge search``).  A bad source never stops the others: its failure is
returned in its place.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from moodbridge.encoders.base import Encoder, InputSpec
from moodbridge.errors import MediaError, MoodbridgeError, display_path
from moodbridge.media import decode


@dataclass(frozen=True)
class Failure:
    """A source that could not be used, and why (``message`` names the source)."""

    path: str
    kind: str
    message: str


Row = dict[str, np.ndarray]


def prepare_source(source: str | Path, encoders: Sequence[Encoder], *,
                   accept_damaged: bool = False) -> tuple[dict[str, Any], dict[str, Any]]:
    """Decode ``source`` once per distinct input spec and prepare it for each encoder.

    ``accept_damaged`` is passed to :func:`moodbridge.media.decode`.

    Returns
    -------
    prepared
        ``encoder key → model input``.
    metadata
        Cheap facts about the decoded media (size, duration, notes, characters).

    Raises
    ------
    MoodbridgeError
        If the source cannot be decoded or prepared.
    """
    decoded_by_spec: dict[InputSpec, Any] = {}
    prepared: dict[str, Any] = {}
    metadata: dict[str, Any] = {}
    label = str(source)
    for enc in encoders:
        spec = enc.input_spec
        if spec not in decoded_by_spec:
            decoded_by_spec[spec] = decode(source, spec, accept_damaged=accept_damaged)
            metadata.update(describe_decoded(decoded_by_spec[spec], spec))
        enc.load()
        prepared[enc.key] = enc.prepare(decoded_by_spec[spec], source=label)
    return prepared, metadata


def failure_from(exc: BaseException, source: str) -> Failure:
    """One readable failure for an exception raised while using ``source``.

    Its ``kind`` is one of :data:`moodbridge.errors.REASONS` (or ``unreadable``
    / ``unexpected``); an exception nobody foresaw becomes ``unexpected`` with
    a request to report it, so one file never ends a batch.
    """
    shown = display_path(source)
    if isinstance(exc, MediaError):
        return Failure(source, exc.kind, str(exc))
    if isinstance(exc, MoodbridgeError):
        return Failure(source, "corrupt", f"{shown}: corrupt: {exc}")
    if isinstance(exc, MemoryError):
        return Failure(source, "too large", f"{shown}: too large: ran out of memory decoding it")
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return Failure(source, "unexpected", f"{shown}: unexpected: {type(exc).__name__}"
                   f"{': ' + detail if detail else ''} (please report this at the moodbridge issue tracker)")


def describe_decoded(decoded: Any, spec: InputSpec) -> dict[str, Any]:
    """Cheap metadata of a decoded item, stored with a catalogue entry."""
    if spec.modality == "image":
        return {"width": decoded.width, "height": decoded.height}
    if spec.modality == "audio" and spec.sample_rate:
        return {"duration_s": round(len(decoded) / spec.sample_rate, 3)}
    if spec.modality == "midi":
        return {"duration_s": round(float(decoded.get_end_time()), 3),
                "notes": int(sum(len(i.notes) for i in decoded.instruments))}
    if spec.modality == "text":
        return {"chars": len(decoded)}
    return {}


def embed_prepared(enc: Encoder, prepared: Sequence[Any], sources: Sequence[str]) -> list[Row | Failure]:
    """Run one encoder on prepared items; an item that breaks the batch is isolated and reported.

    Rows with NaN or infinite values are failures too.
    """
    if not prepared:
        return []
    try:
        out = enc.embed_batch(list(prepared))
        return [_checked(enc, out.row(j), sources[j]) for j in range(len(prepared))]
    except Exception:  # find the culprit: one item at a time
        results: list[Row | Failure] = []
        for item, source in zip(prepared, sources):
            try:
                results.append(_checked(enc, enc.embed_batch([item]).row(0), source))
            except Exception as exc:  # noqa: BLE001 - reported per item
                if isinstance(exc, MediaError):
                    results.append(Failure(source, exc.kind, str(exc)))
                    continue
                detail = str(exc) if isinstance(exc, MoodbridgeError) else f"{type(exc).__name__}: {exc}"
                results.append(Failure(source, "unexpected", f"{display_path(source)}: unexpected: {enc.name} "
                                       f"failed: {detail} (please report this at the moodbridge issue tracker)"))
        return results


def _checked(enc: Encoder, row: Row, source: str) -> Row | Failure:
    if not all(np.isfinite(v).all() for v in row.values()):
        return Failure(source, "corrupt", f"{display_path(source)}: corrupt: {enc.name} produced NaN or infinite features")
    return row


def encode_sources(
    sources: Sequence[str | Path], encoders: Sequence[Encoder], *, batch_size: int = 16
) -> list[dict[str, Row] | Failure]:
    """``encoder name → outputs`` for each source, or its :class:`Failure`, in order."""
    results: list[dict[str, Row] | Failure] = []
    for start in range(0, len(sources), batch_size):
        chunk = sources[start : start + batch_size]
        prepared: list[dict[str, Any] | Failure] = []
        for s in chunk:
            try:
                prepared.append(prepare_source(s, encoders)[0])
            except Exception as exc:  # noqa: BLE001 - reported per source
                prepared.append(failure_from(exc, str(s)))
        ok = [i for i, p in enumerate(prepared) if not isinstance(p, Failure)]
        rows: dict[int, dict[str, Row]] = {i: {} for i in ok}
        failed: dict[int, Failure] = {i: p for i, p in enumerate(prepared) if isinstance(p, Failure)}
        for enc in encoders:
            live = [i for i in ok if i not in failed]
            outs = embed_prepared(enc, [prepared[i][enc.key] for i in live], [str(chunk[i]) for i in live])  # type: ignore[index]
            for i, out in zip(live, outs):
                if isinstance(out, Failure):
                    failed[i] = out
                else:
                    rows[i][enc.name] = out
        results.extend(failed[i] if i in failed else rows[i] for i in range(len(chunk)))
    return results
