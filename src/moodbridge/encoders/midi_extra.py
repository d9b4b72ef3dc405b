"""``midi-harmony``: harmonic, melodic and dynamic descriptors of a MIDI score, in NumPy only.

These complement :mod:`moodbridge.encoders.midi_stats` (``midi-stats``) with
the cues that music-emotion studies tie to valence: chord qualities (major or
minor triads, diminished and augmented chords, sevenths), vertical
interval-class content and dissonance, thirds above the bass, local key clarity
and mode, the signed contour of the melody, and the shape of the dynamics
[1]_, [2]_. Like ``midi-stats``, every descriptor is vectorised over notes or
frames, and drum tracks are left out.

Harmony is read from a binary piano roll sampled at :data:`ROLL_FPS` frames per
second (a note covers the frames from its onset up to its offset, at least one);
only frames in which something sounds count.

Features (in :attr:`MidiHarmonyEncoder.feature_names` order)
------------------------------------------------------------
Vertical harmony (fractions of sounding frames unless said otherwise)
    ``ic1`` ... ``ic6``  duration-weighted interval-class vector of the
                        pitch classes sounding together, normalised to sum
                        to 1 (0 when nothing ever sounds with something else).
    ``dissonance``      share of dissonant classes (ic1, ic2, ic6) in it.
    ``chord_major``, ``chord_minor``, ``chord_diminished``,
    ``chord_augmented``, ``chord_dominant7``, ``chord_major7``,
    ``chord_minor7``    frames whose pitch classes contain that chord on
                        some root.
    ``triad_mode``      (major - minor) / (major + minor) triad frames; 0
                        when neither occurs.
    ``bass_minor_third``, ``bass_major_third``  frames with a minor (major)
                        third above the lowest sounding note's pitch class.
    ``pc_per_frame``    mean number of distinct pitch classes sounding.
    ``thick_frames``    frames with three or more pitch classes.
Local key (Krumhansl-Kessler on windows of :data:`KEY_WINDOW` seconds)
    ``local_key_clarity``  mean best key correlation over windows.
    ``local_mode_score``   mean best major minus best minor correlation.
    ``local_major_fraction``  windows whose best key is major.
    ``key_changes``     fraction of successive windows whose best key differs.
Melody (the highest note of each onset; the bass is the lowest)
    ``melody_up``, ``melody_down``, ``melody_repeat``  fractions of
                        successive steps going up, down, or staying.
    ``melody_steps``, ``melody_leaps``  steps of 1-2 and of 5 or more semitones.
    ``melody_interval_entropy``  entropy (bits) of the signed step histogram
                        (clipped to +-12).
    ``melody_slope``    least-squares slope of the melody pitch over time
                        (semitones per second).
    ``melody_mean``, ``bass_mean``, ``bass_std``  MIDI pitch.
    ``pitch_p10``, ``pitch_p90``  duration-weighted pitch percentiles.
Dynamics and rhythm
    ``velocity_p10``, ``velocity_p90``  over notes.
    ``velocity_slope``  slope of velocity over time (per second).
    ``loudness_rate``   summed velocity per second of span / 127.
    ``accent_strength`` mean velocity of onsets' loudest notes minus the mean
                        velocity.
    ``pedal_fraction``  fraction of the span with the sustain pedal (CC 64 >=
                        64) down on some non-drum instrument.
    ``density_std``, ``density_max``  onsets per one-second window.
    ``short_notes``, ``long_notes``  notes under 0.15 s, over 1 s.
    ``ioi_entropy``     entropy (bits) of the inter-onset intervals on a
                        logarithmic grid (1/8 octave bins).
    ``notes_per_beat``  notes per beat at the marked tempo.
    ``log_note_density``, ``log_tempo``  natural logarithms.

References
----------
.. [1] A. Gabrielsson, E. Lindström, "The role of structure in the musical
   expression of emotions", in *Handbook of Music and Emotion*, Oxford
   University Press, 2010.
.. [2] R. Panda, R. Malheiro, R. P. Paiva, "Audio features for music emotion
   recognition: a survey", IEEE Trans. Affective Computing, 2020.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from moodbridge.encoders.base import Encoder, EncoderOutput, register
from moodbridge.encoders.midi_stats import (
    MIN_SPAN,
    Notes,
    Onsets,
    entropy_bits,
    key_correlations,
    marked_tempo,
    safe_std,
)
from moodbridge.errors import EmptyMediaError, InvalidValueError

if TYPE_CHECKING:
    import pretty_midi

#: piano-roll frame rate (Hz)
ROLL_FPS = 10
#: local-key window (s)
KEY_WINDOW = 4.0
#: most (note, window) cells of the key-window overlap held at once (32 MB of float64)
OVERLAP_CELLS = 4_000_000
#: sustain pedal controller and the value from which it counts as down
PEDAL_CC, PEDAL_DOWN = 64, 64

#: chord templates as pitch classes above the root
CHORDS: dict[str, tuple[int, ...]] = {
    "major": (0, 4, 7),
    "minor": (0, 3, 7),
    "diminished": (0, 3, 6),
    "augmented": (0, 4, 8),
    "dominant7": (0, 4, 7, 10),
    "major7": (0, 4, 7, 11),
    "minor7": (0, 3, 7, 10),
}
DISSONANT_CLASSES = (0, 1, 5)  # indices of ic1, ic2, ic6

FEATURE_NAMES: tuple[str, ...] = (
    *(f"ic{k}" for k in range(1, 7)), "dissonance",
    *(f"chord_{c}" for c in CHORDS), "triad_mode",
    "bass_minor_third", "bass_major_third", "pc_per_frame", "thick_frames",
    "local_key_clarity", "local_mode_score", "local_major_fraction", "key_changes",
    "melody_up", "melody_down", "melody_repeat", "melody_steps", "melody_leaps",
    "melody_interval_entropy", "melody_slope", "melody_mean", "bass_mean", "bass_std",
    "pitch_p10", "pitch_p90",
    "velocity_p10", "velocity_p90", "velocity_slope", "loudness_rate", "accent_strength",
    "pedal_fraction", "density_std", "density_max", "short_notes", "long_notes", "ioi_entropy",
    "notes_per_beat", "log_note_density", "log_tempo",
)  # fmt: skip


# ---------------------------------------------------------------------------
# piano roll and harmony
# ---------------------------------------------------------------------------


def piano_roll(notes: Notes, fps: int = ROLL_FPS) -> np.ndarray:
    """Binary ``(frames, 128)`` roll from time 0; each note covers at least one frame.

    Built with a difference array, so the cost is O(notes + frames x 128).
    """
    on = np.floor(notes.start * fps).astype(np.int64)
    off = np.maximum(np.ceil(notes.end * fps).astype(np.int64), on + 1)
    diff = np.zeros((int(off.max()) + 1, 128), dtype=np.int32)
    np.add.at(diff, (on, notes.pitch), 1)
    np.add.at(diff, (off, notes.pitch), -1)
    return np.cumsum(diff, axis=0)[:-1] > 0


def chroma_of(roll: np.ndarray) -> np.ndarray:
    """Binary ``(frames, 12)`` pitch classes of a roll."""
    padded = np.zeros((roll.shape[0], 132), dtype=bool)
    padded[:, :128] = roll
    return padded.reshape(roll.shape[0], 11, 12).any(axis=1)


def interval_class_counts(chroma: np.ndarray) -> np.ndarray:
    """``(frames, 6)`` number of pitch-class pairs a interval class 1..6 apart in each frame."""
    c = chroma.astype(np.float64)
    counts = np.stack([(c * np.roll(c, -k, axis=1)).sum(axis=1) for k in range(1, 7)], axis=1)
    counts[:, 5] /= 2.0  # the tritone pairs each pitch class with the same partner both ways
    return counts


def chord_presence(chroma: np.ndarray, template: Sequence[int]) -> np.ndarray:
    """``(frames,)`` True where the frame's pitch classes contain ``template`` on some root."""
    found = np.ones((chroma.shape[0], 12), dtype=bool)
    for interval in template:
        found &= np.roll(chroma, -interval, axis=1)
    return found.any(axis=1)


def _harmony_features(notes: Notes) -> tuple[dict[str, float], np.ndarray]:
    roll = piano_roll(notes)
    chroma = chroma_of(roll)
    active = chroma.any(axis=1)
    chroma, roll = chroma[active], roll[active]
    ic = interval_class_counts(chroma).sum(axis=0)
    ic = ic / ic.sum() if ic.sum() > 0 else ic
    chords = {name: float(chord_presence(chroma, t).mean()) for name, t in CHORDS.items()}
    maj, mnr = chords["major"], chords["minor"]
    bass_pc = np.argmax(roll, axis=1) % 12
    rows = np.arange(chroma.shape[0])
    feats = {
        **{f"ic{k + 1}": float(ic[k]) for k in range(6)},
        "dissonance": float(ic[list(DISSONANT_CLASSES)].sum()),
        **{f"chord_{name}": v for name, v in chords.items()},
        "triad_mode": (maj - mnr) / (maj + mnr) if maj + mnr > 0 else 0.0,
        "bass_minor_third": float(chroma[rows, (bass_pc + 3) % 12].mean()),
        "bass_major_third": float(chroma[rows, (bass_pc + 4) % 12].mean()),
        "pc_per_frame": float(chroma.sum(axis=1).mean()),
        "thick_frames": float((chroma.sum(axis=1) >= 3).mean()),
    }
    return feats, active


def _local_key_features(notes: Notes) -> dict[str, float]:
    """Key clarity and mode on windows of :data:`KEY_WINDOW` s (duration-weighted pitch classes)."""
    n_win = max(1, int(np.ceil(notes.end.max() / KEY_WINDOW)))
    edges = np.arange(n_win + 1) * KEY_WINDOW
    # overlap of every note with every window, (notes, windows), in chunks of notes so that a
    # 100,000-note score never holds more than OVERLAP_CELLS cells at once (one chunk for usual scores)
    hist = np.zeros((n_win, 12))
    step = max(1, OVERLAP_CELLS // n_win)
    for s in range(0, notes.start.size, step):
        end, start = notes.end[s : s + step], notes.start[s : s + step]
        overlap = np.clip(np.minimum(end[:, None], edges[None, 1:]) - np.maximum(start[:, None], edges[None, :-1]), 0, None)
        hist += overlap.T @ np.eye(12)[notes.pitch[s : s + step] % 12]
    hist = hist[hist.sum(axis=1) > 0]
    corr = np.array([key_correlations(h) for h in hist])
    best = corr.argmax(axis=1)
    return {
        "local_key_clarity": float(corr.max(axis=1).mean()),
        "local_mode_score": float((corr[:, :12].max(axis=1) - corr[:, 12:].max(axis=1)).mean()),
        "local_major_fraction": float((best < 12).mean()),
        "key_changes": float((np.diff(best) != 0).mean()) if best.size > 1 else 0.0,
    }


# ---------------------------------------------------------------------------
# melody, dynamics, rhythm
# ---------------------------------------------------------------------------


def _slope(t: np.ndarray, y: np.ndarray) -> float:
    """Least-squares slope of ``y`` over ``t``; 0 when ``t`` does not vary."""
    tc = t - t.mean()
    denom = float((tc * tc).sum())
    return float((tc * (y - y.mean())).sum() / denom) if denom > 1e-12 else 0.0


def _weighted_percentile(x: np.ndarray, w: np.ndarray, q: float) -> float:
    order = np.argsort(x)
    cdf = np.cumsum(w[order])
    return float(x[order][np.searchsorted(cdf, q * cdf[-1])])


def _melody_features(notes: Notes, onsets: Onsets) -> dict[str, float]:
    top = np.maximum.reduceat(notes.pitch, onsets.first).astype(np.float64)
    bass = np.minimum.reduceat(notes.pitch, onsets.first).astype(np.float64)
    steps = np.diff(top)
    size = np.abs(steps)
    has = steps.size > 0

    def frac(mask: np.ndarray) -> float:
        return float(mask.mean()) if has else 0.0

    hist = np.bincount((np.clip(steps, -12, 12) + 12).astype(np.int64), minlength=25).astype(np.float64)
    return {
        "melody_up": frac(steps > 0),
        "melody_down": frac(steps < 0),
        "melody_repeat": frac(steps == 0),
        "melody_steps": frac((size >= 1) & (size <= 2)),
        "melody_leaps": frac(size >= 5),
        "melody_interval_entropy": entropy_bits(hist),
        "melody_slope": _slope(onsets.times, top),
        "melody_mean": float(top.mean()),
        "bass_mean": float(bass.mean()),
        "bass_std": safe_std(bass),
        "pitch_p10": _weighted_percentile(notes.pitch.astype(np.float64), notes.duration, 0.1),
        "pitch_p90": _weighted_percentile(notes.pitch.astype(np.float64), notes.duration, 0.9),
    }


def pedal_fraction(pm: pretty_midi.PrettyMIDI, start: float, end: float) -> float:
    """Fraction of ``[start, end]`` with the sustain pedal down on some non-drum instrument."""
    if end <= start:
        return 0.0
    spans = []
    for inst in pm.instruments:
        if inst.is_drum:
            continue
        cc = [(c.time, c.value >= PEDAL_DOWN) for c in inst.control_changes if c.number == PEDAL_CC]
        if not cc:
            continue
        t = np.array([c[0] for c in cc] + [end])
        state = np.array([c[1] for c in cc])
        spans.append(np.stack([t[:-1][state], t[1:][state]], axis=1))
    down = np.clip(np.concatenate(spans), start, end) if spans else np.zeros((0, 2))
    if down.shape[0] == 0:
        return 0.0
    # length of the union of the intervals
    down = down[np.argsort(down[:, 0])]
    reach = np.maximum.accumulate(down[:, 1])
    new = np.r_[True, down[1:, 0] > reach[:-1]]
    heads = np.flatnonzero(new)
    total = (np.maximum.reduceat(down[:, 1], heads) - down[heads, 0]).sum()
    return float(total / (end - start))


def _dynamics_rhythm_features(notes: Notes, onsets: Onsets, pm: pretty_midi.PrettyMIDI) -> dict[str, float]:
    vel = notes.velocity.astype(np.float64)
    span = max(notes.span, MIN_SPAN)
    first = float(notes.start.min())
    loudest = np.maximum.reduceat(notes.velocity, onsets.first).astype(np.float64)
    per_second = np.bincount(np.floor(onsets.times - first).astype(np.int64)).astype(np.float64)
    ioi = np.diff(onsets.times)
    ioi_bins = np.floor(8 * np.log2(np.maximum(ioi, 1e-3) / 1e-3)).astype(np.int64)
    tempo_times, tempi = pm.get_tempo_changes()
    tempo = marked_tempo(np.asarray(tempo_times), np.asarray(tempi), float(notes.end.max()))
    density = len(notes) / span
    return {
        "velocity_p10": float(np.percentile(vel, 10)),
        "velocity_p90": float(np.percentile(vel, 90)),
        "velocity_slope": _slope(notes.start, vel),
        "loudness_rate": float(vel.sum() / span / 127.0),
        "accent_strength": float(loudest.mean() - vel.mean()),
        "pedal_fraction": pedal_fraction(pm, first, float(notes.end.max())),
        "density_std": safe_std(per_second),
        "density_max": float(per_second.max()),
        "short_notes": float((notes.duration < 0.15).mean()),
        "long_notes": float((notes.duration > 1.0).mean()),
        "ioi_entropy": entropy_bits(np.bincount(ioi_bins)) if ioi.size else 0.0,
        "notes_per_beat": density * 60.0 / tempo,
        "log_note_density": float(np.log(density)),
        "log_tempo": float(np.log(tempo)),
    }


def describe(pm: pretty_midi.PrettyMIDI, *, source: str = "<midi>") -> np.ndarray:
    """All ``midi-harmony`` descriptors of a score.

    Returns
    -------
    np.ndarray
        ``(len(FEATURE_NAMES),)`` float32, finite.

    Raises
    ------
    EmptyMediaError
        If the score has no pitched (non-drum) notes.
    """
    notes = Notes.from_midi(pm)
    if len(notes) == 0:
        raise EmptyMediaError(source, "the MIDI file has no pitched (non-drum) notes")
    onsets = Onsets.of(notes)
    harmony, _ = _harmony_features(notes)
    values = {
        **harmony,
        **_local_key_features(notes),
        **_melody_features(notes, onsets),
        **_dynamics_rhythm_features(notes, onsets, pm),
    }
    features = np.array([values[name] for name in FEATURE_NAMES], dtype=np.float32)
    if not np.isfinite(features).all():
        bad = [n for n, v in zip(FEATURE_NAMES, features) if not np.isfinite(v)]
        raise InvalidValueError(f"{source}: non-finite MIDI descriptors {bad}")
    return features


class MidiHarmonyEncoder(Encoder):
    """Harmonic, melodic and dynamic MIDI descriptors (see the module docstring).

    About a millisecond per 15-second piano clip, NumPy only.
    """

    name = "midi-harmony"
    version = "1"
    modality = "midi"
    dim = len(FEATURE_NAMES)
    #: the name of each feature column, in order
    feature_names: ClassVar[tuple[str, ...]] = FEATURE_NAMES
    batch_size = 256
    description = "harmony, chord quality, local key, melodic contour and dynamics of a MIDI score"

    def prepare(self, decoded: pretty_midi.PrettyMIDI, *, source: str = "<input>") -> np.ndarray:
        return describe(decoded, source=source)

    def embed_batch(self, prepared: Sequence[np.ndarray]) -> EncoderOutput:
        if not prepared:
            return EncoderOutput(np.zeros((0, self.dim), np.float32))
        return EncoderOutput(features=np.stack(prepared))


register(MidiHarmonyEncoder.name, MidiHarmonyEncoder)
