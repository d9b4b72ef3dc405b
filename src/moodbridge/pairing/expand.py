"""EMID music expansion (Sec. 3.2.2): new clips cut from the full tracks of library clips.

EMID fetched the full ("integral") track behind each of its ~5 s music clips,
computed with librosa "the cross-similarity matrix between the music clips in
the existing dataset and original music tracks by employing a sliding window
approach with a length of 5 seconds and a step size of 1 second", turned it
into "the similarity score (ranged from 0 to 1)" by dynamic programming, and
selected new clips with a manually set threshold, "primarily aiming to differ
from the original ones in terms of auditory content while reserving similar
affectivity"; a new clip inherits the label of its source clip.

How the threshold is used
-------------------------
A window of a clip's own track that scores **high** is the clip itself (or a
repeat of it: a chorus, a loop) - it adds nothing new, so it is **dropped**.
The new clips are the windows that score **below** the threshold: they sound
different from the library clip, and the emotion is carried over because they
come from the same piece (EMID assigns "the same labels as the corresponding
source samples").  The same threshold also decides which track a clip belongs
to (the clip is located in the track where some window scores at or above
it), which replaces EMID's music-recognition API when the track ↔ clip
correspondence is not given: a track in which no library clip is found has no
emotion to inherit and yields nothing.

Pipeline (every step documented on its function)
------------------------------------------------
1. :func:`audio_features` - chroma energy-normalised statistics (CENS, Müller
   & Ewert 2011, via :func:`librosa.feature.chroma_cens`) at 22 050 Hz with a
   hop of 1024 samples (≈ 21.5 frames/s), smoothed over 21 frames (≈ 1 s).
   CENS was designed for audio matching: it follows the harmony and melody,
   ignores loudness and is robust to timbre and re-encoding, so a clip and the
   track it was cut from (or another master of it) produce the same sequence.
2. :func:`cross_similarity` - the affinity of
   :func:`librosa.segment.cross_similarity` of the clip against the whole
   track, as in librosa's cross-similarity and RQA examples (McFee et al.,
   librosa): cosine metric, ``mode="affinity"``, each clip frame linked to its
   k nearest track frames (librosa's ``k = 2⌈√n_track⌉``) with weight
   ``exp(−d / σ)``; computed here with one matrix product (equal to librosa's
   to 1e-5, see the function).  σ is a fixed cosine
   distance, :data:`BANDWIDTH` = 0.05, rather than librosa's default median
   k-NN distance: a relative σ makes the same clip score differently in a
   homogeneous and a varied track.  On the same clips of 12 orchestral tracks the fixed σ
   raised the worst true match (0.72 → 0.75) and
   lowered the worst unrelated score (0.48 → 0.39).
3. :func:`alignment_score` - :func:`librosa.sequence.rqa` (recurrence
   quantification analysis, a local-alignment dynamic programme over diagonal
   and knight moves; gap onset and extension penalties 1, librosa's defaults)
   on the rows of one window.  Each cell of a path adds its affinity (≤ 1) and
   a path visits at most ``min(n_window, n_clip)`` cells, so

       ``score = max(RQA score matrix) / min(n_window, n_clip)``  ∈ [0, 1]

   is 1 when every frame of the shorter of the two is matched to its nearest
   neighbour at distance 0 along a contiguous diagonal, and 0 when no frame
   links.  (For EMID's ~5 s clips and 5 s windows the two lengths coincide, so
   this is "normalised by the clip length".)  The best path also gives where
   the clip starts in the track (:attr:`Match.clip_offset_s`).
4. Windows of ``window_s`` = 5 s every ``hop_s`` = 1 s over the track
   (:func:`find_matches`); :func:`expand` keeps, per track, the windows that
   score below the threshold against every library clip found in it, do not
   overlap where those clips sit, and (by default) do not overlap each other.
5. :func:`cut_clip` / :func:`cut_candidates` write the new clips (WAV or FLAC,
   atomically) and return their provenance.

The default threshold (:data:`DEFAULT_THRESHOLD` = 0.6) was measured on real
music, one random clip per track, every clip against every track (best
window score):

* ``immich-memories-music`` (28 tracks, ~30 s): a 5-8 s clip scores
  0.90-0.99 (median 0.98) at its place in its own track, 0.00-0.21 (median
  0.03, p95 0.11) in the 27 others; 5 s clips 0.86-0.96 vs at most 0.19.
  Windows of its own track away from the clip span 0-0.94 (median 0.20): the
  high ones are repeats of the clip (loops), which the rule drops.
* ``wesnoth-1.16-music`` (18 orchestral tracks of 14 s-9 min, 5 s clips):
  0.78-0.96 in its own track except 0.63 for a clip inside a near-silent
  fade-out; at most 0.32 (p95 0.13) in the other 17, including two versions
  of the same theme (0.23).

0.6 lies in that gap, 0.28 above the worst unrelated score, and in the upper
half of it because a false location is the costlier error (a whole track
inherits the wrong label; a missed one only yields fewer clips).  It is also
close to EMID's hand-set per-emotion averages (0.56-0.75, Table 2) - pass
``threshold`` to tune it per emotion as EMID did.
"""
from __future__ import annotations

import logging
import math
import os
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from moodbridge.errors import (
    InvalidValueError,
    MediaError,
    MoodbridgeError,
    TooShortMediaError,
    TruncatedMediaError,
    UnsupportedMediaError,
)
from moodbridge.media import check_complete, decode_audio, sniff_format
from moodbridge.media.sniff import decoding_errors

logger = logging.getLogger(__name__)

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
#: Output formats of :func:`cut_clip`, by file suffix.
CUT_FORMATS = {".wav": "WAV", ".flac": "FLAC"}
#: Slack (s) allowed when a cut ends just past the end of the track.
_END_SLACK_S = 0.05


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


def _check_positive(name: str, value: float) -> float:
    if not np.isfinite(value) or value <= 0:
        raise InvalidValueError(f"{name} must be a positive number, got {value!r}")
    return float(value)


def _check_threshold(threshold: float) -> float:
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

    _check_positive("sample_rate", sample_rate)
    _check_positive("hop_length", hop_length)
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
    _check_positive("window_s", window_s)
    _check_positive("hop_s", hop_s)
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
    threshold = _check_threshold(threshold)
    clip = audio_features(clip_audio, sr, hop_length=hop_length, name="clip")
    track = audio_features(track_audio, sr, hop_length=hop_length, name="track")
    windows = score_windows(clip, track, window_s=window_s, hop_s=hop_s, locate_above=threshold)
    return [m for m in windows if m.score >= threshold]


# ---------------------------------------------------------------------------
# expansion over many tracks
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SourceClip:
    """A library clip whose full track may be among the tracks scanned.

    Attributes
    ----------
    id
        How results name it (a library item id, a path).
    audio
        Mono waveform at ``sample_rate``.
    sample_rate
        Its rate in Hz.
    label
        Its emotion label, inherited by the new clips (EMID).
    """

    id: str
    audio: np.ndarray = field(repr=False)
    sample_rate: int = DEFAULT_SAMPLE_RATE
    label: str | None = None

    @classmethod
    def from_path(
        cls, path: str | Path, *, id: str | None = None, label: str | None = None,
        sample_rate: int = DEFAULT_SAMPLE_RATE,
    ) -> SourceClip:
        """Decode an audio file (``MediaError`` if it cannot be read); ``id`` defaults to the path."""
        audio = decode_audio(path, sample_rate=sample_rate)
        return cls(id=str(path) if id is None else id, audio=audio, sample_rate=sample_rate, label=label)


@dataclass(frozen=True)
class Located:
    """A library clip found in a track.

    Attributes
    ----------
    clip
        The clip's id.
    score
        Its best window score in the track.
    start_s, end_s
        Where it sits in the track (from the best path; ``start_s`` may be
        negative by a fraction of a second when the clip starts the track).
    """

    clip: str
    score: float
    start_s: float
    end_s: float


@dataclass(frozen=True)
class Candidate:
    """A new clip proposed by the expansion (EMID Sec. 3.2.2).

    Attributes
    ----------
    track
        The full track to cut it from.
    start_s, end_s
        The window (seconds).
    source_clip
        Id of the library clip whose track this is; the new clip takes its label.
    label
        That clip's label.
    score
        The window's highest alignment score against the library clips found
        in the track: below the threshold, i.e. it sounds different from them.
    source_score
        How well the source clip matched the track (≥ threshold unless the
        pairing was given).
    """

    track: Path
    start_s: float
    end_s: float
    source_clip: str
    label: str | None
    score: float
    source_score: float


@dataclass
class ExpansionReport:
    """What :func:`expand` found.

    Attributes
    ----------
    candidates
        New clips, by track then time.
    located
        For each track where library clips were found: those clips, best first.
    unmatched
        Readable tracks in which no library clip was found (nothing to inherit).
    errors
        One :class:`~moodbridge.errors.MoodbridgeError` per track that could
        not be used; its message names the file.
    """

    candidates: list[Candidate] = field(default_factory=list)
    located: dict[Path, list[Located]] = field(default_factory=dict)
    unmatched: list[Path] = field(default_factory=list)
    errors: list[MoodbridgeError] = field(default_factory=list)


def _select(
    windows: Sequence[Match], sources: Sequence[Located], *, threshold: float, allow_overlap: bool
) -> list[Match]:
    """EMID's rule on one track: windows below ``threshold``, away from the sources, greedy in time."""
    chosen: list[Match] = []
    for w in windows:
        if w.score >= threshold:
            continue  # the same audio as a library clip: nothing new
        if any(w.start_s < s.end_s and s.start_s < w.end_s for s in sources):
            continue  # shares audio with a library clip even if the score is lower
        if not allow_overlap and chosen and w.start_s < chosen[-1].end_s:
            continue
        chosen.append(w)
    return chosen


def _scan_track(
    path: Path,
    clips: Sequence[SourceClip],
    features: Mapping[str, AudioFeatures],
    *,
    sample_rate: int,
    hop_length: int,
    window_s: float,
    hop_s: float,
    threshold: float,
    given: bool,
    allow_overlap: bool,
) -> tuple[list[Located], list[Candidate]]:
    """Locate the clips in one track and propose its new clips (raises MediaError)."""
    audio = decode_audio(path, sample_rate=sample_rate)
    if audio.size < window_s * sample_rate:
        raise TooShortMediaError(path, f"{audio.size / sample_rate:.1f} s long, shorter than one {window_s:g} s window")
    track = audio_features(audio, sample_rate, hop_length=hop_length, name=str(path))
    by_clip: dict[str, tuple[SourceClip, list[Match]]] = {}
    located: list[Located] = []
    for clip in clips:
        feats = features[clip.id]
        xsim = cross_similarity(feats, track)
        if not given and track_upper_bound(feats, track, xsim, window_s=window_s, threshold=threshold) < threshold:
            continue
        windows = score_windows(feats, track, window_s=window_s, hop_s=hop_s, xsim=xsim, locate_above=threshold)
        best = max(windows, key=lambda m: m.score)
        if best.score < threshold and not given:
            continue
        by_clip[clip.id] = (clip, windows)
        if best.clip_offset_s is not None:
            located.append(Located(clip.id, best.score, best.clip_offset_s, best.clip_offset_s + feats.duration_s))
    if not by_clip:
        return [], []
    located.sort(key=lambda s: -s.score)
    ids = list(by_clip)
    scores = np.array([[m.score for m in by_clip[i][1]] for i in ids])  # (n_sources, n_windows)
    merged = [
        Match(w.start_s, w.end_s, float(scores[:, k].max()))
        for k, w in enumerate(by_clip[ids[0]][1])
    ]
    source, windows = max(by_clip.values(), key=lambda cw: max(m.score for m in cw[1]))
    source_score = max(m.score for m in windows)
    chosen = _select(merged, located, threshold=threshold, allow_overlap=allow_overlap)
    return located, [
        Candidate(path, w.start_s, w.end_s, source.id, source.label, w.score, source_score) for w in chosen
    ]


def expand(
    clips: Sequence[SourceClip],
    tracks: Iterable[str | Path],
    *,
    pairs: Mapping[str | Path, Sequence[str]] | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    window_s: float = DEFAULT_WINDOW_S,
    hop_s: float = DEFAULT_HOP_S,
    sample_rate: int = DEFAULT_SAMPLE_RATE,
    hop_length: int = DEFAULT_HOP_LENGTH,
    allow_overlap: bool = False,
    progress: bool = True,
) -> ExpansionReport:
    """Propose new clips from full tracks, EMID-style (Sec. 3.2.2).

    For each track (a tqdm bar counts them):

    1. find the library clips it contains: those with a window scoring at
       least ``threshold`` (a one-pass RQA bound over the whole track skips
       hopeless clip/track pairs first).  With ``pairs`` the correspondence is
       given instead, as EMID's recognition API gave it, and only the paired
       clips are scored;
    2. score every ``window_s`` window (step ``hop_s``) against each of them
       and keep the windows whose **highest** score is **below** ``threshold``
       (they "differ from the original ones in terms of auditory content"),
       that do not overlap where a library clip sits in the track, and - unless
       ``allow_overlap`` - that do not overlap an earlier kept window (greedy
       in time order);
    3. label them with the best-matching clip's label ("assigned the same
       labels as the corresponding source samples").

    Parameters
    ----------
    clips
        Library clips (ids must be unique), at ``sample_rate``.
    tracks
        Full tracks (any audio format :mod:`moodbridge.media` reads).
    pairs
        Optional ``track path -> clip ids`` correspondence; tracks not in it
        are then skipped.
    threshold
        Alignment score separating "the same audio" (≥) from "different" (<).
    window_s, hop_s
        EMID's sliding window: 5 s every 1 s.
    sample_rate, hop_length
        Analysis rate and feature hop.
    allow_overlap
        Keep overlapping windows (every 1 s) instead of disjoint ones.
    progress
        Show a progress bar over the tracks.

    Returns
    -------
    ExpansionReport
        Candidates, where clips were located, unmatched tracks and per-track
        errors.  An unreadable track is logged (one warning naming it) and
        recorded in ``errors``; the scan carries on with the others.

    Raises
    ------
    InvalidValueError
        Bad parameters, duplicate clip ids, a clip at another sample rate,
        too short or not finite, or ``pairs`` naming an unknown clip.
    """
    from tqdm.auto import tqdm

    threshold = _check_threshold(threshold)
    _check_positive("window_s", window_s)
    _check_positive("hop_s", hop_s)
    ids = [c.id for c in clips]
    if len(set(ids)) != len(ids):
        raise InvalidValueError("source clip ids must be unique")
    for c in clips:
        if c.sample_rate != sample_rate:
            raise InvalidValueError(f"clip {c.id}: sampled at {c.sample_rate} Hz, the scan runs at {sample_rate} Hz")
    features = {c.id: audio_features(c.audio, sample_rate, hop_length=hop_length, name=f"clip {c.id}") for c in clips}
    by_id = {c.id: c for c in clips}
    paired: dict[Path, list[SourceClip]] | None = None
    if pairs is not None:
        paired = {}
        for track, wanted in pairs.items():
            unknown = [i for i in wanted if i not in by_id]
            if unknown:
                raise InvalidValueError(f"pairs for {track}: unknown clip ids {unknown}")
            paired[Path(track)] = [by_id[i] for i in wanted]

    report = ExpansionReport()
    track_list = [Path(t) for t in tracks]
    for path in tqdm(track_list, desc="expand", unit="track", disable=not progress, leave=False):
        if paired is not None and path not in paired:
            continue
        try:
            located, found = _scan_track(
                path, clips if paired is None else paired[path], features,
                sample_rate=sample_rate, hop_length=hop_length, window_s=window_s, hop_s=hop_s,
                threshold=threshold, given=paired is not None, allow_overlap=allow_overlap,
            )
        except MediaError as err:
            logger.warning("skipping track: %s", err)
            report.errors.append(err)
            continue
        if not located and not found:
            report.unmatched.append(path)
            continue
        report.located[path] = located
        report.candidates.extend(found)
    return report


# ---------------------------------------------------------------------------
# cutting
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ClipProvenance:
    """Where a cut clip comes from.

    Attributes
    ----------
    path
        The written clip.
    track
        The full track it was cut from.
    start_s, end_s
        The span of the track (seconds).
    source_clip
        The library clip whose track it is (``None`` for a plain cut).
    score
        The window's alignment score against the library clips (``None`` for a plain cut).
    label
        The inherited label.
    sample_rate, channels
        Of the written file (the track's own, unresampled).
    """

    path: Path
    track: Path
    start_s: float
    end_s: float
    source_clip: str | None = None
    score: float | None = None
    label: str | None = None
    sample_rate: int = 0
    channels: int = 0

    def to_dict(self) -> dict[str, object]:
        """JSON-ready fields (paths as strings)."""
        out = asdict(self)
        out["path"], out["track"] = str(self.path), str(self.track)
        return out


def cut_clip(
    track_path: str | Path,
    start_s: float,
    end_s: float,
    out_path: str | Path,
    *,
    source_clip: str | None = None,
    score: float | None = None,
    label: str | None = None,
) -> ClipProvenance:
    """Write ``[start_s, end_s)`` of a track to a WAV or FLAC file, atomically.

    The track is read at its own rate with all its channels (no resampling),
    the span is written to a temporary file next to ``out_path`` which is then
    renamed over it, so ``out_path`` is either absent or complete.

    Parameters
    ----------
    track_path
        Any audio file :mod:`moodbridge.media` reads.
    start_s, end_s
        The span in seconds; ``end_s`` may pass the end by 50 ms (clamped).
    out_path
        ``.wav`` (16-bit PCM) or ``.flac`` (16-bit); its folder is created.
    source_clip, score, label
        Provenance to record (:class:`Candidate` fields).

    Returns
    -------
    ClipProvenance

    Raises
    ------
    InvalidValueError
        Unknown output suffix, or a span that is empty or outside the track.
    MediaError
        The track cannot be read.
    """
    import soundfile as sf

    track_path, out_path = Path(track_path), Path(out_path)
    fmt_name = CUT_FORMATS.get(out_path.suffix.lower())
    if fmt_name is None:
        raise InvalidValueError(f"{out_path}: clips are written as {sorted(CUT_FORMATS)}, not {out_path.suffix!r}")
    fmt = sniff_format(track_path)
    if fmt.modality != "audio":
        raise UnsupportedMediaError(track_path, f"is {fmt.label}, not audio")
    check_complete(track_path, fmt)
    with decoding_errors(track_path, f"cannot read {fmt.label}"):
        info = sf.info(str(track_path))
    rate, frames, channels = info.samplerate, info.frames, info.channels
    duration = frames / rate if rate else 0.0
    if not (0.0 <= start_s < end_s) or start_s >= duration or end_s > duration + _END_SLACK_S:
        raise InvalidValueError(f"{track_path}: cannot cut [{start_s:.2f}, {end_s:.2f}] s from a {duration:.2f} s track")
    first, last = int(round(start_s * rate)), min(int(round(end_s * rate)), frames)
    with decoding_errors(track_path, f"cannot decode {fmt.label}"), sf.SoundFile(str(track_path)) as f:
        f.seek(first)
        data = f.read(last - first, dtype="float32", always_2d=True)
    if data.shape[0] != last - first:
        raise TruncatedMediaError(track_path, f"decoded {data.shape[0]} of the {last - first} frames to cut")
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_name(f".{out_path.stem}.{os.getpid()}.tmp{out_path.suffix}")
    try:
        sf.write(str(tmp), data, rate, format=fmt_name, subtype="PCM_16")
        os.replace(tmp, out_path)
    finally:
        tmp.unlink(missing_ok=True)
    return ClipProvenance(
        path=out_path, track=track_path, start_s=first / rate, end_s=last / rate,
        source_clip=source_clip, score=score, label=label, sample_rate=rate, channels=channels,
    )


def clip_name(track: Path, start_s: float, end_s: float, suffix: str = ".flac") -> str:
    """File name of a cut: ``<track stem>_<start ms>-<end ms><suffix>``."""
    return f"{track.stem}_{int(round(start_s * 1000)):07d}-{int(round(end_s * 1000)):07d}{suffix}"


def cut_candidates(
    candidates: Sequence[Candidate], out_dir: str | Path, *, suffix: str = ".flac", progress: bool = True
) -> tuple[list[ClipProvenance], list[MoodbridgeError]]:
    """Cut every candidate into ``out_dir`` (:func:`clip_name`); a failed cut is logged and skipped.

    Returns
    -------
    written : list[ClipProvenance]
    errors : list[MoodbridgeError]
        One per candidate that could not be cut (its message names the track).
    """
    from tqdm.auto import tqdm

    out_dir = Path(out_dir)
    written: list[ClipProvenance] = []
    errors: list[MoodbridgeError] = []
    used: set[str] = set()
    for c in tqdm(candidates, desc="cut", unit="clip", disable=not progress, leave=False):
        name = clip_name(c.track, c.start_s, c.end_s, suffix)
        n = 1
        while name in used:  # two tracks with the same stem in different folders
            n += 1
            name = clip_name(c.track, c.start_s, c.end_s, f"_{n}{suffix}")
        used.add(name)
        try:
            written.append(cut_clip(
                c.track, c.start_s, c.end_s, out_dir / name,
                source_clip=c.source_clip, score=c.score, label=c.label,
            ))
        except MoodbridgeError as err:
            logger.warning("skipping cut: %s", err)
            errors.append(err)
    return written, errors


__all__ = [
    "CUT_FORMATS",
    "DEFAULT_HOP_LENGTH",
    "DEFAULT_HOP_S",
    "DEFAULT_SAMPLE_RATE",
    "DEFAULT_THRESHOLD",
    "DEFAULT_WINDOW_S",
    "Alignment",
    "AudioFeatures",
    "Candidate",
    "ClipProvenance",
    "ExpansionReport",
    "Located",
    "Match",
    "SourceClip",
    "alignment_score",
    "audio_features",
    "clip_name",
    "cross_similarity",
    "cut_candidates",
    "cut_clip",
    "expand",
    "find_matches",
    "score_windows",
    "track_upper_bound",
    "window_starts",
]
