"""``midi-stats``: symbolic descriptors of a MIDI score, in NumPy only.

Each descriptor is a pure function of a :class:`Notes` table (vectorised
over notes, no Python loop per note). Drum tracks are left out of every
descriptor except ``drum_fraction``.

Features (in :attr:`MidiStatsEncoder.feature_names` order)
----------------------------------------------------------
Time is in seconds; the *span* runs from the first onset to the last offset.
Notes shorter than 1 ms are lengthened to 1 ms so that every note sounds.
Onsets closer than 30 ms are one onset (a chord or a spread chord).

Time and tempo
    ``duration``        span (s).
    ``note_count``      number of pitched notes.
    ``note_density``    notes per second of span.
    ``onset_density``   onsets per second of span.
    ``tempo_marked``    the MIDI tempo events' bpm, averaged over time.
    ``tempo_estimated`` bpm from the autocorrelation of the onset train,
                        40-240 bpm with a log-normal preference around
                        120 bpm (one octave wide); ``tempo_marked`` when
                        there are fewer than three onsets.
Pitch
    ``pitch_mean``, ``pitch_std``, ``pitch_min``, ``pitch_max``,
    ``pitch_range``     MIDI note numbers, over notes.
    ``pitch_entropy``   Shannon entropy (bits) of the 128-bin note pitch
                        histogram, as muspy's ``pitch_entropy`` [1]_.
    ``pitch_class_entropy``  the same over the 12 pitch classes, as
                        muspy's ``pitch_class_entropy`` [1]_.
    ``n_pitches_used``, ``n_pitch_classes_used``  distinct pitches / classes.
    ``register_low``, ``register_mid``, ``register_high``  fractions of
                        notes below C3 (48), from C3 to B4, from C5 (72) up.
    ``melodic_interval_mean``, ``melodic_interval_std``  mean and standard
                        deviation of the absolute step (semitones) between
                        successive onsets' highest notes (the "skyline"
                        melody); 0 with fewer than two onsets.
Key and mode (Krumhansl-Schmuckler)
    The duration-weighted pitch-class histogram is correlated (Pearson) with
    the 24 rotations of the Krumhansl-Kessler major and minor profiles [2]_;
    the best one is the key.
    ``key_correlation`` the best correlation (key clarity).
    ``mode_major``      1 if the best key is major, else 0.
    ``mode_score``      best major minus best minor correlation (a graded mode).
    ``scale_consistency``  largest fraction of notes inside one major or
                        natural-minor scale, as muspy's ``scale_consistency`` [1]_.
    ``pc_rel_0`` ... ``pc_rel_11``  the duration-weighted pitch-class
                        histogram (sums to 1) rotated so that index 0 is the
                        key's tonic: key-invariant interval content. The
                        absolute key is in the ``key_correlations`` extra.
Dynamics and articulation
    ``velocity_mean``, ``velocity_std``  over notes (MIDI 1-127).
    ``note_duration_mean``, ``note_duration_std``  seconds.
    ``articulation``    mean over notes of duration / time to the next onset,
                        clipped to [0, 2] (about 1 legato, under 0.5
                        staccato); 1 when there is a single onset.
Texture
    ``polyphony``       mean number of distinct pitches sounding, over the
                        time when at least one sounds, as muspy's
                        ``polyphony`` [1]_.
    ``polyphony_rate``  fraction of the time from 0 to the last offset during
                        which more than two distinct pitches sound, as
                        muspy's ``polyphony_rate(threshold=2)`` [1]_ (the EIMG
                        paper's metric). muspy counts tick time steps; this
                        integrates over seconds, which is the same under a
                        constant tempo.
    ``polyphony_onset_mean``, ``polyphony_max``  number of notes sounding at
                        each onset (the notes starting there plus those held
                        from before): mean and maximum over onsets.
Rhythm
    ``ioi_mean``, ``ioi_std``, ``ioi_cv``  inter-onset intervals (s) and
                        their coefficient of variation; 0 with fewer than two
                        onsets.
    ``silence_ratio``   fraction of the span with no note sounding.
    ``empty_bar_ratio`` fraction of bars (from the MIDI time signatures,
                        4/4 by default) from 0 to the last offset in which no
                        note sounds.
Instrumentation
    ``instrument_count``  non-drum instruments with notes.
    ``drum_fraction``   drum notes / all notes.

References
----------
.. [1] H.-W. Dong, K. Chen, J. McAuley, T. Berg-Kirkpatrick, "MusPy: A
   Toolkit for Symbolic Music Generation", ISMIR 2020 (``muspy.metrics``).
.. [2] C. L. Krumhansl, *Cognitive Foundations of Musical Pitch*, Oxford
   University Press, 1990 (profiles from Krumhansl & Kessler, 1982).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from moodbridge.encoders.base import Encoder, EncoderOutput, register
from moodbridge.errors import EmptyMediaError, InvalidValueError

if TYPE_CHECKING:
    import pretty_midi

#: onsets closer than this (s) form one onset
ONSET_TOLERANCE = 0.03
#: notes are at least this long (s)
MIN_NOTE_DURATION = 1e-3
#: densities divide by at least this span (s)
MIN_SPAN = 0.5
#: frame rate (Hz) of the onset train used for the tempo estimate
TEMPO_FPS = 100
TEMPO_RANGE_BPM = (40.0, 240.0)
#: register boundaries (MIDI pitch): C3 and C5
LOW_REGISTER_BELOW, HIGH_REGISTER_FROM = 48, 72

#: Krumhansl-Kessler key profiles, tonic first
MAJOR_PROFILE = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
MINOR_PROFILE = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])
MAJOR_SCALE = np.array([1, 0, 1, 0, 1, 1, 0, 1, 0, 1, 0, 1], dtype=bool)
MINOR_SCALE = np.array([1, 0, 1, 1, 0, 1, 0, 1, 1, 0, 1, 0], dtype=bool)
PITCH_CLASS_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
#: names of the 24 keys, majors then minors, tonic C first
KEY_NAMES = [f"{pc} major" for pc in PITCH_CLASS_NAMES] + [f"{pc} minor" for pc in PITCH_CLASS_NAMES]

FEATURE_NAMES: tuple[str, ...] = (
    "duration", "note_count", "note_density", "onset_density", "tempo_marked", "tempo_estimated",
    "pitch_mean", "pitch_std", "pitch_min", "pitch_max", "pitch_range",
    "pitch_entropy", "pitch_class_entropy", "n_pitches_used", "n_pitch_classes_used",
    "register_low", "register_mid", "register_high", "melodic_interval_mean", "melodic_interval_std",
    "key_correlation", "mode_major", "mode_score", "scale_consistency",
    *(f"pc_rel_{i}" for i in range(12)),
    "velocity_mean", "velocity_std", "note_duration_mean", "note_duration_std", "articulation",
    "polyphony", "polyphony_rate", "polyphony_onset_mean", "polyphony_max",
    "ioi_mean", "ioi_std", "ioi_cv", "silence_ratio", "empty_bar_ratio",
    "instrument_count", "drum_fraction",
)  # fmt: skip


# ---------------------------------------------------------------------------
# the note table
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Notes:
    """Pitched notes sorted by onset (then pitch), as parallel arrays.

    Attributes
    ----------
    start, end
        Seconds; ``end >= start + MIN_NOTE_DURATION``.
    pitch, velocity
        MIDI numbers (int64).
    """

    start: np.ndarray
    end: np.ndarray
    pitch: np.ndarray
    velocity: np.ndarray

    @classmethod
    def from_arrays(cls, start: Any, end: Any, pitch: Any, velocity: Any) -> Notes:
        """Build a sorted table from unsorted arrays."""
        start = np.asarray(start, dtype=np.float64)
        end = np.maximum(np.asarray(end, dtype=np.float64), start + MIN_NOTE_DURATION)
        pitch = np.asarray(pitch, dtype=np.int64)
        velocity = np.asarray(velocity, dtype=np.int64)
        order = np.lexsort((pitch, start))
        return cls(start[order], end[order], pitch[order], velocity[order])

    @classmethod
    def from_midi(cls, pm: pretty_midi.PrettyMIDI) -> Notes:
        """The non-drum notes of a score."""
        notes = [n for inst in pm.instruments if not inst.is_drum for n in inst.notes]
        table = np.array([(n.start, n.end, n.pitch, n.velocity) for n in notes], dtype=np.float64).reshape(-1, 4)
        return cls.from_arrays(table[:, 0], table[:, 1], table[:, 2], table[:, 3])

    def __len__(self) -> int:
        return int(self.start.size)

    @property
    def duration(self) -> np.ndarray:
        return self.end - self.start

    @property
    def span(self) -> float:
        """Seconds from the first onset to the last offset."""
        return float(self.end.max() - self.start.min())


@dataclass(frozen=True)
class Onsets:
    """Onset clusters: notes whose onsets lie within :data:`ONSET_TOLERANCE` of the previous one.

    Attributes
    ----------
    times
        Time of each cluster's first onset.
    first
        Index (into the sorted notes) of each cluster's first note.
    label
        Cluster index of every note.
    """

    times: np.ndarray
    first: np.ndarray
    label: np.ndarray

    @classmethod
    def of(cls, notes: Notes, tolerance: float = ONSET_TOLERANCE) -> Onsets:
        new = np.empty(len(notes), dtype=bool)
        new[0] = True
        new[1:] = np.diff(notes.start) > tolerance
        first = np.flatnonzero(new)
        return cls(notes.start[first], first, np.cumsum(new) - 1)

    @property
    def sizes(self) -> np.ndarray:
        """Notes per cluster."""
        return np.bincount(self.label)


# ---------------------------------------------------------------------------
# descriptors: pure functions
# ---------------------------------------------------------------------------


def entropy_bits(counts: np.ndarray) -> float:
    """Shannon entropy (bits) of a histogram; 0 for an empty one."""
    total = counts.sum()
    if total <= 0:
        return 0.0
    p = counts[counts > 0] / total
    return float(-(p * np.log2(p)).sum())


def safe_std(x: np.ndarray) -> float:
    """Population standard deviation; 0 for fewer than two values."""
    return float(x.std()) if x.size > 1 else 0.0


def _merged_pitch_intervals(notes: Notes) -> tuple[np.ndarray, np.ndarray]:
    """Per pitch, the union of its notes' intervals: overlapping same-pitch notes count once."""
    offset = notes.pitch * (notes.end.max() + 1.0)  # separate the pitches on one time line
    order = np.lexsort((notes.start, notes.pitch))
    start, end = (notes.start + offset)[order], (notes.end + offset)[order]
    reach = np.maximum.accumulate(end)
    new = np.empty(start.size, dtype=bool)
    new[0] = True
    new[1:] = start[1:] > reach[:-1]
    heads = np.flatnonzero(new)
    merged_end = np.maximum.reduceat(end, heads)
    shift = offset[order][heads]
    return start[heads] - shift, merged_end - shift


def sounding_profile(notes: Notes) -> tuple[np.ndarray, np.ndarray]:
    """Piecewise-constant count of distinct pitches sounding.

    Returns
    -------
    widths, counts
        The time line from the first onset to the last offset cut at every
        note boundary: segment lengths (s) and the number of pitches sounding
        in each (intervals are half-open, so abutting notes do not overlap).
    """
    start, end = _merged_pitch_intervals(notes)
    times = np.concatenate([start, end])
    steps = np.concatenate([np.ones(start.size), -np.ones(end.size)])
    order = np.lexsort((steps, times))  # at equal times, offsets (-1) before onsets
    times, counts = times[order], np.cumsum(steps[order])
    return np.diff(times), counts[:-1]


def polyphony(widths: np.ndarray, counts: np.ndarray) -> float:
    """Mean number of pitches sounding while any does (muspy ``polyphony``, Dong et al. 2020)."""
    active = widths[counts > 0].sum()
    return float((widths * counts).sum() / active) if active > 0 else 1.0


def polyphony_rate(widths: np.ndarray, counts: np.ndarray, length: float, threshold: int = 2) -> float:
    """Fraction of ``length`` with more than ``threshold`` pitches on (muspy ``polyphony_rate``, Dong et al. 2020)."""
    return float(widths[counts > threshold].sum() / length) if length > 0 else 0.0


def polyphony_at_onsets(notes: Notes, onsets: Onsets) -> np.ndarray:
    """Notes sounding at each onset: those starting in its cluster plus those held from before."""
    begun_before = np.searchsorted(notes.start, onsets.times, side="left")
    ended_by = np.searchsorted(np.sort(notes.end), onsets.times, side="right")
    return (begun_before - ended_by) + onsets.sizes


def key_correlations(pc_weights: np.ndarray) -> np.ndarray:
    """Pearson correlation of a 12-bin pitch-class profile with the 24 Krumhansl-Kessler key profiles.

    Returns
    -------
    np.ndarray
        ``(24,)``: C major ... B major, C minor ... B minor; zeros when the
        profile is flat (no key can be told).
    """
    shifts = (np.arange(12)[None, :] - np.arange(12)[:, None]) % 12  # row k: profile with tonic k
    profiles = np.concatenate([MAJOR_PROFILE[shifts], MINOR_PROFILE[shifts]])
    x = pc_weights - pc_weights.mean()
    y = profiles - profiles.mean(axis=1, keepdims=True)
    denom = np.sqrt((x**2).sum() * (y**2).sum(axis=1))
    if not np.all(denom > 0):
        return np.zeros(24)
    return (y @ x) / denom


def scale_consistency(pc_counts: np.ndarray) -> float:
    """Largest fraction of notes in one major or natural-minor scale (muspy ``scale_consistency``, Dong et al. 2020)."""
    shifts = (np.arange(12)[None, :] - np.arange(12)[:, None]) % 12
    masks = np.concatenate([MAJOR_SCALE[shifts], MINOR_SCALE[shifts]]).astype(np.float64)
    return float((masks @ pc_counts).max() / pc_counts.sum())


def estimate_tempo(onset_times: np.ndarray, weights: np.ndarray, fallback: float) -> float:
    """Tempo (bpm) from the autocorrelation of a smoothed onset train.

    Lags between 40 and 240 bpm are weighted by a log-normal prior centred on
    120 bpm with a one-octave standard deviation, as in librosa's tempo
    estimator; the best lag is the beat period.
    """
    if onset_times.size < 3:
        return fallback
    frames = np.round((onset_times - onset_times[0]) * TEMPO_FPS).astype(np.int64)
    train = np.bincount(frames, weights=weights).astype(np.float64)
    kernel = np.exp(-0.5 * (np.arange(-6, 7) / 2.0) ** 2)
    train = np.convolve(train, kernel, mode="same")
    n = 1 << int(np.ceil(np.log2(2 * train.size)))
    spectrum = np.fft.rfft(train - train.mean(), n)
    acf = np.fft.irfft(spectrum * np.conj(spectrum), n)[: train.size]
    lo = int(np.ceil(60 * TEMPO_FPS / TEMPO_RANGE_BPM[1]))
    hi = min(int(60 * TEMPO_FPS / TEMPO_RANGE_BPM[0]), train.size - 1)
    if hi <= lo or acf[0] <= 0:
        return fallback
    lags = np.arange(lo, hi + 1)
    bpm = 60.0 * TEMPO_FPS / lags
    prior = np.exp(-0.5 * np.log2(bpm / 120.0) ** 2)
    score = np.maximum(acf[lags], 0) * prior
    return float(bpm[np.argmax(score)]) if score.max() > 0 else fallback


def marked_tempo(times: np.ndarray, tempi: np.ndarray, end: float) -> float:
    """Time-weighted mean of MIDI tempo events up to ``end`` (120 bpm if there are none)."""
    if tempi.size == 0:
        return 120.0
    widths = np.clip(np.diff(np.append(times, max(end, times[-1]))), 0, None)
    return float((widths * tempi).sum() / widths.sum()) if widths.sum() > 0 else float(tempi[0])


def empty_bar_ratio(notes: Notes, downbeats: np.ndarray) -> float:
    """Fraction of bars from 0 to the last offset in which no note sounds."""
    last = notes.end.max()
    bars = downbeats[downbeats < last]
    if bars.size == 0 or bars[0] > 0:
        bars = np.concatenate([[0.0], bars])
    first_bar = np.searchsorted(bars, notes.start, side="right") - 1
    last_bar = np.searchsorted(bars, notes.end, side="left") - 1  # the bar holding end - epsilon
    cover = np.zeros(bars.size + 1)
    np.add.at(cover, first_bar, 1)
    np.add.at(cover, last_bar + 1, -1)
    return float(np.mean(np.cumsum(cover)[:-1] == 0))


def articulation(notes: Notes, onsets: Onsets) -> float:
    """Mean of note duration / time to the next onset, clipped to [0, 2]; 1 for a single onset."""
    if onsets.times.size < 2:
        return 1.0
    gap = np.diff(onsets.times)[np.minimum(onsets.label, onsets.times.size - 2)]
    has_next = onsets.label < onsets.times.size - 1
    return float(np.clip(notes.duration[has_next] / gap[has_next], 0, 2).mean())


def skyline_intervals(notes: Notes, onsets: Onsets) -> np.ndarray:
    """Absolute semitone steps between successive onsets' highest notes."""
    top = np.maximum.reduceat(notes.pitch, onsets.first)
    return np.abs(np.diff(top)).astype(np.float64)


def interval_stats(values: np.ndarray) -> tuple[float, float, float]:
    """Mean, standard deviation and coefficient of variation; zeros for an empty array."""
    if values.size == 0:
        return 0.0, 0.0, 0.0
    mean, std = float(values.mean()), safe_std(values)
    return mean, std, (std / mean if mean > 0 else 0.0)


# ---------------------------------------------------------------------------
# assembling the vector
# ---------------------------------------------------------------------------


def _pitch_features(notes: Notes) -> dict[str, float]:
    p = notes.pitch
    pitch_counts = np.bincount(p, minlength=128).astype(np.float64)
    pc_counts = np.bincount(p % 12, minlength=12).astype(np.float64)
    return {
        "pitch_mean": float(p.mean()),
        "pitch_std": safe_std(p.astype(np.float64)),
        "pitch_min": float(p.min()),
        "pitch_max": float(p.max()),
        "pitch_range": float(p.max() - p.min()),
        "pitch_entropy": entropy_bits(pitch_counts),
        "pitch_class_entropy": entropy_bits(pc_counts),
        "n_pitches_used": float(np.count_nonzero(pitch_counts)),
        "n_pitch_classes_used": float(np.count_nonzero(pc_counts)),
        "register_low": float(np.mean(p < LOW_REGISTER_BELOW)),
        "register_mid": float(np.mean((p >= LOW_REGISTER_BELOW) & (p < HIGH_REGISTER_FROM))),
        "register_high": float(np.mean(p >= HIGH_REGISTER_FROM)),
        "scale_consistency": scale_consistency(pc_counts),
    }


def _key_features(notes: Notes) -> tuple[dict[str, float], np.ndarray]:
    pc_weights = np.bincount(notes.pitch % 12, weights=notes.duration, minlength=12)
    corr = key_correlations(pc_weights)
    best = int(np.argmax(corr))
    tonic = best % 12
    rel = np.roll(pc_weights / pc_weights.sum(), -tonic)
    feats = {
        "key_correlation": float(corr[best]),
        "mode_major": float(best < 12),
        "mode_score": float(corr[:12].max() - corr[12:].max()),
        **{f"pc_rel_{i}": float(rel[i]) for i in range(12)},
    }
    return feats, corr


def _texture_features(notes: Notes, onsets: Onsets) -> dict[str, float]:
    widths, counts = sounding_profile(notes)
    at_onsets = polyphony_at_onsets(notes, onsets)
    return {
        "polyphony": polyphony(widths, counts),
        "polyphony_rate": polyphony_rate(widths, counts, float(notes.end.max())),
        "polyphony_onset_mean": float(at_onsets.mean()),
        "polyphony_max": float(at_onsets.max()),
        "silence_ratio": float(widths[counts == 0].sum() / max(notes.span, MIN_NOTE_DURATION)),
    }


def _rhythm_features(notes: Notes, onsets: Onsets, pm: pretty_midi.PrettyMIDI) -> dict[str, float]:
    span = max(notes.span, MIN_SPAN)
    ioi_mean, ioi_std, ioi_cv = interval_stats(np.diff(onsets.times))
    melodic = skyline_intervals(notes, onsets)
    tempo_times, tempi = pm.get_tempo_changes()
    tempo = marked_tempo(np.asarray(tempo_times), np.asarray(tempi), float(notes.end.max()))
    return {
        "duration": notes.span,
        "note_count": float(len(notes)),
        "note_density": len(notes) / span,
        "onset_density": onsets.times.size / span,
        "tempo_marked": tempo,
        "tempo_estimated": estimate_tempo(onsets.times, onsets.sizes.astype(np.float64), tempo),
        "melodic_interval_mean": float(melodic.mean()) if melodic.size else 0.0,
        "melodic_interval_std": safe_std(melodic),
        "velocity_mean": float(notes.velocity.mean()),
        "velocity_std": safe_std(notes.velocity.astype(np.float64)),
        "note_duration_mean": float(notes.duration.mean()),
        "note_duration_std": safe_std(notes.duration),
        "articulation": articulation(notes, onsets),
        "ioi_mean": ioi_mean,
        "ioi_std": ioi_std,
        "ioi_cv": ioi_cv,
        "empty_bar_ratio": empty_bar_ratio(notes, np.asarray(pm.get_downbeats())),
    }


def describe(pm: pretty_midi.PrettyMIDI, *, source: str = "<midi>") -> tuple[np.ndarray, np.ndarray]:
    """All descriptors of a score.

    Parameters
    ----------
    pm
        The parsed score.
    source
        The file it came from, for error messages.

    Returns
    -------
    features : np.ndarray
        ``(len(FEATURE_NAMES),)`` float32, finite.
    key_correlations : np.ndarray
        ``(24,)`` float32, in :data:`KEY_NAMES` order.

    Raises
    ------
    EmptyMediaError
        If the score has no pitched (non-drum) notes.
    """
    notes = Notes.from_midi(pm)
    if len(notes) == 0:
        raise EmptyMediaError(source, "the MIDI file has no pitched (non-drum) notes")
    onsets = Onsets.of(notes)
    key_feats, corr = _key_features(notes)
    n_drum = sum(len(i.notes) for i in pm.instruments if i.is_drum)
    values = {
        **_pitch_features(notes),
        **key_feats,
        **_texture_features(notes, onsets),
        **_rhythm_features(notes, onsets, pm),
        "instrument_count": float(sum(1 for i in pm.instruments if not i.is_drum and i.notes)),
        "drum_fraction": n_drum / (n_drum + len(notes)),
    }
    features = np.array([values[name] for name in FEATURE_NAMES], dtype=np.float32)
    if not np.isfinite(features).all():  # a bug, not a user error: say which
        bad = [n for n, v in zip(FEATURE_NAMES, features) if not np.isfinite(v)]
        raise InvalidValueError(f"{source}: non-finite MIDI descriptors {bad}")
    return features, corr.astype(np.float32)


def describe_dict(pm: pretty_midi.PrettyMIDI, *, source: str = "<midi>") -> dict[str, float]:
    """:func:`describe` as ``{feature name: value}``."""
    features, _ = describe(pm, source=source)
    return dict(zip(FEATURE_NAMES, features.tolist()))


class MidiStatsEncoder(Encoder):
    """Symbolic descriptors of a MIDI score (see the module docstring for each feature).

    ``prepare`` computes the descriptors (NumPy, about a millisecond per
    15-second piano clip); ``embed_batch`` stacks them. The extra output
    ``key_correlations`` holds the 24 key-profile correlations.
    """

    name = "midi-stats"
    version = "1"
    modality = "midi"
    dim = len(FEATURE_NAMES)
    #: the name of each feature column, in order
    feature_names: ClassVar[tuple[str, ...]] = FEATURE_NAMES
    extra_labels = {"key_correlations": KEY_NAMES}
    batch_size = 256
    description = "symbolic MIDI descriptors: density, pitch, key/mode, polyphony, rhythm, dynamics"

    def prepare(self, decoded: pretty_midi.PrettyMIDI, *, source: str = "<input>") -> tuple[np.ndarray, np.ndarray]:
        return describe(decoded, source=source)

    def embed_batch(self, prepared: Sequence[tuple[np.ndarray, np.ndarray]]) -> EncoderOutput:
        if not prepared:
            return EncoderOutput(np.zeros((0, self.dim), np.float32), {"key_correlations": np.zeros((0, 24))})
        return EncoderOutput(
            features=np.stack([p[0] for p in prepared]),
            extras={"key_correlations": np.stack([p[1] for p in prepared])},
        )


register(MidiStatsEncoder.name, MidiStatsEncoder)
