"""audio-stats: librosa descriptors on synthetic signals with known answers, edge cases, the encoder interface."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from moodbridge.encoders import get_encoder
from moodbridge.encoders.audio_stats import (
    FEATURE_NAMES,
    SAMPLE_RATE,
    AudioStatsEncoder,
    describe_waveform,
    key_profile_correlations,
    pulse_clarity,
)
from moodbridge.encoders.base import InputSpec
from moodbridge.errors import InvalidValueError, TooShortMediaError

SR = SAMPLE_RATE
A4 = 440.0


def tones(freqs: list[float], seconds: float = 4.0, amp: float = 0.2) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    return (amp * sum(np.sin(2 * np.pi * f * t) for f in freqs) / len(freqs)).astype(np.float32)


def clicks(bpm: float, seconds: float = 8.0) -> np.ndarray:
    y = np.zeros(int(seconds * SR), dtype=np.float32)
    burst = (np.random.default_rng(0).standard_normal(200) * np.hanning(200)).astype(np.float32)
    for start in np.arange(0.0, seconds - 0.1, 60.0 / bpm):
        i = int(start * SR)
        y[i : i + burst.size] += 0.8 * burst
    return y


def midi_hz(note: int) -> float:
    return 440.0 * 2 ** ((note - 69) / 12)


def feats(y: np.ndarray) -> dict[str, float]:
    return dict(zip(FEATURE_NAMES, describe_waveform(y).tolist()))


def test_registered_with_interface() -> None:
    enc = get_encoder("audio-stats")
    assert isinstance(enc, AudioStatsEncoder)
    assert enc.modality == "audio" and enc.dim == len(FEATURE_NAMES) == len(set(FEATURE_NAMES))
    assert enc.input_spec == InputSpec("audio", sample_rate=16000)
    assert enc.key == "audio-stats@1"


def test_pure_tone_is_bright_at_its_pitch_class() -> None:
    f = feats(tones([A4]))
    chroma = [f[f"chroma_{i}_mean"] for i in range(12)]
    assert int(np.argmax(chroma)) == 9  # A
    assert f["centroid_mean"] == pytest.approx(0.44, abs=0.05)  # kHz
    assert f["flatness_mean"] < 0.01
    assert f["rms_mean"] == pytest.approx(0.2 / np.sqrt(2), rel=0.05)


def test_white_noise_is_flat_and_bright() -> None:
    y = (0.1 * np.random.default_rng(1).standard_normal(4 * SR)).astype(np.float32)
    f = feats(y)
    assert f["flatness_mean"] > 0.3
    assert f["centroid_mean"] > 3.0


def test_loudness_scales_rms_not_timbre() -> None:
    quiet, loud = feats(tones([A4], amp=0.05)), feats(tones([A4], amp=0.5))
    assert loud["rms_mean"] == pytest.approx(10 * quiet["rms_mean"], rel=1e-3)
    assert loud["centroid_mean"] == pytest.approx(quiet["centroid_mean"], rel=1e-3)


@pytest.mark.parametrize(("third", "sign"), [(4, 1.0), (3, -1.0)])
def test_mode_score_tells_major_from_minor(third: int, sign: float) -> None:
    root = 57  # A3
    f = feats(tones([midi_hz(root), midi_hz(root + third), midi_hz(root + 7), midi_hz(root + 12)]))
    assert np.sign(f["mode_score"]) == sign
    assert f["key_clarity"] > 0.5


def test_key_profile_correlations_find_the_key() -> None:
    profile = np.zeros(12)
    profile[[0, 2, 4, 5, 7, 9, 11]] = 1.0  # C major scale
    profile[[0, 4, 7]] += 1.0  # tonic triad
    corr = key_profile_correlations(profile)
    assert corr.shape == (24,) and int(np.argmax(corr)) == 0
    np.testing.assert_array_equal(key_profile_correlations(np.ones(12)), np.zeros(24))


@pytest.mark.parametrize("bpm", [90.0, 120.0])
def test_click_track_tempo_and_pulse(bpm: float) -> None:
    f = feats(clicks(bpm))
    assert f["tempo"] * 100 == pytest.approx(bpm, rel=0.06)
    assert f["onset_rate"] == pytest.approx(bpm / 60, rel=0.2)
    noise = (0.1 * np.random.default_rng(2).standard_normal(8 * SR)).astype(np.float32)
    assert f["pulse_clarity"] > 0.5 > feats(noise)["pulse_clarity"]


def test_pulse_clarity_edge_cases() -> None:
    assert pulse_clarity(np.zeros(100)) == 0.0
    assert pulse_clarity(np.ones(3)) == 0.0


def test_silence_is_finite() -> None:
    f = describe_waveform(np.zeros(2 * SR, dtype=np.float32))
    assert f.shape == (len(FEATURE_NAMES),) and np.isfinite(f).all()


@pytest.mark.parametrize(
    ("y", "error"),
    [
        (np.zeros(SR // 2, dtype=np.float32), TooShortMediaError),
        (np.full(2 * SR, np.nan, dtype=np.float32), InvalidValueError),
        (np.zeros((2, 2 * SR), dtype=np.float32), InvalidValueError),
        (np.zeros(2 * SR, dtype=np.int16), InvalidValueError),
    ],
    ids=["too-short", "nan", "stereo", "integer"],
)
def test_bad_waveforms(y: np.ndarray, error: type[Exception]) -> None:
    with pytest.raises(error):
        describe_waveform(y)


def test_embed_batch_checks_its_input() -> None:
    enc = AudioStatsEncoder()
    with pytest.raises(InvalidValueError):
        enc.embed_batch([])
    with pytest.raises(InvalidValueError):
        enc.embed_batch([np.zeros(3, dtype=np.float32)])


def test_embed_file_matches_describe(tmp_path: Path) -> None:
    y = tones([A4, 554.37, 659.26])
    path = tmp_path / "chord.wav"
    sf.write(path, y, SR, subtype="FLOAT")
    out = AudioStatsEncoder().embed([path])
    assert out.features.shape == (1, len(FEATURE_NAMES))
    np.testing.assert_allclose(out.features[0], describe_waveform(y), rtol=1e-4, atol=1e-5)
