"""How well a music clip matches each window of a full track (EMID Sec. 3.2.2, steps 1-4).

Chroma-CENS features, librosa's k-NN cross-similarity, RQA alignment scores
and the sliding windows over a track; :mod:`moodbridge.pairing.expand`
explains the method and uses these to scan many tracks, and
:mod:`moodbridge.pairing.cut` writes the clips it selects.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

from moodbridge.errors import (
    InvalidValueError,
)

#: Sample rate (Hz) at which clips and tracks are compared.
DEFAULT_SAMPLE_RATE = 22050
#: Feature hop in samples (≈ 21.5 frames per second at 22 050 Hz).
DEFAULT_HOP_LENGTH = 1024
#: CENS smoothing window in frames (≈ 1 s at the default hop).
CENS_SMOOTHING = 21
#: EMID's sliding window length (s).
DEFAULT_WINDOW_S = 5.0
#: EMID's sliding window step (s).
DEFAULT_HOP_S = 1.0
#: Alignment score at and above which a window counts as the same audio as a clip.
DEFAULT_THRESHOLD = 0.6
#: Shortest clip (s) that can be aligned meaningfully.
MIN_CLIP_S = 1.0
#: Affinity bandwidth σ of :func:`cross_similarity`, a cosine distance (see the module notes).
BANDWIDTH = 0.05
#: Gap penalties of the RQA dynamic programme (librosa's defaults).
GAP_ONSET = 1.0
GAP_EXTEND = 1.0


# ---------------------------------------------------------------------------
# features, cross-similarity, alignment
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AudioFeatures:
    """Frame features of one clip or track.

    Attributes
    ----------
    cens
        ``(12, n_frames)`` float32 chroma CENS, each column of unit L2 norm
        (silent frames are the uniform chroma).
    sample_rate
        Rate (Hz) of the audio they were computed from.
    hop_length
        Samples between frames.
    n_samples
        Length of that audio in samples.
    """

    cens: np.ndarray
    sample_rate: int
    hop_length: int
    n_samples: int

    @property
    def fps(self) -> float:
        """Frames per second."""
        return self.sample_rate / self.hop_length

    @property
    def n_frames(self) -> int:
        """Number of frames."""
        return int(self.cens.shape[1])

    @property
    def duration_s(self) -> float:
        """Duration of the audio in seconds."""
        return self.n_samples / self.sample_rate


def check_positive(name: str, value: float) -> float:
    if not np.isfinite(value) or value <= 0:
        raise InvalidValueError(f"{name} must be a positive number, got {value!r}")
    return float(value)


def check_threshold(threshold: float) -> float:
    if not np.isfinite(threshold) or not 0.0 <= threshold <= 1.0:
        raise InvalidValueError(f"threshold must lie in [0, 1], got {threshold!r}")
    return float(threshold)


def audio_features(
    audio: np.ndarray, sample_rate: int, *, hop_length: int = DEFAULT_HOP_LENGTH, name: str = "audio"
) -> AudioFeatures:
    """Chroma CENS frames of a mono waveform (step 1 of the pipeline).

    Parameters
    ----------
    audio
        ``(n,)`` mono waveform, finite.
    sample_rate
        Its rate in Hz.
    hop_length
        Samples between frames.
    name
        How error messages name the waveform.

    Returns
    -------
    AudioFeatures
        :func:`librosa.feature.chroma_cens` with ``win_len_smooth`` =
        :data:`CENS_SMOOTHING`, columns L2-normalised (``fill=True``).

    Raises
    ------
    InvalidValueError
        Not a finite 1-D waveform, or shorter than :data:`MIN_CLIP_S`.
    """
    import librosa  # lazy: librosa's import is not free

    check_positive("sample_rate", sample_rate)
    check_positive("hop_length", hop_length)
    y = np.asarray(audio, dtype=np.float32)
    if y.ndim != 1:
        raise InvalidValueError(f"{name}: expected a mono (n,) waveform, got shape {y.shape}")
    if not np.isfinite(y).all():
        raise InvalidValueError(f"{name}: the waveform contains NaN or infinite samples")
    if y.size < MIN_CLIP_S * sample_rate:
        raise InvalidValueError(
            f"{name}: {y.size / sample_rate:.2f} s of audio; at least {MIN_CLIP_S:.1f} s is needed to align it"
        )
    with warnings.catch_warnings():  # digital silence has no pitches to estimate the tuning from
        warnings.filterwarnings("ignore", message="Trying to estimate tuning from empty frequency set")
        cens = librosa.feature.chroma_cens(
            y=y, sr=int(sample_rate), hop_length=int(hop_length), win_len_smooth=CENS_SMOOTHING
        )
    cens = librosa.util.normalize(cens, norm=2, axis=0, fill=True).astype(np.float32)
    return AudioFeatures(cens=cens, sample_rate=int(sample_rate), hop_length=int(hop_length), n_samples=int(y.size))


def cross_similarity(clip: AudioFeatures, track: AudioFeatures) -> np.ndarray:
    """Affinity of every track frame to every clip frame (step 2 of the pipeline).

    The result is that of :func:`librosa.segment.cross_similarity`
    ``(clip.cens, track.cens, metric="cosine", mode="affinity",
    bandwidth=BANDWIDTH)``, computed without its general k-NN search: CENS
    frames are unit vectors, so the cosine distances to all track frames are
    one matrix product, and each clip frame keeps its ``k = min(n_track,
    2⌈√n_track⌉)`` nearest track frames (librosa's default k) with weight
    ``exp(−d / σ)``.  One difference: librosa loses a link at distance exactly
    0 (its sparse matrix drops explicit zeros, so an identical frame gets
    affinity 0); here it gets affinity 1.  Elsewhere, on real tracks, this
    equals librosa's output to 1e-5 with the same links
    (``tests/test_expand.py``), about 35× faster.

    Parameters
    ----------
    clip, track
        Features at the same sample rate and hop.

    Returns
    -------
    np.ndarray
        ``(track.n_frames, clip.n_frames)`` float32 in [0, 1]; 0 where a clip
        frame has no link.
    """
    if (clip.sample_rate, clip.hop_length) != (track.sample_rate, track.hop_length):
        raise InvalidValueError(
            f"clip and track features differ in rate/hop: {clip.sample_rate}/{clip.hop_length} "
            f"vs {track.sample_rate}/{track.hop_length}"
        )
    distance = 1.0 - track.cens.T @ clip.cens  # (n_track, n_clip) cosine distances of unit columns
    np.clip(distance, 0.0, 2.0, out=distance)
    n_track = distance.shape[0]
    k = int(min(n_track, 2 * math.ceil(math.sqrt(n_track))))
    nearest = np.argpartition(distance, k - 1, axis=0)[:k]
    linked = np.take_along_axis(distance, nearest, axis=0)
    weights = np.exp(-linked / BANDWIDTH).astype(np.float32)
    xsim = np.zeros(distance.shape, dtype=np.float32)
    np.put_along_axis(xsim, nearest, weights, axis=0)
    return xsim


@dataclass(frozen=True)
class Alignment:
    """Best local alignment of a clip inside (part of) a track.

    Attributes
    ----------
    score
        RQA best-path score divided by ``min(n_rows, n_clip)``, in [0, 1].
    offset_frames
        Median of ``row − column`` along the best path: the track frame (within
        the rows given) at which the clip's first frame falls; ``None`` when
        nothing links (score 0).
    """

    score: float
    offset_frames: float | None


def alignment_score(xsim: np.ndarray, *, locate: bool = True) -> Alignment:
    """Alignment score of a cross-similarity block by RQA (step 3 of the pipeline).

    Parameters
    ----------
    xsim
        ``(n_rows, n_clip)`` affinities in [0, 1] (rows: track frames).
    locate
        Also backtrack the best path to find where the clip starts.

    Returns
    -------
    Alignment
        ``score = max(librosa.sequence.rqa(xsim)) / min(n_rows, n_clip)``,
        clipped to [0, 1] (it can only exceed 1 by rounding: each path cell
        adds at most 1, a path has at most ``min(n_rows, n_clip)`` cells).
    """
    import librosa

    sim = np.asarray(xsim, dtype=np.float32)
    if sim.ndim != 2 or min(sim.shape) < 2:
        raise InvalidValueError(f"a cross-similarity block needs at least 2 × 2 frames, got shape {sim.shape}")
    norm = float(min(sim.shape))
    if not locate:
        dp = librosa.sequence.rqa(sim, gap_onset=GAP_ONSET, gap_extend=GAP_EXTEND, backtrack=False)
        return Alignment(score=float(np.clip(dp.max() / norm, 0.0, 1.0)), offset_frames=None)
    dp, path = librosa.sequence.rqa(sim, gap_onset=GAP_ONSET, gap_extend=GAP_EXTEND, backtrack=True)
    score = float(np.clip(dp.max() / norm, 0.0, 1.0))
    if score == 0.0 or len(path) == 0:
        return Alignment(score=score, offset_frames=None)
    steps = np.asarray(path, dtype=np.int64)  # rqa's path is unsigned: subtract in signed ints
    return Alignment(score=score, offset_frames=float(np.median(steps[:, 0] - steps[:, 1])))


# ---------------------------------------------------------------------------
# sliding windows
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Match:
    """One window of a track and how well a clip aligns with it.

    Attributes
    ----------
    start_s, end_s
        The window in the track (seconds).
    score
        Alignment score in [0, 1] (:func:`alignment_score`).
    clip_offset_s
        Where the clip's start falls in the track according to the best path
        (seconds; may lie before ``start_s`` when the clip is longer than the
        window or only its end is in the window); ``None`` when nothing links.
    """

    start_s: float
    end_s: float
    score: float
    clip_offset_s: float | None = None


def window_starts(duration_s: float, *, window_s: float = DEFAULT_WINDOW_S, hop_s: float = DEFAULT_HOP_S) -> np.ndarray:
    """Start times (s) of the full windows ``[k·hop_s, k·hop_s + window_s]`` inside a track.

    Raises
    ------
    InvalidValueError
        Non-positive window or hop.
    """
    check_positive("window_s", window_s)
    check_positive("hop_s", hop_s)
    n = int(np.floor((duration_s - window_s) / hop_s + 1e-6)) + 1
    return np.arange(max(n, 0), dtype=np.float64) * hop_s


def score_windows(
    clip: AudioFeatures,
    track: AudioFeatures,
    *,
    window_s: float = DEFAULT_WINDOW_S,
    hop_s: float = DEFAULT_HOP_S,
    xsim: np.ndarray | None = None,
    locate_above: float = 0.0,
) -> list[Match]:
    """Score every full window of a track against a clip.

    The cross-similarity is computed once against the whole track (so the
    k-NN links see the whole piece) and each window is aligned on its rows.

    Parameters
    ----------
    clip, track
        Features (:func:`audio_features`).
    window_s, hop_s
        Window length and step in seconds (EMID: 5 and 1).
    xsim
        ``cross_similarity(clip, track)`` if already computed.
    locate_above
        Backtrack the best path (to fill :attr:`Match.clip_offset_s`) only
        for windows scoring at least this much.

    Returns
    -------
    list[Match]
        One per window, in time order; empty when the track is shorter than
        one window.
    """
    sim = cross_similarity(clip, track) if xsim is None else xsim
    fps = track.fps
    win = int(round(window_s * fps))
    out = []
    for start in window_starts(track.duration_s, window_s=window_s, hop_s=hop_s):
        first = int(round(start * fps))
        block = sim[first : min(first + win, sim.shape[0])]
        if block.shape[0] < 2:
            continue
        aligned = alignment_score(block, locate=False)
        offset = None
        if aligned.score > 0 and aligned.score >= locate_above:
            aligned = alignment_score(block)
            offset = (first + aligned.offset_frames) / fps
        out.append(Match(float(start), float(start + window_s), aligned.score, offset))
    return out


def track_upper_bound(
    clip: AudioFeatures, track: AudioFeatures, xsim: np.ndarray, *, window_s: float,
    threshold: float | None = None,
) -> float:
    """Upper bound of every window score of a track, from one RQA over the whole track.

    A path inside a window is a path of the whole matrix, and RQA's local
    score at a cell can only grow with more predecessors, so
    ``max(rqa(xsim)) / min(n_window, n_clip)`` bounds every window's score:
    when it is below the threshold the windowed scan can be skipped.

    A cheaper bound comes first: every RQA move (diagonal or knight) advances
    both the row and the column, so a path inside a window holds at most
    ``norm = min(n_window, n_clip)`` cells, at most one per row and per column,
    each adding at most its affinity.  A window's score is therefore at most
    the mean of the ``norm`` largest column maxima, and of the ``norm`` largest
    row maxima.  When ``threshold`` is given and that bound is already below
    it, it is returned without running the RQA; otherwise the smaller of the
    two bounds is returned.
    """
    import librosa

    if min(xsim.shape) < 2:
        return 0.0
    norm = max(min(int(round(window_s * track.fps)), xsim.shape[0], clip.n_frames), 1)
    cheap = min(1.0, _top_sum(xsim.max(axis=0), norm) / norm, _top_sum(xsim.max(axis=1), norm) / norm)
    if threshold is not None and cheap < threshold:
        return cheap
    dp = librosa.sequence.rqa(xsim, gap_onset=GAP_ONSET, gap_extend=GAP_EXTEND, backtrack=False)
    return float(min(cheap, dp.max() / norm))


def _top_sum(values: np.ndarray, n: int) -> float:
    """Sum of the ``n`` largest entries of a 1-D array."""
    if values.size <= n:
        return float(values.sum())
    return float(np.partition(values, values.size - n)[-n:].sum())


def find_matches(
    clip_audio: np.ndarray,
    track_audio: np.ndarray,
    sr: int,
    *,
    window_s: float = DEFAULT_WINDOW_S,
    hop_s: float = DEFAULT_HOP_S,
    threshold: float = DEFAULT_THRESHOLD,
    hop_length: int = DEFAULT_HOP_LENGTH,
) -> list[Match]:
    """Windows of a track where a clip is found (EMID Sec. 3.2.2 scoring).

    Parameters
    ----------
    clip_audio, track_audio
        Mono waveforms at ``sr`` (e.g. from :func:`moodbridge.media.decode`).
    sr
        Their sample rate; :data:`DEFAULT_SAMPLE_RATE` is what the default
        threshold was measured at.
    window_s, hop_s
        Sliding window length and step in seconds (EMID: 5 s, 1 s).
    threshold
        Minimum alignment score of a match; 0 returns every window.
    hop_length
        Feature hop in samples.

    Returns
    -------
    list[Match]
        Windows scoring at least ``threshold``, in time order, each with the
        clip's estimated offset in the track.  ``max(matches, key=score)`` is
        where the clip sits; its ``clip_offset_s`` is its start.

    Raises
    ------
    InvalidValueError
        Bad parameters or waveforms (see :func:`audio_features`).
    """
    threshold = check_threshold(threshold)
    clip = audio_features(clip_audio, sr, hop_length=hop_length, name="clip")
    track = audio_features(track_audio, sr, hop_length=hop_length, name="track")
    windows = score_windows(clip, track, window_s=window_s, hop_s=hop_s, locate_above=threshold)
    return [m for m in windows if m.score >= threshold]
