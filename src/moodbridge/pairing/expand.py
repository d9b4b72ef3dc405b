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
Steps 1-4 measure (:mod:`moodbridge.pairing.alignment`), step 4's selection over many
tracks is this module, step 5 writes (:mod:`moodbridge.pairing.cut`).

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
5. :func:`~moodbridge.pairing.cut.cut_clip` / :func:`~moodbridge.pairing.cut.cut_candidates` write the new clips (WAV or FLAC,
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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from moodbridge.errors import (
    InvalidValueError,
    MediaError,
    MoodbridgeError,
    TooShortMediaError,
)
from moodbridge.media import decode_audio
from moodbridge.pairing.alignment import (
    BANDWIDTH,
    CENS_SMOOTHING,
    DEFAULT_HOP_LENGTH,
    DEFAULT_HOP_S,
    DEFAULT_SAMPLE_RATE,
    DEFAULT_THRESHOLD,
    DEFAULT_WINDOW_S,
    GAP_EXTEND,
    GAP_ONSET,
    MIN_CLIP_S,
    Alignment,
    AudioFeatures,
    Match,
    alignment_score,
    audio_features,
    check_positive,
    check_threshold,
    cross_similarity,
    find_matches,
    score_windows,
    track_upper_bound,
    window_starts,
)
from moodbridge.pairing.cut import (
    CUT_FORMATS,
    Candidate,
    ClipProvenance,
    clip_name,
    cut_candidates,
    cut_clip,
)

#: the expansion's API: the scan here, the measuring in :mod:`~moodbridge.pairing.alignment`, the writing in
#: :mod:`~moodbridge.pairing.cut`
__all__ = [
    "BANDWIDTH",
    "CENS_SMOOTHING",
    "CUT_FORMATS",
    "DEFAULT_HOP_LENGTH",
    "DEFAULT_HOP_S",
    "DEFAULT_SAMPLE_RATE",
    "DEFAULT_THRESHOLD",
    "DEFAULT_WINDOW_S",
    "GAP_EXTEND",
    "GAP_ONSET",
    "MIN_CLIP_S",
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

logger = logging.getLogger(__name__)

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

    threshold = check_threshold(threshold)
    check_positive("window_s", window_s)
    check_positive("hop_s", hop_s)
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
