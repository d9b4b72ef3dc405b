"""Benchmark: EMID music expansion (Sec. 3.2.2) against decoding and featurising the same tracks.

Data are REAL: the 28 mood-labelled tracks of the ``immich-memories-music``
package (a dependency), and with ``--wesnoth`` also the orchestral tracks of
Debian's ``wesnoth-1.16-music`` (1-4 min each) where they are installed.  The
library clips are 5 s cuts (at 20 % of the track) of the first ``--clips``
tracks, so those clips have their track among the scanned ones and the others
do not.

Baseline (same run): what any expansion must do per track, decode it at
22,050 Hz and compute its chroma-CENS frames (:func:`moodbridge.pairing.expand.
audio_features`).  Timed:

* ``expand(clips, tracks)`` - the full scan with the track ↔ clip
  correspondence unknown: every clip against every track (cross-similarity
  plus the one-pass RQA bound; the window-by-window RQA only where the bound
  passes the threshold);
* ``expand(..., pairs=...)`` - the correspondence given (as EMID's
  music-recognition API gave it): only the paired clips are scored;
* the first again with :func:`librosa.segment.cross_similarity` in place of
  the project's vectorised equivalent and without the cheap window bound
  (the implementation before sitting 3), as a second reference.

Printed: seconds, the ratio to the baseline, and the cost per clip × track pair
beyond the baseline, from which the cost at other sizes follows (it grows with
clips × tracks without ``pairs``, with the number of pairs with them).  Each
timing is the best of ``--repeat`` runs (other jobs share the machine).

Usage: python benchmarks/expand.py [--clips 10] [--tracks 28] [--wesnoth] [--repeat 2]
"""
from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path
from unittest import mock

import numpy as np

from moodbridge.pairing import expand as expand_module
from moodbridge.pairing.expand import (
    BANDWIDTH,
    DEFAULT_HOP_LENGTH,
    DEFAULT_SAMPLE_RATE,
    SourceClip,
    audio_features,
    expand,
)

WESNOTH = Path("/usr/share/games/wesnoth/1.16/data/core/music")
CLIP_S = 5.0


def real_tracks(n: int, *, wesnoth: bool) -> list[Path]:
    """The first ``n`` immich tracks (sorted), then the Wesnoth tracks if asked and installed."""
    from immich_memories_music import tracks_dir

    tracks = sorted(Path(tracks_dir()).glob("*/*.opus"))[:n]
    if wesnoth:
        if not WESNOTH.is_dir():
            raise SystemExit(f"error: --wesnoth: {WESNOTH} is absent (apt-get install wesnoth-1.16-music)")
        tracks += sorted(WESNOTH.glob("*.ogg"))
    return tracks


def clips_of(tracks: list[Path], n: int) -> list[SourceClip]:
    """A 5 s clip at 20 % of each of the first ``n`` tracks."""
    out = []
    for path in tracks[:n]:
        audio = SourceClip.from_path(path).audio
        start = int(0.2 * (audio.size - CLIP_S * DEFAULT_SAMPLE_RATE))
        out.append(SourceClip(id=path.stem, audio=audio[start:start + int(CLIP_S * DEFAULT_SAMPLE_RATE)]))
    return out


def best_of(repeat: int, run: Callable[[], object]) -> tuple[float, object]:
    """Fastest of ``repeat`` calls and the last result."""
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - start)
    return best, result


def baseline(tracks: list[Path]) -> None:
    """Decode and CENS-featurise every track (the per-track floor of any expansion)."""
    for path in tracks:
        audio = SourceClip.from_path(path).audio
        audio_features(audio, DEFAULT_SAMPLE_RATE, hop_length=DEFAULT_HOP_LENGTH, name=str(path))


def librosa_cross_similarity(clip, track) -> np.ndarray:
    """The earlier implementation: librosa's general k-NN cross-similarity (same parameters)."""
    import librosa

    with np.errstate(divide="ignore", invalid="ignore"):
        xsim = librosa.segment.cross_similarity(clip.cens, track.cens, metric="cosine", mode="affinity",
                                                bandwidth=BANDWIDTH)
    return np.nan_to_num(np.asarray(xsim, dtype=np.float32), nan=1.0, posinf=1.0, neginf=0.0)


def rqa_bound_only(clip, track, xsim, *, window_s, threshold=None) -> float:
    """The earlier bound: always the whole-track RQA (no cheap early exit)."""
    import librosa

    if min(xsim.shape) < 2:
        return 0.0
    dp = librosa.sequence.rqa(xsim, gap_onset=expand_module.GAP_ONSET, gap_extend=expand_module.GAP_EXTEND,
                              backtrack=False)
    norm = min(int(round(window_s * track.fps)), xsim.shape[0], clip.n_frames)
    return float(min(1.0, dp.max() / max(norm, 1)))


def windows(report) -> list[tuple]:
    """The proposed clips as (track, start, end, source clip)."""
    return [(c.track, c.start_s, c.end_s, c.source_clip) for c in report.candidates]


def score_gap(one, two) -> float:
    """Largest difference of window and source scores between two reports with the same windows."""
    if windows(one) != windows(two):
        return float("nan")
    return max((max(abs(a.score - b.score), abs(a.source_score - b.source_score))
                for a, b in zip(one.candidates, two.candidates)), default=0.0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clips", type=int, default=10, help="library clips, cut from the first tracks")
    ap.add_argument("--tracks", type=int, default=28, help="immich tracks to scan (at most 28)")
    ap.add_argument("--wesnoth", action="store_true", help="also scan the Wesnoth orchestral tracks")
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    tracks = real_tracks(args.tracks, wesnoth=args.wesnoth)
    if args.clips > len(tracks) or args.clips < 1:
        raise SystemExit(f"error: --clips must be between 1 and the {len(tracks)} tracks")
    clips = clips_of(tracks, args.clips)
    audio_s = sum(SourceClip.from_path(t).audio.size for t in tracks) / DEFAULT_SAMPLE_RATE
    print(f"{len(clips)} library clips of {CLIP_S:g} s; {len(tracks)} real tracks, {audio_s / 60:.1f} min of audio;"
          f" {len(clips) * len(tracks)} clip × track pairs")

    base, _ = best_of(args.repeat, lambda: baseline(tracks))
    base_paired, _ = best_of(args.repeat, lambda: baseline(tracks[: args.clips]))
    full, report = best_of(args.repeat, lambda: expand(clips, tracks, progress=False))
    pairs = {t: [t.stem] for t in tracks[: args.clips]}
    given, given_report = best_of(args.repeat, lambda: expand(clips, tracks, pairs=pairs, progress=False))

    with mock.patch.object(expand_module, "cross_similarity", librosa_cross_similarity), \
            mock.patch.object(expand_module, "track_upper_bound", rqa_bound_only):
        before, before_report = best_of(args.repeat, lambda: expand(clips, tracks, progress=False))

    # the per-pair cost that decides scale: a clip against a track it is not in (features precomputed)
    feats = [audio_features(SourceClip.from_path(t).audio, DEFAULT_SAMPLE_RATE) for t in tracks]
    clip_feats = [audio_features(c.audio, DEFAULT_SAMPLE_RATE) for c in clips]
    unrelated = [(c, f) for i, c in enumerate(clip_feats) for j, f in enumerate(feats) if i != j]

    def locate_unrelated(xsim_fn, bound_fn) -> None:
        for c, f in unrelated:
            bound_fn(c, f, xsim_fn(c, f), window_s=expand_module.DEFAULT_WINDOW_S,
                     threshold=expand_module.DEFAULT_THRESHOLD)

    per_pair, _ = best_of(args.repeat, lambda: locate_unrelated(expand_module.cross_similarity,
                                                                 expand_module.track_upper_bound))
    per_pair_before, _ = best_of(args.repeat, lambda: locate_unrelated(librosa_cross_similarity, rqa_bound_only))

    found = sum(1 for located in report.located.values() for _ in located)
    print(f"\nbaseline: decode + chroma-CENS of every track   {base:7.2f} s   ({audio_s / base:6.0f}× real time)")
    print(f"expand, correspondence unknown (all pairs)       {full:7.2f} s   {full / base:5.2f}× baseline;"
          f" {1e3 * max(full - base, 0) / (len(clips) * len(tracks)):.1f} ms per clip × track pair beyond it")
    print(f"expand, pairs given ({len(pairs)} pairs)                  {given:7.2f} s   {given / base_paired:5.2f}×"
          f" the baseline of the {len(pairs)} paired tracks ({base_paired:.2f} s)")
    print(f"earlier implementation (librosa k-NN, RQA bound) {before:7.2f} s   {before / base:5.2f}× baseline;"
          f" {1e3 * max(before - base, 0) / (len(clips) * len(tracks)):.1f} ms per pair beyond it;"
          f" now {before / full:.2f}× faster")
    print(f"  same new clips (track, window, source): {windows(before_report) == windows(report)};"
          f" largest score difference {score_gap(before_report, report):.4f}")
    print(f"clip vs a track it is not in ({len(unrelated)} pairs, features precomputed):"
          f" {1e3 * per_pair / len(unrelated):.2f} ms per pair (earlier implementation"
          f" {1e3 * per_pair_before / len(unrelated):.2f} ms, {per_pair_before / per_pair:.0f}× slower)")
    print(f"\nclips located in their own track: {found} of {len(clips)};"
          f" candidates: {len(report.candidates)} (pairs given: {len(given_report.candidates)});"
          f" tracks with no library clip: {len(report.unmatched)}; errors: {len(report.errors)}")


if __name__ == "__main__":
    main()
