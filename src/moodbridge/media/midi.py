"""Decode Standard MIDI files with pretty_midi, translating every parser error."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from moodbridge.errors import CorruptMediaError, EmptyMediaError, TruncatedMediaError
from moodbridge.media.sniff import FileFormat, sniff_format

if TYPE_CHECKING:
    import pretty_midi

# A process-wide filter: ``warnings.catch_warnings`` is not thread-safe, and files
# are decoded in worker threads.
warnings.filterwarnings("ignore", message=r"Tempo, Key or Time signature change events", category=RuntimeWarning)


def count_notes(pm: pretty_midi.PrettyMIDI, *, include_drums: bool = True) -> int:
    """Number of notes in all instruments (optionally leaving out drum tracks)."""
    return sum(len(inst.notes) for inst in pm.instruments if include_drums or not inst.is_drum)


def decode_midi(path: str | Path, *, fmt: FileFormat | None = None) -> pretty_midi.PrettyMIDI:
    """Parse a MIDI file into a :class:`pretty_midi.PrettyMIDI`.

    pretty_midi's warnings about tempo or key events on non-zero tracks (common
    in type-1 files from sequencers) are silenced.

    Parameters
    ----------
    path
        A Standard MIDI file (type 0 or 1).
    fmt
        Its format if already sniffed (skips the sniff).

    Raises
    ------
    TruncatedMediaError
        The file ends inside a track.
    CorruptMediaError
        Any other parse failure (bad chunk, bad event, absurd tick values).
    EmptyMediaError
        The file parses but holds no notes.
    UnsupportedMediaError, MislabelledMediaError
        From :func:`~moodbridge.media.sniff.sniff_format`.
    """
    import pretty_midi

    fmt = fmt or sniff_format(path)
    if fmt.modality != "midi":
        raise CorruptMediaError(path, f"is {fmt.label}, not MIDI")
    try:
        pm = pretty_midi.PrettyMIDI(str(path))
    except EOFError as exc:
        raise TruncatedMediaError(path, "the MIDI file ends inside a track") from exc
    except Exception as exc:  # noqa: BLE001 - mido/pretty_midi raise many types
        detail = str(exc).strip() or type(exc).__name__
        raise CorruptMediaError(path, f"cannot parse the MIDI file: {detail}") from exc
    if count_notes(pm) == 0:
        raise EmptyMediaError(path, "the MIDI file has no notes")
    return pm
