"""Bar-level piano rolls on a 16th-note grid: MIDI -> :class:`Roll` -> MIDI.

The representation of moodbridge's EIMG music autoencoder (Wang, Chen, Li,
"Continuous Emotion-Based Image-to-Music Generation", IEEE TMM 2023, Sec.
IV-A leaves the music autoencoder open).  A clip becomes two binary planes
over ``(time step, pitch)`` — ``onset`` (a note starts here) and ``sustain``
(a note sounds here, its onset step included) — on a 16th-note grid in 4/4
bars of :data:`STEPS_PER_BAR` steps, for the 88 piano keys, plus one tempo
(bpm) and one mean velocity.  The grid is read from the MIDI file's own beat
(ticks per quarter note), so tempo changes do not move it.

Why piano rolls rather than REMI tokens: fixed-size tensors train with an MLP
in minutes on a CPU, any output decodes to valid MIDI (there is no grammar to
break), and on EIMG the 16th-grid round trip keeps the notes of the clips
(``tests/test_generate.py`` measures it).  What is lost: timing finer than a
16th, per-note velocity (one velocity per bar is kept) and tempo changes
inside a clip (one tempo per clip).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from moodbridge.errors import CorruptMediaError, EmptyMediaError

__all__ = [
    "BARS",
    "LOWEST_PITCH",
    "N_PITCHES",
    "STEPS_PER_BAR",
    "TEMPO_RANGE",
    "Roll",
    "read_roll",
    "roll_to_midi",
    "windows",
]

#: 16th notes in a 4/4 bar
STEPS_PER_BAR = 16
#: bars in one training window (one latent vector)
BARS = 4
#: A0, the lowest piano key
LOWEST_PITCH = 21
#: piano keys A0..C8
N_PITCHES = 88
#: tempi are clipped to this range (bpm); EIMG's first tempi span 10-240, 68-167 between the 10th and 90th percentile
TEMPO_RANGE = (40.0, 220.0)
#: ticks per quarter note of the MIDI files written here (a 16th is 120 ticks)
TICKS_PER_BEAT = 480


@dataclass
class Roll:
    """A piano roll: ``onset`` and ``sustain`` ``(T, 88)`` booleans, ``velocity`` ``(bars,)``, ``tempo`` ``(bars,)`` bpm.

    ``T`` is a whole number of bars.  ``sections`` lists the bar index where each
    section starts (a slideshow's photos; one section for a plain piece).
    """

    onset: np.ndarray
    sustain: np.ndarray
    velocity: np.ndarray
    tempo: np.ndarray
    sections: tuple[int, ...] = (0,)

    @property
    def n_bars(self) -> int:
        return self.onset.shape[0] // STEPS_PER_BAR

    def notes(self) -> np.ndarray:
        """``(n, 3)`` int rows ``(pitch, start step, end step)``: a note runs from its onset while ``sustain`` holds."""
        rows = []
        T = self.onset.shape[0]
        for t, k in zip(*np.nonzero(self.onset)):
            end = t + 1
            while end < T and self.sustain[end, k] and not self.onset[end, k]:
                end += 1
            rows.append((int(k) + LOWEST_PITCH, int(t), int(end)))
        return np.array(sorted(rows), dtype=np.int64).reshape(-1, 3)


def _notes_on_grid(path: Path) -> tuple[np.ndarray, np.ndarray, float]:
    """``(n, 3)`` quantised ``(pitch, start, end)`` steps, ``(n,)`` velocities and the first tempo of a MIDI file."""
    import mido
    import pretty_midi

    try:
        pm = pretty_midi.PrettyMIDI(str(path))
    except (OSError, ValueError, EOFError, KeyError, IndexError, mido.midifiles.meta.KeySignatureError) as exc:
        raise CorruptMediaError(path, f"not a readable MIDI file ({exc})") from None
    notes = [n for inst in pm.instruments if not inst.is_drum for n in inst.notes]
    if not notes:
        raise EmptyMediaError(path, "no pitched notes")
    step = pm.resolution / 4.0  # ticks per 16th
    start = np.array([pm.time_to_tick(n.start) for n in notes], dtype=np.float64) / step
    end = np.array([pm.time_to_tick(n.end) for n in notes], dtype=np.float64) / step
    s = np.round(start).astype(np.int64)
    e = np.maximum(np.round(end).astype(np.int64), s + 1)
    pitch = np.array([n.pitch for n in notes], dtype=np.int64)
    vel = np.array([n.velocity for n in notes], dtype=np.float64)
    tempo = float(pm.get_tempo_changes()[1][0]) if len(pm.get_tempo_changes()[1]) else 120.0
    return np.stack([pitch, s, e], axis=1), vel, tempo


def read_roll(path: str | Path, *, bars: int | None = None) -> Roll:
    """The 16th-grid :class:`Roll` of a MIDI file (non-drum notes; pitches outside the piano are dropped).

    Parameters
    ----------
    path
        A MIDI file.
    bars
        Keep this many bars from the start (padding with silence); default all bars that hold an onset.

    Raises
    ------
    CorruptMediaError, EmptyMediaError
        If the file is not MIDI or has no pitched note.
    """
    path = Path(path)
    notes, vel, tempo = _notes_on_grid(path)
    keep = (notes[:, 0] >= LOWEST_PITCH) & (notes[:, 0] < LOWEST_PITCH + N_PITCHES)
    notes, vel = notes[keep], vel[keep]
    n_bars = bars if bars is not None else int(notes[:, 1].max()) // STEPS_PER_BAR + 1
    T = n_bars * STEPS_PER_BAR
    onset = np.zeros((T, N_PITCHES), dtype=bool)
    sustain = np.zeros((T, N_PITCHES), dtype=bool)
    bar_vel = np.zeros(n_bars)
    counts = np.zeros(n_bars)
    for (p, s, e), v in zip(notes, vel):
        if s >= T:
            continue
        k = p - LOWEST_PITCH
        onset[s, k] = True
        sustain[s : min(e, T), k] = True
        bar_vel[s // STEPS_PER_BAR] += v
        counts[s // STEPS_PER_BAR] += 1
    mean_vel = float(vel.mean())
    velocity = np.where(counts > 0, bar_vel / np.maximum(counts, 1), mean_vel)
    tempo = float(np.clip(tempo, *TEMPO_RANGE))
    return Roll(onset, sustain, velocity, np.full(n_bars, tempo))


def windows(roll: Roll, *, bars: int = BARS, stride: int | None = None, min_onsets: int = 4) -> list[Roll]:
    """``bars``-bar windows every ``stride`` bars (default ``bars``: no overlap) holding at least ``min_onsets`` onsets."""
    out = []
    span = bars * STEPS_PER_BAR
    for b0 in range(0, roll.n_bars - bars + 1, stride or bars):
        sl = slice(b0 * STEPS_PER_BAR, b0 * STEPS_PER_BAR + span)
        if int(roll.onset[sl].sum()) >= min_onsets:
            out.append(Roll(roll.onset[sl].copy(), roll.sustain[sl].copy(),
                            roll.velocity[b0 : b0 + bars].copy(), roll.tempo[b0 : b0 + bars].copy()))
    return out


def roll_to_midi(roll: Roll, path: str | Path, *, program: int = 0) -> Path:
    """Write ``roll`` as a one-track piano MIDI file (480 ticks per beat, a tempo event per bar whose tempo changes).

    Each section start gets a ``marker`` meta event ``section N``.  The caller
    wraps ``path`` in :func:`moodbridge.fileio.atomic_path`.
    """
    import mido

    tick = TICKS_PER_BEAT // 4
    events: list[tuple[int, int, mido.Message | mido.MetaMessage]] = []  # (time, order, message)
    last_tempo = None
    for b in range(roll.n_bars):
        bpm = float(np.clip(roll.tempo[b], *TEMPO_RANGE))
        if last_tempo is None or abs(bpm - last_tempo) > 0.5:
            events.append((b * STEPS_PER_BAR * tick, 0, mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm))))
            last_tempo = bpm
    for i, b in enumerate(roll.sections):
        events.append((b * STEPS_PER_BAR * tick, 0, mido.MetaMessage("marker", text=f"section {i + 1}")))
    for pitch, s, e in roll.notes():
        v = int(np.clip(round(float(roll.velocity[min(s // STEPS_PER_BAR, roll.n_bars - 1)])), 1, 127))
        events.append((int(e) * tick, 1, mido.Message("note_off", note=int(pitch), velocity=0)))
        events.append((int(s) * tick, 2, mido.Message("note_on", note=int(pitch), velocity=v)))
    events.sort(key=lambda x: (x[0], x[1]))
    track = mido.MidiTrack()
    track.append(mido.MetaMessage("time_signature", numerator=4, denominator=4))
    track.append(mido.Message("program_change", program=program))
    now = 0
    for t, _, msg in events:
        track.append(msg.copy(time=t - now))
        now = t
    track.append(mido.MetaMessage("end_of_track", time=0))
    mid = mido.MidiFile(ticks_per_beat=TICKS_PER_BEAT)
    mid.tracks.append(track)
    mid.save(str(path))
    return Path(path)
