"""Writing the clips an expansion selects (EMID Sec. 3.2.2, step 5): WAV or FLAC, atomically, with provenance."""
from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from moodbridge.errors import (
    InvalidValueError,
    MoodbridgeError,
    TruncatedMediaError,
    UnsupportedMediaError,
)
from moodbridge.fileio import atomic_path
from moodbridge.media import check_complete, sniff_format
from moodbridge.media.sniff import decoding_errors
from moodbridge.pairing.alignment import DEFAULT_SAMPLE_RATE

__all__ = ["CUT_FORMATS", "END_SLACK_S", "Candidate", "ClipProvenance", "clip_name", "cut_candidates", "cut_clip"]

logger = logging.getLogger(__name__)

#: Audio formats a cut can be written in (suffix -> soundfile format).
CUT_FORMATS = {".wav": "WAV", ".flac": "FLAC"}
#: Slack (s) allowed when a cut ends just past the end of the track.
END_SLACK_S = 0.05


# ---------------------------------------------------------------------------
# cutting
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """A new clip proposed by the expansion (EMID Sec. 3.2.2).

    Attributes
    ----------
    track
        The full track to cut it from.
    start_s, end_s
        The window (seconds).
    source_clip
        Id of the library clip whose track this is; the new clip takes its label.
    label
        That clip's label.
    score
        The window's highest alignment score against the library clips found
        in the track: below the threshold, i.e. it sounds different from them.
    source_score
        How well the source clip matched the track (≥ threshold unless the
        pairing was given).
    """

    track: Path
    start_s: float
    end_s: float
    source_clip: str
    label: str | None
    score: float
    source_score: float



@dataclass(frozen=True)
class ClipProvenance:
    """Where a cut clip comes from.

    Attributes
    ----------
    path
        The written clip.
    track
        The full track it was cut from.
    start_s, end_s
        The span of the track (seconds).
    source_clip
        The library clip whose track it is (``None`` for a plain cut).
    score
        The window's alignment score against the library clips (``None`` for a plain cut).
    label
        The inherited label.
    sample_rate, channels
        Of the written file (the track's own, unresampled).
    """

    path: Path
    track: Path
    start_s: float
    end_s: float
    source_clip: str | None = None
    score: float | None = None
    label: str | None = None
    sample_rate: int = 0
    channels: int = 0

    def to_dict(self) -> dict[str, object]:
        """JSON-ready fields (paths as strings)."""
        out = asdict(self)
        out["path"], out["track"] = str(self.path), str(self.track)
        return out


def cut_clip(
    track_path: str | Path,
    start_s: float,
    end_s: float,
    out_path: str | Path,
    *,
    source_clip: str | None = None,
    score: float | None = None,
    label: str | None = None,
) -> ClipProvenance:
    """Write ``[start_s, end_s)`` of a track to a WAV or FLAC file, atomically.

    The track is read at its own rate with all its channels (no resampling),
    the span is written to a temporary file next to ``out_path`` which is then
    renamed over it, so ``out_path`` is either absent or complete.

    Parameters
    ----------
    track_path
        Any audio file :mod:`moodbridge.media` reads.
    start_s, end_s
        The span in seconds; ``end_s`` may pass the end by 50 ms (clamped).
    out_path
        ``.wav`` (16-bit PCM) or ``.flac`` (16-bit); its folder is created.
    source_clip, score, label
        Provenance to record (:class:`Candidate` fields).

    Returns
    -------
    ClipProvenance

    Raises
    ------
    InvalidValueError
        Unknown output suffix, or a span that is empty or outside the track.
    MediaError
        The track cannot be read.
    """
    import soundfile as sf

    track_path, out_path = Path(track_path), Path(out_path)
    fmt_name = CUT_FORMATS.get(out_path.suffix.lower())
    if fmt_name is None:
        raise InvalidValueError(f"{out_path}: clips are written as {sorted(CUT_FORMATS)}, not {out_path.suffix!r}")
    fmt = sniff_format(track_path)
    if fmt.modality != "audio":
        raise UnsupportedMediaError(track_path, f"is {fmt.label}, not audio")
    check_complete(track_path, fmt)
    with decoding_errors(track_path, f"cannot read {fmt.label}"):
        info = sf.info(str(track_path))
    rate, frames, channels = info.samplerate, info.frames, info.channels
    duration = frames / rate if rate else 0.0
    if not (0.0 <= start_s < end_s) or start_s >= duration or end_s > duration + END_SLACK_S:
        raise InvalidValueError(f"{track_path}: cannot cut [{start_s:.2f}, {end_s:.2f}] s from a {duration:.2f} s track")
    first, last = int(round(start_s * rate)), min(int(round(end_s * rate)), frames)
    with decoding_errors(track_path, f"cannot decode {fmt.label}"), sf.SoundFile(str(track_path)) as f:
        f.seek(first)
        data = f.read(last - first, dtype="float32", always_2d=True)
    if data.shape[0] != last - first:
        raise TruncatedMediaError(track_path, f"decoded {data.shape[0]} of the {last - first} frames to cut")
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(out_path, what="clip") as tmp:
        sf.write(str(tmp), data, rate, format=fmt_name, subtype="PCM_16")
    return ClipProvenance(
        path=out_path, track=track_path, start_s=first / rate, end_s=last / rate,
        source_clip=source_clip, score=score, label=label, sample_rate=rate, channels=channels,
    )


def clip_name(track: Path, start_s: float, end_s: float, suffix: str = ".flac") -> str:
    """File name of a cut: ``<track stem>_<start ms>-<end ms><suffix>``."""
    return f"{track.stem}_{int(round(start_s * 1000)):07d}-{int(round(end_s * 1000)):07d}{suffix}"


def cut_candidates(
    candidates: Sequence[Candidate], out_dir: str | Path, *, suffix: str = ".flac", progress: bool = True
) -> tuple[list[ClipProvenance], list[MoodbridgeError]]:
    """Cut every candidate into ``out_dir`` (:func:`clip_name`); a failed cut is logged and skipped.

    Returns
    -------
    written : list[ClipProvenance]
    errors : list[MoodbridgeError]
        One per candidate that could not be cut (its message names the track).
    """
    from tqdm.auto import tqdm

    out_dir = Path(out_dir)
    written: list[ClipProvenance] = []
    errors: list[MoodbridgeError] = []
    used: set[str] = set()
    for c in tqdm(candidates, desc="cut", unit="clip", disable=not progress, leave=False):
        name = clip_name(c.track, c.start_s, c.end_s, suffix)
        n = 1
        while name in used:  # two tracks with the same stem in different folders
            n += 1
            name = clip_name(c.track, c.start_s, c.end_s, f"_{n}{suffix}")
        used.add(name)
        try:
            written.append(cut_clip(
                c.track, c.start_s, c.end_s, out_dir / name,
                source_clip=c.source_clip, score=c.score, label=c.label,
            ))
        except MoodbridgeError as err:
            logger.warning("skipping cut: %s", err)
            errors.append(err)
    return written, errors
