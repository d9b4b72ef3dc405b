"""musicnn's input representation: 16 kHz waveform -> log-mel -> 3 s patches.

Follows ``musicnn.extractor.batch_data`` (Pons & Serra, 2019) with librosa
0.11: a 512-point STFT (hann window, ``center=True`` zero padding, hop 256),
power 2, 96 Slaney mel bands up to 8 kHz, then ``log10(10000 * S + 1)`` — all
in float32.  musicnn's own extractor casts ``S`` to float16 first; under
NumPy >= 2 the product ``10000 * S`` then stays float16 and overflows to
``inf`` wherever ``S > 6.55``.  That bug is deliberately not reproduced.

Patches are 187 frames (3 s) long with hop 187, starting at frame 0; the
incomplete tail is dropped.
"""
from __future__ import annotations

import numpy as np

from moodbridge.errors import InvalidValueError

__all__ = ["FFT_HOP", "FFT_SIZE", "N_FRAMES", "N_MELS", "SAMPLE_RATE", "log_mel", "min_samples", "patches"]

SAMPLE_RATE = 16000
FFT_SIZE = 512
FFT_HOP = 256
N_MELS = 96
#: frames per patch: ``librosa.time_to_frames(3, sr=16000, n_fft=512, hop_length=256) + 1``
N_FRAMES = 187


def min_samples(n_frames: int = N_FRAMES) -> int:
    """Fewest samples that give ``n_frames`` centred frames (``1 + len // 256``)."""
    return (n_frames - 1) * FFT_HOP


def log_mel(waveform: np.ndarray) -> np.ndarray:
    """Log-compressed mel spectrogram as musicnn's models expect it.

    Parameters
    ----------
    waveform
        Mono float audio at 16 kHz, shape ``(n,)``.

    Returns
    -------
    np.ndarray
        ``(1 + n // 256, 96)`` float32, time x mel: ``log10(10000 * S + 1)``.

    Raises
    ------
    InvalidValueError
        If the waveform is not 1-D, is empty or holds NaN or inf.
    """
    import librosa  # heavy import, deferred

    y = np.asarray(waveform)
    if y.ndim != 1:
        raise InvalidValueError(f"musicnn needs a mono 1-D waveform, got shape {y.shape}")
    if y.size == 0:
        raise InvalidValueError("musicnn got an empty waveform")
    if not np.issubdtype(y.dtype, np.floating):
        raise InvalidValueError(f"musicnn needs a float waveform, got dtype {y.dtype}")
    y = np.ascontiguousarray(y, dtype=np.float32)
    if not np.isfinite(y).all():
        raise InvalidValueError("the waveform holds NaN or infinite samples")
    mel = librosa.feature.melspectrogram(
        y=y, sr=SAMPLE_RATE, n_fft=FFT_SIZE, hop_length=FFT_HOP, n_mels=N_MELS
    ).T  # float32; Slaney mel scale and norm, fmax = sr / 2
    mel = np.asarray(mel, dtype=np.float32)
    return np.log10(np.float32(10000) * mel + np.float32(1)).astype(np.float32, copy=False)


def patches(logmel: np.ndarray, n_frames: int = N_FRAMES) -> np.ndarray:
    """Cut a log-mel spectrogram into non-overlapping patches, dropping the tail.

    Parameters
    ----------
    logmel
        ``(frames, 96)`` log-mel spectrogram.
    n_frames
        Patch length in frames (187 = 3 s).

    Returns
    -------
    np.ndarray
        ``(frames // n_frames, n_frames, 96)`` float32, C-contiguous; ``P = 0``
        when the spectrogram is shorter than one patch.
    """
    logmel = np.asarray(logmel, dtype=np.float32)
    if logmel.ndim != 2:
        raise InvalidValueError(f"log-mel must be 2-D (frames, mels), got shape {logmel.shape}")
    count = logmel.shape[0] // n_frames
    return np.ascontiguousarray(logmel[: count * n_frames].reshape(count, n_frames, logmel.shape[1]))
