"""EIMG's music statistics (``moodbridge.evaluate.music``) against muspy on real EIMG files and hand-computed cases."""
from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import shared_path

from moodbridge.evaluate.music import (
    NoteTable,
    emotion_matching,
    groove_16th,
    groove_consistency,
    music_statistics,
    pitch_entropy,
    polyphony_rate,
    read_notes,
)


def table(rows, resolution=4, length=None) -> NoteTable:
    a = np.array(rows, dtype=np.int64).reshape(-1, 3)
    end = int(a[:, 2].max()) if len(a) else 0
    return NoteTable(a[:, 0], a[:, 1], a[:, 2], np.zeros(len(a), bool), resolution, length or end)


def test_hand_computed_values() -> None:
    # C major triad for 4 ticks, then a single note for 4 ticks
    notes = table([(60, 0, 4), (64, 0, 4), (67, 0, 4), (72, 4, 8)])
    assert polyphony_rate(notes) == pytest.approx(0.5)  # 4 of 8 ticks have more than 2 pitches
    assert polyphony_rate(table([(60, 0, 4), (64, 0, 4)])) == 0.0  # muspy's threshold: more than 2
    assert polyphony_rate(table([(60, 0, 4), (64, 0, 4)]), threshold=1) == 1.0
    assert pitch_entropy(notes) == pytest.approx(2.0)  # 4 equally frequent pitches
    assert pitch_entropy(table([(60, 0, 1), (60, 1, 2)])) == 0.0
    # measures of 4 ticks: onsets at 0 in measure 0, at 0 in measure 1, and the end (8) opens measure 2 (empty)
    assert groove_consistency(notes, 4) == pytest.approx(1 - (0 + 1) / (4 * 2))
    assert math.isnan(groove_consistency(table([(60, 0, 3)]), 4))


def test_groove_16th_uses_one_bar_on_a_16th_grid() -> None:
    # resolution 480: onsets on every beat for two bars, then the end at tick 3840 (bar 3 starts, empty)
    rows = [(60, b * 480, b * 480 + 240) for b in range(8)]
    notes = table(rows, resolution=480, length=3840)
    # 16th grid: onsets at 0, 4, 8, 12 in bars 0 and 1; bar 2 is empty (length 3840 -> step 32)
    assert groove_16th(notes) == pytest.approx(1 - (0 + 4) / (16 * 2))


def test_emotion_matching_is_euclidean_on_1_to_9() -> None:
    assert emotion_matching(np.array([[0.0, 0.0]]), np.array([[0.75, 1.0]])) == pytest.approx(5.0)  # (3, 4) on 1-9


def test_statistics_equal_muspy_on_real_files() -> None:
    muspy = pytest.importorskip("muspy")
    files = sorted((shared_path("eimg") / "midi").glob("*.mid"))[::150]
    for f in files:
        music = muspy.read_midi(str(f))
        grid = music.deepcopy()
        grid.adjust_resolution(4)
        expected = {
            "polyphony_rate": muspy.polyphony_rate(music),
            "pitch_entropy": muspy.pitch_entropy(music),
            "groove_paper": muspy.groove_consistency(music, 4),
            "groove_16th": muspy.groove_consistency(grid, 16),
        }
        got = music_statistics(read_notes(f))
        for key, value in expected.items():
            assert got[key] == pytest.approx(value, abs=1e-12, nan_ok=True), (f.name, key)
