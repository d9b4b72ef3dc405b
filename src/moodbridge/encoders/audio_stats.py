"""Hand-crafted audio descriptors (timbre, harmony, dynamics, rhythm) with librosa.

The classic features of music emotion recognition (Panda et al., 2018, sec. 3
review them): frame-level descriptors summarised over a clip by their mean and
standard deviation.  They complement a learned tagger such as musicnn with
explicit cues for valence (mode, consonance through the tonal centroids,
brightness) and arousal (loudness, its dynamics, onset rate, tempo).

Audio is analysed mono at 16 kHz (:data:`SAMPLE_RATE`), the rate of musicnn,
so a library decodes each file once for both encoders.  Frames are 2048
samples (128 ms) with a hop of 512 (32 ms).

Descriptors, in the order of :data:`FEATURE_NAMES` (``_mean`` / ``_std`` are
over frames):

* ``mfcc_00..19`` mean and std: 20 MFCCs of a 128-band mel spectrogram;
* ``chroma_0..11`` mean and std: STFT chroma (A440 tuning), each frame normalised to max 1;
* ``contrast_0..6`` mean and std: spectral contrast in 6 octave bands + valley;
* ``tonnetz_0..5`` mean and std: tonal centroids (Harte et al., 2006) of the chroma;
* ``centroid``, ``bandwidth``, ``rolloff`` (85 %), ``flatness``, ``zcr``,
  ``rms`` mean and std (the first three in kHz);
* ``rms_db_range``: 95th minus 5th percentile of the frame loudness in dB
  (dynamic range); ``low_energy``: fraction of frames below the mean RMS;
* ``onset_mean``, ``onset_std``: onset strength envelope; ``onset_rate``:
  detected onsets per second (at least 100 ms apart);
* ``tempo`` (BPM / 100) and ``pulse_clarity``: the tempo estimate and the
  height of the largest peak of the onset autocorrelation (0..1);
* ``key_clarity``: the best Pearson correlation of the mean chroma with the 24
  Krumhansl-Kessler key profiles; ``mode_score``: best major minus best minor
  correlation (> 0 leans major).

References
----------
R. Panda, R. Malheiro and R. P. Paiva, "Novel audio features for music emotion
recognition", *IEEE Trans. Affective Computing* 11(4), 2018.

B. McFee et al., "librosa: Audio and music signal analysis in Python",
*Proc. SciPy*, 2015.

C. Harte, M. Sandler and M. Gasser, "Detecting harmonic change in musical
audio", *ACM Workshop on Audio and Music Computing Multimedia*, 2006.

C. L. Krumhansl, *Cognitive Foundations of Musical Pitch*, Oxford UP, 1990.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from moodbridge.encoders.base import Encoder, EncoderOutput, InputSpec, Modality, register
from moodbridge.errors import InvalidValueError, TooShortMediaError

__all__ = ["FEATURE_NAMES", "SAMPLE_RATE", "AudioStatsEncoder", "describe_waveform"]

#: analysis rate (Hz): musicnn's, so one decode serves both encoders
SAMPLE_RATE = 16000
N_FFT = 2048
HOP = 512
N_MFCC = 20
#: shortest clip analysed: one second
MIN_SECONDS = 1.0
#: frames between two detected onsets at least (about 100 ms)
ONSET_WAIT = 3

_MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
_MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])


def _mean_std_names(prefix: str, n: int, width: int = 1) -> list[str]:
    cols = [f"{prefix}_{i:0{width}d}" for i in range(n)]
    return [f"{c}_mean" for c in cols] + [f"{c}_std" for c in cols]


_SCALAR_FRAMEWISE = ("centroid", "bandwidth", "rolloff", "flatness", "zcr", "rms")

#: the descriptors, in the order of the feature vector
FEATURE_NAMES: tuple[str, ...] = (
    *_mean_std_names("mfcc", N_MFCC, 2),
    *_mean_std_names("chroma", 12),
    *_mean_std_names("contrast", 7),
    *_mean_std_names("tonnetz", 6),
    *(f"{n}_{s}" for n in _SCALAR_FRAMEWISE for s in ("mean", "std")),
    "rms_db_range", "low_energy", "onset_mean", "onset_std", "onset_rate",
    "tempo", "pulse_clarity", "key_clarity", "mode_score",
)  # fmt: skip


def _mean_std(frames: np.ndarray) -> np.ndarray:
    """Concatenated per-row mean and standard deviation of ``(k, T)`` frame features."""
    return np.concatenate([frames.mean(axis=1), frames.std(axis=1)])


def key_profile_correlations(chroma_mean: np.ndarray) -> np.ndarray:
    """Pearson correlation of a 12-bin chroma profile with the 24 Krumhansl-Kessler key profiles.

    Returns
    -------
    np.ndarray
        ``(24,)``: C..B major, then C..B minor; zeros for a flat profile.
    """
    profiles = np.stack([np.roll(p, k) for p in (_MAJOR, _MINOR) for k in range(12)])
    x = chroma_mean - chroma_mean.mean()
    y = profiles - profiles.mean(axis=1, keepdims=True)
    denom = np.linalg.norm(x) * np.linalg.norm(y, axis=1)
    if np.linalg.norm(x) < 1e-12:
        return np.zeros(24)
    return (y @ x) / denom


def pulse_clarity(onset_env: np.ndarray) -> float:
    """Largest peak of the normalised onset autocorrelation at lags of 0.25 to 2 s (0..1)."""
    env = onset_env - onset_env.mean()
    if env.size < 4 or not np.any(env):
        return 0.0
    ac = np.correlate(env, env, mode="full")[env.size - 1 :]
    ac = ac / ac[0]
    frame_s = HOP / SAMPLE_RATE
    lo, hi = int(0.25 / frame_s), min(int(2.0 / frame_s), ac.size - 1)
    if hi <= lo:
        return 0.0
    return float(np.clip(ac[lo : hi + 1].max(), 0.0, 1.0))


def describe_waveform(y: np.ndarray, *, source: str = "<audio>") -> np.ndarray:
    """All descriptors of a mono 16 kHz waveform.

    Parameters
    ----------
    y
        Mono float waveform at :data:`SAMPLE_RATE`.
    source
        Where it came from, for error messages.

    Returns
    -------
    np.ndarray
        ``(len(FEATURE_NAMES),)`` float32, finite (digital silence gives zeros
        for the undefined descriptors).

    Raises
    ------
    TooShortMediaError
        If the audio is shorter than :data:`MIN_SECONDS`.
    InvalidValueError
        If the waveform is not 1-D float, or holds NaN or inf.
    """
    import librosa

    y = np.asarray(y)
    if y.ndim != 1 or not np.issubdtype(y.dtype, np.floating):
        raise InvalidValueError(f"{source}: audio-stats needs a mono float waveform, got {y.dtype} {y.shape}")
    if not np.isfinite(y).all():
        raise InvalidValueError(f"{source}: the waveform holds NaN or infinite samples")
    if y.size < MIN_SECONDS * SAMPLE_RATE:
        raise TooShortMediaError(source, f"audio-stats needs at least {MIN_SECONDS:g} s, got {y.size / SAMPLE_RATE:.2f} s")
    y = y.astype(np.float32, copy=False)
    sr = SAMPLE_RATE
    S = np.abs(librosa.stft(y, n_fft=N_FFT, hop_length=HOP))
    power = S**2
    mel = librosa.feature.melspectrogram(S=power, sr=sr, n_mels=128)
    mfcc = librosa.feature.mfcc(S=librosa.power_to_db(mel), n_mfcc=N_MFCC)
    chroma = librosa.feature.chroma_stft(S=power, sr=sr, tuning=0.0)
    contrast = librosa.feature.spectral_contrast(S=S, sr=sr)
    tonnetz = librosa.feature.tonnetz(sr=sr, chroma=chroma)
    rms = librosa.feature.rms(y=y, frame_length=N_FFT, hop_length=HOP)[0][: S.shape[1]]
    scalars = np.stack([
        librosa.feature.spectral_centroid(S=S, sr=sr)[0] / 1000.0,
        librosa.feature.spectral_bandwidth(S=S, sr=sr)[0] / 1000.0,
        librosa.feature.spectral_rolloff(S=S, sr=sr, roll_percent=0.85)[0] / 1000.0,
        librosa.feature.spectral_flatness(S=S)[0],
        librosa.feature.zero_crossing_rate(y, frame_length=N_FFT, hop_length=HOP)[0][: S.shape[1]],
        rms,
    ])  # fmt: skip
    scalar_stats = np.stack([scalars.mean(axis=1), scalars.std(axis=1)], axis=1).reshape(-1)
    rms_db = librosa.amplitude_to_db(rms, ref=1.0, top_db=None)
    onset_env = librosa.onset.onset_strength(S=librosa.power_to_db(mel), sr=sr, hop_length=HOP)
    onsets = librosa.onset.onset_detect(onset_envelope=onset_env, sr=sr, hop_length=HOP, wait=ONSET_WAIT)
    duration = y.size / sr
    silent = not np.any(onset_env)
    tempo = 0.0 if silent else float(np.atleast_1d(librosa.feature.tempo(onset_envelope=onset_env, sr=sr, hop_length=HOP))[0])
    corr = key_profile_correlations(chroma.mean(axis=1))
    rest = np.array([
        float(np.percentile(rms_db, 95) - np.percentile(rms_db, 5)),
        float(np.mean(rms < rms.mean())) if rms.any() else 0.0,
        float(onset_env.mean()), float(onset_env.std()), onsets.size / duration,
        tempo / 100.0, pulse_clarity(onset_env),
        float(corr.max()), float(corr[:12].max() - corr[12:].max()),
    ])  # fmt: skip
    features = np.concatenate([
        _mean_std(mfcc), _mean_std(chroma), _mean_std(contrast), _mean_std(tonnetz), scalar_stats, rest,
    ]).astype(np.float32)  # fmt: skip
    features = np.nan_to_num(features, nan=0.0, posinf=0.0, neginf=0.0)  # silence: undefined ratios → 0
    return features


class AudioStatsEncoder(Encoder):
    """librosa descriptors of a clip (see the module docstring for each feature)."""

    name: ClassVar[str] = "audio-stats"
    version: ClassVar[str] = "1"
    modality: ClassVar[Modality] = "audio"
    dim: ClassVar[int] = len(FEATURE_NAMES)
    extra_labels: ClassVar[dict[str, list[str]]] = {}
    batch_size: ClassVar[int] = 16
    description: ClassVar[str] = (
        "hand-crafted audio descriptors (MFCC, chroma, spectral contrast, tonnetz, loudness, onsets, "
        "tempo, key clarity and mode) with librosa, mean and std over frames"
    )

    @property
    def input_spec(self) -> InputSpec:
        """Mono audio at 16 kHz (shared with musicnn)."""
        return InputSpec("audio", sample_rate=SAMPLE_RATE)

    def prepare(self, decoded: Any, *, source: str = "<input>") -> np.ndarray:
        """The descriptor vector of one decoded waveform (all the work happens here, in the decode threads)."""
        return describe_waveform(decoded, source=source)

    def embed_batch(self, prepared: Sequence[np.ndarray]) -> EncoderOutput:
        """Stack prepared descriptor vectors."""
        if len(prepared) == 0:
            raise InvalidValueError(f"{self.name}: empty batch")
        rows = [np.asarray(p, dtype=np.float32) for p in prepared]
        for i, row in enumerate(rows):
            if row.shape != (self.dim,):
                raise InvalidValueError(f"{self.name}: item {i} must be a ({self.dim},) vector from prepare(), got {row.shape}")
        return EncoderOutput(features=np.stack(rows))


register(AudioStatsEncoder.name, AudioStatsEncoder)
