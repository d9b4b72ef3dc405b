"""Music-quality statistics of EIMG (Wang, Chen, Li, IEEE TMM 2023, Eq. 14), exactly as muspy 0.5 computes them.

The notes are read from the MIDI file in its own ticks (``resolution`` ticks
per quarter note), as ``muspy.read_midi`` does.  The definitions, including
muspy's own quirks, are kept:

* :func:`polyphony_rate` counts the time steps (ticks, from 0 to the last
  offset) where **more than** ``threshold`` (default 2) pitches sound — so the
  default counts three or more, although its docstring says "multiple";
* :func:`pitch_entropy` is the entropy (bits) of the note-count pitch histogram;
* :func:`groove_consistency` compares binary onset patterns of consecutive
  measures of ``measure_resolution`` ticks.  The EIMG code passed 4 ticks
  (:data:`PAPER_GROOVE_TICKS`), a 4-tick "measure" that makes nearly any piece
  score about 0.99; :func:`groove_16th` first moves the notes to a 16th-note
  grid (4 ticks per beat, muspy's ``adjust_resolution`` rounding) and uses one
  4/4 bar (16 steps) as the measure.

Drum tracks are left out of the pitch statistics but count for groove, as in muspy.
"""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from moodbridge.errors import CorruptMediaError

__all__ = [
    "PAPER_GROOVE_TICKS",
    "NoteTable",
    "emotion_matching",
    "groove_16th",
    "groove_consistency",
    "music_statistics",
    "pitch_entropy",
    "polyphony_rate",
    "read_notes",
]

#: the measure resolution (ticks) passed by the EIMG code to muspy's groove consistency
PAPER_GROOVE_TICKS = 4


@dataclass(frozen=True)
class NoteTable:
    """Notes in ticks: ``pitch``, ``time`` (onset), ``end`` (offset), ``drum`` flags, ``resolution`` per beat, ``length``."""

    pitch: np.ndarray
    time: np.ndarray
    end: np.ndarray
    drum: np.ndarray
    resolution: int
    length: int

    def at_resolution(self, target: int) -> NoteTable:
        """The same notes at ``target`` ticks per beat (``round`` half to even, like ``muspy.adjust_resolution``)."""
        f = target / self.resolution
        end = np.round(self.end * f).astype(np.int64)
        length = max(int(round(self.length * f)), int(end.max()) if len(end) else 0)
        return NoteTable(self.pitch, np.round(self.time * f).astype(np.int64), end, self.drum, target, length)


def read_notes(path: str | Path) -> NoteTable:
    """The notes of a MIDI file in its own ticks, paired as ``muspy.read_midi`` pairs them.

    A note-off closes the earliest open note of its channel and pitch (FIFO);
    notes still open at a track's end close there; channel 10 is drums.  The
    piece's length also counts control-change events (muspy's
    ``Track.get_end_time`` includes them).

    Raises
    ------
    CorruptMediaError
        If the file cannot be read as MIDI.
    """
    import mido

    try:
        midi = mido.MidiFile(str(path))
    except Exception as exc:  # noqa: BLE001 - mido raises many kinds on bad files
        raise CorruptMediaError(path, f"not a readable MIDI file ({exc})") from None
    rows: list[tuple[int, int, int, bool]] = []
    length = 0
    for track in midi.tracks:
        time = 0
        active: dict[tuple[int, int], list[int]] = defaultdict(list)
        for msg in track:
            time += msg.time
            if msg.type == "note_on" and msg.velocity > 0:
                active[(msg.channel, msg.note)].append(time)
            elif msg.type in ("note_off", "note_on"):
                if active[(msg.channel, msg.note)]:
                    onset = active[(msg.channel, msg.note)].pop(0)
                    rows.append((msg.note, onset, time, msg.channel == 9))
            elif msg.type == "control_change":
                length = max(length, time)
            elif msg.type == "end_of_track":
                break
        rows += [(note, onset, time, ch == 9) for (ch, note), ons in active.items() for onset in ons]
    a = np.array(rows, dtype=np.int64).reshape(-1, 4)
    length = max(length, int(a[:, 2].max()) if len(a) else 0)
    return NoteTable(a[:, 0], a[:, 1], a[:, 2], a[:, 3].astype(bool), int(midi.ticks_per_beat), length)


def polyphony_rate(notes: NoteTable, threshold: int = 2) -> float:
    """Fraction of ticks in ``[0, last offset)`` where more than ``threshold`` pitches sound (muspy ``polyphony_rate``)."""
    length = notes.length
    if length < 1:
        return math.nan
    roll = np.zeros((length, 128), dtype=bool)
    for p, s, e, d in zip(notes.pitch, notes.time, notes.end, notes.drum):
        if not d:
            roll[s:e, p] = True
    return float(np.count_nonzero(roll.sum(axis=1) > threshold) / length)


def pitch_entropy(notes: NoteTable) -> float:
    r"""EIMG Eq. 14 / muspy ``pitch_entropy``: :math:`-\sum_i P(pitch=i) \log_2 P(pitch=i)` over notes."""
    counts = np.bincount(notes.pitch[~notes.drum], minlength=128).astype(np.float64)
    if counts.sum() < 1:
        return math.nan
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log2(p)).sum())


def groove_consistency(notes: NoteTable, measure_resolution: int) -> float:
    r"""EIMG Eq. 14 / muspy ``groove_consistency``: :math:`1 - \frac{1}{T-1}\sum_i d(g_i, g_{i+1})` / measure length.

    ``d`` is the Hamming distance between the binary onset vectors of
    consecutive measures of ``measure_resolution`` ticks; NaN with fewer than two measures.
    """
    if measure_resolution < 1:
        raise ValueError("measure_resolution must be a positive integer")
    n_measures = notes.length // measure_resolution + 1
    if n_measures < 2:
        return math.nan
    patterns = np.zeros((n_measures, measure_resolution), dtype=bool)
    measure, position = np.divmod(notes.time, measure_resolution)
    patterns[measure, position] = True
    distance = np.count_nonzero(patterns[:-1] != patterns[1:])
    return float(1 - distance / (measure_resolution * (n_measures - 1)))


def groove_16th(notes: NoteTable) -> float:
    """Groove consistency on a 16th-note grid with one 4/4 bar (16 steps) as the measure."""
    return groove_consistency(notes.at_resolution(4), 16)


def music_statistics(notes: NoteTable) -> dict[str, float]:
    """The four figures reported: ``polyphony_rate``, ``pitch_entropy``, ``groove_paper`` (4 ticks), ``groove_16th``."""
    return {
        "polyphony_rate": polyphony_rate(notes),
        "pitch_entropy": pitch_entropy(notes),
        "groove_paper": groove_consistency(notes, PAPER_GROOVE_TICKS),
        "groove_16th": groove_16th(notes),
    }


def emotion_matching(predicted_va: np.ndarray, target_va: np.ndarray) -> float:
    """EIMG's *Emotion Matching*: mean Euclidean distance on the 1-9 scale between predicted and target VA.

    Both arguments are ``(N, 2)`` in the project's [-1, 1] space (converted
    with :data:`moodbridge.emotion.SCALE_1_9`); lower is better.
    """
    from moodbridge.emotion import SCALE_1_9, as_va_array

    p = np.asarray(SCALE_1_9.from_va(as_va_array(predicted_va, name="predicted_va")))
    t = np.asarray(SCALE_1_9.from_va(as_va_array(target_va, name="target_va")))
    if p.shape != t.shape:
        raise ValueError(f"emotion_matching: {p.shape[0]} predictions for {t.shape[0]} targets")
    return float(np.linalg.norm(p - t, axis=1).mean())
