"""Decode Standard MIDI files with pretty_midi, translating every parser error.

Before pretty_midi sees a file its chunk structure is walked (:func:`check_structure`):
the header's track count must match the track chunks present and its time
division must be non-zero, so absurd headers get a message saying so rather
than a parser's ``max() arg is an empty sequence``.  After parsing, a tempo of
zero is ``corrupt``, a score whose notes all fall within
:data:`MIN_DURATION` seconds (a 1 µs tempo) is ``too short``, and more than
:data:`~moodbridge.media.limits.MAX_MIDI_NOTES` notes is ``too large``.
"""

from __future__ import annotations

import struct
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from moodbridge.errors import (
    CorruptMediaError,
    EmptyMediaError,
    TooLargeMediaError,
    TooShortMediaError,
    TruncatedMediaError,
)
from moodbridge.media.limits import MAX_MIDI_NOTES
from moodbridge.media.sniff import FileFormat, file_size, read_head, sniff_format

#: shortest score accepted, in seconds from the first note on to the last note off
MIN_DURATION = 0.05

if TYPE_CHECKING:
    import pretty_midi

# A process-wide filter: ``warnings.catch_warnings`` is not thread-safe, and files
# are decoded in worker threads.
warnings.filterwarnings("ignore", message=r"Tempo, Key or Time signature change events", category=RuntimeWarning)


def count_notes(pm: pretty_midi.PrettyMIDI, *, include_drums: bool = True) -> int:
    """Number of notes in all instruments (optionally leaving out drum tracks)."""
    return sum(len(inst.notes) for inst in pm.instruments if include_drums or not inst.is_drum)


def check_structure(path: str | Path) -> None:
    """Walk the MIDI chunks: the header must be whole, its division non-zero, its track count the real one."""
    size = file_size(path)
    head = read_head(path, 14)
    if len(head) < 14:
        raise TruncatedMediaError(path, f"the MIDI header needs 14 bytes, the file has {size}")
    length, fmt_type, n_tracks, division = struct.unpack(">IHHH", head[4:14])
    if division == 0:
        raise CorruptMediaError(path, "the MIDI header's time division is 0 ticks per beat")
    pos, found = 8 + length, 0
    while pos + 8 <= size and found <= n_tracks:
        chunk = read_head(path, 8, offset=pos)
        chunk_len = struct.unpack(">I", chunk[4:8])[0]
        if chunk[:4] == b"MTrk":
            found += 1
            if chunk_len > 2 * size:
                raise CorruptMediaError(path, f"MIDI track {found} claims {chunk_len} bytes in a file of {size}")
            if pos + 8 + chunk_len > size:
                raise TruncatedMediaError(
                    path, f"the MIDI file ends inside a track (track {found} needs {chunk_len} bytes, "
                    f"{size - pos - 8} remain)")
        pos += 8 + chunk_len
    if found < n_tracks:
        raise CorruptMediaError(path, f"the MIDI header announces {n_tracks} tracks but the file holds {found}")


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
    check_structure(path)
    try:
        pm = pretty_midi.PrettyMIDI(str(path))
    except EOFError as exc:
        raise TruncatedMediaError(path, "the MIDI file ends inside a track") from exc
    except ZeroDivisionError as exc:
        raise CorruptMediaError(path, "the MIDI file sets a tempo of 0 µs per beat") from exc
    except Exception as exc:  # noqa: BLE001 - mido/pretty_midi raise many types
        detail = str(exc).strip() or type(exc).__name__
        raise CorruptMediaError(path, f"cannot parse the MIDI file: {detail}") from exc
    n_notes = count_notes(pm)
    if n_notes == 0:
        raise EmptyMediaError(path, "the MIDI file has no notes")
    if n_notes > MAX_MIDI_NOTES:
        raise TooLargeMediaError(path, f"{n_notes} notes exceed the limit of {MAX_MIDI_NOTES}")
    _, tempi = pm.get_tempo_changes()
    if len(tempi) and not (tempi > 0).all():
        raise CorruptMediaError(path, "the MIDI file sets a tempo of 0 µs per beat")
    start = min(n.start for inst in pm.instruments for n in inst.notes)
    span = pm.get_end_time() - start
    if span < MIN_DURATION:
        fastest = 60e6 / float(tempi.max()) if len(tempi) else 0.0
        raise TooShortMediaError(
            path, f"its {n_notes} notes last {span:.4f} s (under {MIN_DURATION} s); "
            f"the fastest tempo is {fastest:.0f} µs per beat")
    return pm
