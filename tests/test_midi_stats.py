"""midi-stats: hand-computed descriptors, vectorised code against naive loops, edge cases, real data."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pretty_midi
import pytest
from conftest import shared_path

from moodbridge.encoders import get_encoder
from moodbridge.encoders.midi_stats import (
    FEATURE_NAMES,
    KEY_NAMES,
    MidiStatsEncoder,
    Notes,
    describe,
    describe_dict,
    polyphony,
    polyphony_rate,
    sounding_profile,
)
from moodbridge.errors import EmptyMediaError
from moodbridge.media import decode_midi

C_MAJOR_SCALE = (60, 62, 64, 65, 67, 69, 71, 72)


def score(
    notes: list[tuple[float, float, int]],
    *,
    velocity: int = 80,
    drums: list[tuple[float, float, int]] = (),
    tempo: float = 120.0,
) -> pretty_midi.PrettyMIDI:
    """A score with one piano (and optionally one drum) track, from (start, end, pitch) triples."""
    pm = pretty_midi.PrettyMIDI(initial_tempo=tempo)
    piano = pretty_midi.Instrument(program=0)
    piano.notes = [pretty_midi.Note(velocity=velocity, pitch=p, start=s, end=e) for s, e, p in notes]
    pm.instruments.append(piano)
    if drums:
        kit = pretty_midi.Instrument(program=0, is_drum=True)
        kit.notes = [pretty_midi.Note(velocity=100, pitch=p, start=s, end=e) for s, e, p in drums]
        pm.instruments.append(kit)
    return pm


def write(pm: pretty_midi.PrettyMIDI, path: Path) -> Path:
    pm.write(str(path))
    return path


def round_trip(pm: pretty_midi.PrettyMIDI, path: Path) -> pretty_midi.PrettyMIDI:
    return decode_midi(write(pm, path))


def scale_score(pitches=C_MAJOR_SCALE, step: float = 0.5) -> pretty_midi.PrettyMIDI:
    return score([(i * step, (i + 1) * step, p) for i, p in enumerate(pitches)])


# ---------------------------------------------------------------------------
# hand-computed values
# ---------------------------------------------------------------------------


def test_scale_descriptors_by_hand(tmp_path: Path) -> None:
    d = describe_dict(round_trip(scale_score(), tmp_path / "scale.mid"))
    assert d["note_count"] == 8
    assert d["duration"] == pytest.approx(4.0, abs=1e-3)
    assert d["note_density"] == pytest.approx(2.0, abs=1e-3)
    assert d["onset_density"] == pytest.approx(2.0, abs=1e-3)
    assert d["pitch_mean"] == pytest.approx(np.mean(C_MAJOR_SCALE), abs=1e-5)
    assert d["pitch_std"] == pytest.approx(np.std(C_MAJOR_SCALE), abs=1e-5)
    assert (d["pitch_min"], d["pitch_max"], d["pitch_range"]) == (60, 72, 12)
    assert d["pitch_entropy"] == pytest.approx(3.0)  # 8 pitches once each
    # 7 pitch classes, C twice: H = -(2/8 log2 2/8 + 6 * 1/8 log2 1/8)
    assert d["pitch_class_entropy"] == pytest.approx(0.5 + 6 * 3 / 8, abs=1e-5)
    assert (d["n_pitches_used"], d["n_pitch_classes_used"]) == (8, 7)
    assert d["scale_consistency"] == 1.0
    assert d["mode_major"] == 1.0 and d["mode_score"] > 0
    assert d["pc_rel_0"] == pytest.approx(2 / 8, abs=1e-3)  # tonic C, two of eight equal durations
    assert d["pc_rel_1"] == 0.0 and d["pc_rel_7"] == pytest.approx(1 / 8, abs=1e-3)
    assert (d["register_low"], d["register_mid"], d["register_high"]) == (
        0.0,
        pytest.approx(7 / 8),
        pytest.approx(1 / 8),
    )
    assert d["ioi_mean"] == pytest.approx(0.5, abs=1e-3) and d["ioi_std"] == pytest.approx(0, abs=1e-3)
    assert d["ioi_cv"] == pytest.approx(0, abs=1e-2)
    assert d["melodic_interval_mean"] == pytest.approx(12 / 7, abs=1e-5)
    assert d["articulation"] == pytest.approx(1.0, abs=1e-3)
    assert d["polyphony"] == pytest.approx(1.0, abs=1e-3)
    assert d["polyphony_rate"] == 0.0
    assert d["polyphony_max"] == 1.0
    assert d["velocity_mean"] == 80 and d["velocity_std"] == 0
    assert d["note_duration_mean"] == pytest.approx(0.5, abs=1e-3)
    assert d["silence_ratio"] == pytest.approx(0, abs=1e-3)
    assert d["tempo_marked"] == pytest.approx(120, abs=0.01)
    assert d["tempo_estimated"] == pytest.approx(120, rel=0.05)  # one note per beat at 120 bpm
    assert d["empty_bar_ratio"] == 0.0
    assert (d["instrument_count"], d["drum_fraction"]) == (1, 0)


def test_chords_polyphony_and_silence_by_hand() -> None:
    # C major triad 0-1 s, rest 1-2 s, C-E dyad 2-3 s: 6 notes, 2 onsets
    notes = [(0, 1, 60), (0, 1, 64), (0, 1, 67), (2, 3, 60), (2, 3, 64)]
    d = describe_dict(score(notes, tempo=60.0))
    assert d["polyphony"] == pytest.approx((3 + 2) / 2)  # pitches sounding, averaged over sounding time
    assert d["polyphony_rate"] == pytest.approx(1 / 3)  # > 2 pitches during 1 s of 3
    assert d["polyphony_onset_mean"] == pytest.approx(2.5) and d["polyphony_max"] == 3
    assert d["silence_ratio"] == pytest.approx(1 / 3)
    assert d["onset_density"] == pytest.approx(2 / 3)
    assert d["articulation"] == pytest.approx(0.5)  # the triad lasts 1 s of a 2 s gap
    assert d["empty_bar_ratio"] == 0.0  # 60 bpm, 4/4: one 4-second bar


def test_empty_bars_and_held_notes() -> None:
    # 120 bpm 4/4: bars of 2 s. Notes in bar 0 and bar 3 only; a held note sounds under a later onset.
    d = describe_dict(score([(0, 1.5, 48), (0.5, 1.0, 60), (6.0, 7.0, 60)]))
    assert d["empty_bar_ratio"] == pytest.approx(2 / 4)
    assert d["polyphony_max"] == 2  # the C3 still sounds at the C4 onset
    assert d["register_low"] == pytest.approx(0.0) and d["register_mid"] == 1.0


def test_minor_key_and_transposition_invariance() -> None:
    a_minor = (57, 59, 60, 62, 64, 65, 68, 69, 57, 64, 69)  # harmonic minor, tonic stressed
    d = describe(score([(i * 0.4, (i + 1) * 0.4, p) for i, p in enumerate(a_minor)]))
    up = describe(score([(i * 0.4, (i + 1) * 0.4, p + 5) for i, p in enumerate(a_minor)]))
    names = dict(zip(FEATURE_NAMES, d[0]))
    assert names["mode_major"] == 0.0 and names["mode_score"] < 0
    assert KEY_NAMES[int(np.argmax(d[1]))] == "A minor"
    assert KEY_NAMES[int(np.argmax(up[1]))] == "D minor"
    key_invariant = [i for i, n in enumerate(FEATURE_NAMES) if not n.startswith(("pitch_m", "register"))]
    np.testing.assert_allclose(d[0][key_invariant], up[0][key_invariant], atol=1e-5)


# ---------------------------------------------------------------------------
# vectorised against naive loops (muspy's pianoroll definitions)
# ---------------------------------------------------------------------------


def naive_polyphony(notes: list[tuple[float, float, int]], step: float = 1e-3) -> tuple[float, float]:
    """muspy's polyphony and polyphony_rate on a pianoroll sampled every ``step`` seconds, by loops."""
    length = round(max(e for _, e, _ in notes) / step)
    roll = np.zeros((length, 128), dtype=bool)
    for s, e, p in notes:
        for t in range(round(s / step), round(e / step)):
            roll[t, p] = True
    on = roll.sum(axis=1)
    return on.sum() / np.count_nonzero(on), np.count_nonzero(on > 2) / length


def test_polyphony_matches_a_naive_pianoroll() -> None:
    rng = np.random.default_rng(7)
    for _ in range(5):
        starts = np.round(rng.uniform(0, 4, 40), 3)
        notes = [
            (float(s), float(s + np.round(rng.uniform(0.05, 1.0), 3)), int(p))
            for s, p in zip(starts, rng.integers(55, 67, 40))
        ]  # fmt: skip  (narrow range: same-pitch overlaps)
        table = Notes.from_arrays(*np.array(notes).T, np.full(len(notes), 80))
        widths, counts = sounding_profile(table)
        expected_poly, expected_rate = naive_polyphony(notes)
        assert polyphony(widths, counts) == pytest.approx(expected_poly, rel=1e-3)
        assert polyphony_rate(widths, counts, float(table.end.max())) == pytest.approx(expected_rate, abs=2e-3)


# ---------------------------------------------------------------------------
# edge cases: always finite, clear error when nothing is pitched
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "notes",
    [
        [(1.0, 2.0, 60)],  # a single note, starting late
        [(0.0, 1.0, p) for p in (48, 52, 55, 60, 64)],  # all notes simultaneous
        [(0.5, 0.5, 60), (0.5, 0.5, 67)],  # zero-length notes
        [(0.0, 3.0, 60), (0.0, 3.0, 60)],  # duplicated note
        [(i * 0.01, i * 0.01 + 0.005, 60 + i % 12) for i in range(200)],  # very dense
    ],
    ids=["single", "simultaneous", "zero-length", "duplicate", "dense"],
)
def test_edge_cases_are_finite(notes: list[tuple[float, float, int]]) -> None:
    features, keys = describe(score(notes))
    assert features.shape == (len(FEATURE_NAMES),) and keys.shape == (24,)
    assert np.isfinite(features).all() and np.isfinite(keys).all()


def test_drums_are_excluded_and_drums_only_is_empty(tmp_path: Path) -> None:
    kick = [(i * 0.5, i * 0.5 + 0.1, 36) for i in range(8)]
    with_piano = describe_dict(score(list(zip([0.0], [2.0], [60])), drums=kick))
    assert with_piano["note_count"] == 1 and with_piano["pitch_min"] == 60
    assert with_piano["drum_fraction"] == pytest.approx(8 / 9)
    drums_only = round_trip(score([], drums=kick), tmp_path / "drums.mid")
    with pytest.raises(EmptyMediaError, match="no pitched"):
        MidiStatsEncoder().prepare(drums_only, source=str(tmp_path / "drums.mid"))


# ---------------------------------------------------------------------------
# the encoder interface
# ---------------------------------------------------------------------------


def test_encoder_is_registered_and_embeds_files(tmp_path: Path) -> None:
    enc = get_encoder("midi-stats")
    assert isinstance(enc, MidiStatsEncoder) and enc.modality == "midi" and not enc.optional
    assert enc.dim == len(enc.feature_names) == len(set(enc.feature_names))
    assert 40 <= enc.dim <= 60
    paths = [write(scale_score(), tmp_path / "a.mid"), write(scale_score(C_MAJOR_SCALE[::-1]), tmp_path / "b.mid")]
    out = enc.embed(paths)
    assert out.features.shape == (2, enc.dim) and out.features.dtype == np.float32
    assert out.extras["key_correlations"].shape == (2, 24)
    assert enc.extra_labels["key_correlations"] == KEY_NAMES
    d = dict(zip(enc.feature_names, out.features[1]))
    assert d["note_count"] == 8 and d["mode_major"] == 1.0


# ---------------------------------------------------------------------------
# real data: the EIMG paper's statistics, and emotion in the descriptors
# ---------------------------------------------------------------------------


def _features_with_labels(folder: str, file_column: str, prefix: str, every: int, columns: tuple[str, str]):
    labels = shared_path(folder, "labels.csv")
    rows = list(csv.DictReader(labels.open()))[::every]
    feats = np.stack([describe(decode_midi(labels.parent / prefix / r[file_column]))[0] for r in rows])
    return feats, np.array([[float(r[c]) for c in columns] for r in rows])


def column(feats: np.ndarray, name: str) -> np.ndarray:
    return feats[:, FEATURE_NAMES.index(name)]


def test_eimg_matches_the_papers_statistics_and_emotion() -> None:
    # Paper (all 3,000 clips): polyphony rate 0.5303, pitch entropy 3.9860; a third of the 2,400 here.
    feats, va = _features_with_labels("eimg", "file", "midi", 3, ("valence_mean", "arousal_mean"))
    assert np.isfinite(feats).all()
    assert column(feats, "polyphony_rate").mean() == pytest.approx(0.5303, abs=0.03)
    assert column(feats, "pitch_entropy").mean() == pytest.approx(3.9860, abs=0.08)
    assert np.corrcoef(column(feats, "note_density"), va[:, 1])[0, 1] > 0.5  # busier is more aroused
    assert np.corrcoef(column(feats, "mode_score"), va[:, 0])[0, 1] > 0.1  # major is more positive


def test_vgmidi_mode_follows_valence() -> None:
    feats, va = _features_with_labels("vgmidi", "midi", "", 1, ("valence", "arousal"))
    assert np.isfinite(feats).all()
    positive = va[:, 0] > 0
    assert column(feats, "mode_score")[positive].mean() > column(feats, "mode_score")[~positive].mean()
    assert np.corrcoef(column(feats, "onset_density"), va[:, 1])[0, 1] > 0.3
