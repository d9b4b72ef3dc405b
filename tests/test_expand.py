"""EMID music expansion (Sec. 3.2.2) on real music: the 28 Opus tracks of immich-memories-music.

Run with ``pytest -s tests/test_expand.py`` to see the score distributions
behind :data:`moodbridge.pairing.expand.DEFAULT_THRESHOLD`.
"""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from moodbridge.errors import InvalidValueError, MediaError, UnsupportedMediaError
from moodbridge.media import audio_duration, decode_audio
from moodbridge.pairing import expand as ex

from realmedia import immich_tracks

SR = ex.DEFAULT_SAMPLE_RATE
THR = ex.DEFAULT_THRESHOLD
#: (track stem, clip start s, clip length s): one clip per mood, 5-8 s long.
CLIPS = [
    ("calm_acoustic_1", 11.3, 6.5),
    ("energetic_electronic_2", 4.0, 5.0),
    ("happy_acoustic_s411", 17.6, 8.0),
    ("nostalgic_electronic_s522", 8.2, 7.0),
    ("tender_acoustic_2", 20.5, 5.5),
]


@pytest.fixture(scope="module")
def tracks() -> dict[str, Path]:
    paths = immich_tracks()
    assert len(paths) == 28, "immich-memories-music should ship 28 Opus tracks"
    return {p.stem: p for p in paths}


@pytest.fixture(scope="module")
def audio(tracks: dict[str, Path]) -> dict[str, np.ndarray]:
    return {stem: decode_audio(p, sample_rate=SR) for stem, p in tracks.items()}


@pytest.fixture(scope="module")
def features(audio: dict[str, np.ndarray]) -> dict[str, ex.AudioFeatures]:
    return {stem: ex.audio_features(y, SR) for stem, y in audio.items()}


def cut(y: np.ndarray, start_s: float, length_s: float) -> np.ndarray:
    return y[int(start_s * SR) : int((start_s + length_s) * SR)]


def spread(values: list[float]) -> str:
    q = np.percentile(values, [0, 5, 50, 95, 100])
    return "min %.3f  p5 %.3f  median %.3f  p95 %.3f  max %.3f  (n=%d)" % (*q, len(values))


# ---------------------------------------------------------------------------
# (a) + (b): matched vs unrelated on real tracks
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(("stem", "start", "length"), CLIPS)
def test_clip_is_found_at_its_offset(audio, stem, start, length):
    matches = ex.find_matches(cut(audio[stem], start, length), audio[stem], SR)
    assert matches, f"{stem}: the clip was not found in its own track"
    best = max(matches, key=lambda m: m.score)
    assert best.score >= 0.8
    assert abs(best.clip_offset_s - start) <= 1.0
    assert best.start_s < start + length and start < best.end_s  # the window overlaps the clip
    assert all(m.score >= THR for m in matches)
    assert [m.start_s for m in matches] == sorted(m.start_s for m in matches)


def test_matched_and_unrelated_scores_are_separated(audio, features):
    """Every clip against all 28 tracks: its own track scores high, the 27 others low."""
    matched, unrelated = [], []
    for stem, start, length in CLIPS:
        clip = ex.audio_features(cut(audio[stem], start, length), SR)
        for other, track in features.items():
            xsim = ex.cross_similarity(clip, track)
            if other == stem:
                matched.append(max(m.score for m in ex.score_windows(clip, track, xsim=xsim)))
            else:  # the one-pass bound is >= every window's score: a stricter check
                unrelated.append(ex.track_upper_bound(clip, track, xsim, window_s=ex.DEFAULT_WINDOW_S))
    print(f"\nmatched   (own track, best window): {spread(matched)}")
    print(f"unrelated (27 other tracks, bound):  {spread(unrelated)}")
    assert min(matched) >= THR + 0.2
    assert max(unrelated) <= THR - 0.15


def test_cross_similarity_equals_librosa(audio, features):
    """The vectorised k-NN affinity is librosa.segment.cross_similarity's, link for link."""
    import librosa

    exact = 0
    for stem, start, length in CLIPS[:3]:
        clip = ex.audio_features(cut(audio[stem], start, length), SR)
        for other in (stem, "energetic_acoustic_1", "nostalgic_acoustic_1"):
            track = features[other]
            ref = librosa.segment.cross_similarity(clip.cens, track.cens, metric="cosine", mode="affinity",
                                                   bandwidth=ex.BANDWIDTH)
            got = ex.cross_similarity(clip, track)
            assert got.shape == ref.shape == (track.n_frames, clip.n_frames) and got.dtype == np.float32
            # librosa drops links at distance exactly 0 (identical frames); here they weigh ~1
            dropped = (ref == 0) & (got > 0)
            assert np.all(got[dropped] > 0.999) and dropped.sum() <= 0.001 * got.size
            np.testing.assert_array_equal(got[~dropped] > 0, ref[~dropped] > 0)
            np.testing.assert_allclose(got[~dropped], ref[~dropped], atol=1e-5)
            exact += int(dropped.sum())
    assert exact > 0  # the clips were cut from these very tracks, so some frames are identical


def test_cheap_bound_is_above_every_window_and_skips_most_unrelated_tracks(audio, features):
    """The column/row-maximum bound is >= every window's score; with a threshold it exits before the RQA."""
    import librosa

    early_exits = 0
    for stem, start, length in CLIPS:
        clip = ex.audio_features(cut(audio[stem], start, length), SR)
        for other in (stem, "calm_acoustic_s411", "happy_electronic_1", "tender_electronic_1"):
            track = features[other]
            xsim = ex.cross_similarity(clip, track)
            norm = min(int(round(ex.DEFAULT_WINDOW_S * track.fps)), xsim.shape[0], clip.n_frames)
            rqa = min(1.0, librosa.sequence.rqa(xsim, gap_onset=ex.GAP_ONSET, gap_extend=ex.GAP_EXTEND,
                                                backtrack=False).max() / norm)
            top_mean = [np.sort(xsim.max(axis=a))[::-1][:norm].mean() for a in (0, 1)]  # columns, rows
            cheap = min(1.0, *top_mean)
            windows = ex.score_windows(clip, track, xsim=xsim)
            assert max(m.score for m in windows) <= cheap + 1e-6
            bound = ex.track_upper_bound(clip, track, xsim, window_s=ex.DEFAULT_WINDOW_S)
            assert bound == pytest.approx(min(rqa, cheap), abs=1e-6)
            assert max(m.score for m in windows) <= bound + 1e-6
            early = ex.track_upper_bound(clip, track, xsim, window_s=ex.DEFAULT_WINDOW_S, threshold=THR)
            assert early == pytest.approx(cheap if cheap < THR else bound, abs=1e-6)
            early_exits += cheap < THR
    assert early_exits >= 10  # of the 15 unrelated pairs here


def test_same_audio_through_a_file_is_found(tmp_path, tracks, audio):
    """The clip written to FLAC at the track's own rate and decoded again is still found."""
    stem, start, length = CLIPS[0]
    prov = ex.cut_clip(tracks[stem], start, start + length, tmp_path / "clip.flac")
    best = max(ex.find_matches(decode_audio(prov.path, sample_rate=SR), audio[stem], SR), key=lambda m: m.score)
    assert best.score >= 0.8 and abs(best.clip_offset_s - start) <= 1.0


# ---------------------------------------------------------------------------
# the scan: EMID's keep-below-threshold rule, errors, pairs
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def library_clips(audio) -> list[ex.SourceClip]:
    return [
        ex.SourceClip(f"{stem}@{start}", cut(audio[stem], start, length), SR, label=stem.split("_")[0])
        for stem, start, length in CLIPS[:2]
    ]


def test_expand_keeps_windows_that_differ_from_the_library_clip(tmp_path, tracks, library_clips, caplog):
    corrupt = tmp_path / "broken.opus"
    corrupt.write_bytes(tracks["calm_acoustic_1"].read_bytes()[:3000])
    noise = tmp_path / "noise.wav"
    noise.write_bytes(b"RIFF" + np.random.default_rng(0).bytes(5000))
    scan = [tracks["calm_acoustic_1"], corrupt, noise, tracks["happy_electronic_1"], tracks["energetic_electronic_2"]]
    with caplog.at_level(logging.WARNING, logger="moodbridge.pairing.expand"):
        report = ex.expand(library_clips, scan, progress=False)

    # (d) each unreadable track is reported once, by name, and the scan went on
    assert [Path(e.path) for e in report.errors] == [corrupt, noise]
    assert all(isinstance(e, MediaError) for e in report.errors)
    assert sum("broken.opus" in r.getMessage() for r in caplog.records) == 1
    assert report.unmatched == [tracks["happy_electronic_1"]]
    assert set(report.located) == {tracks["calm_acoustic_1"], tracks["energetic_electronic_2"]}

    for (stem, start, length), clip in zip(CLIPS[:2], library_clips):
        where = report.located[tracks[stem]]
        assert [w.clip for w in where] == [clip.id]
        assert abs(where[0].start_s - start) <= 1.0
        new = [c for c in report.candidates if c.track == tracks[stem]]
        assert len(new) >= 2, f"{stem}: a ~30 s track should give several new 5 s clips"
        for c in new:
            assert c.score < THR  # EMID: sounds different from the library clip ...
            assert c.source_clip == clip.id and c.label == clip.label  # ... inherits its label
            assert c.end_s - c.start_s == pytest.approx(ex.DEFAULT_WINDOW_S)
            assert c.end_s <= where[0].start_s or c.start_s >= where[0].end_s  # no shared audio
        assert all(a.end_s <= b.start_s for a, b in zip(new, new[1:]))  # disjoint, in time order


def test_expand_with_given_pairs_scores_only_the_paired_clips(tracks, library_clips):
    track = tracks["calm_acoustic_1"]
    report = ex.expand(library_clips, [track, tracks["happy_electronic_1"]],
                       pairs={track: [library_clips[0].id]}, allow_overlap=True, progress=False)
    assert {c.track for c in report.candidates} == {track}
    starts = [c.start_s for c in report.candidates]
    assert np.diff(starts).min() == pytest.approx(ex.DEFAULT_HOP_S)  # every 1 s window may be kept
    with pytest.raises(InvalidValueError, match="unknown clip"):
        ex.expand(library_clips, [track], pairs={track: ["nope"]}, progress=False)


# ---------------------------------------------------------------------------
# (c) cutting
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".flac", ".wav"])
def test_cut_clip_writes_the_span(tmp_path, tracks, suffix):
    track = tracks["tender_acoustic_2"]
    out = tmp_path / "new" / f"clip{suffix}"
    prov = ex.cut_clip(track, 3.0, 8.0, out, source_clip="lib/clip.flac", score=0.21, label="tender")
    info = sf.info(str(out))
    assert info.duration == pytest.approx(5.0, abs=1e-3)
    assert info.samplerate == prov.sample_rate == sf.info(str(track)).samplerate
    assert info.channels == prov.channels
    assert audio_duration(out) == pytest.approx(5.0, abs=1e-3)
    assert sorted(p.name for p in out.parent.iterdir()) == [out.name]  # no temporary left behind
    assert prov.to_dict() == {
        "path": str(out), "track": str(track), "start_s": 3.0, "end_s": 8.0, "source_clip": "lib/clip.flac",
        "score": 0.21, "label": "tender", "sample_rate": info.samplerate, "channels": info.channels,
    }
    # the written samples are the track's, at the same place
    y, _ = sf.read(str(track), dtype="float32", always_2d=True)
    z, _ = sf.read(str(out), dtype="float32", always_2d=True)
    start = int(3.0 * info.samplerate)
    assert np.abs(z - y[start : start + len(z)]).max() < 1e-3  # 16-bit quantisation


def test_cut_clip_rejects_bad_requests(tmp_path, tracks):
    track = tracks["tender_acoustic_2"]
    with pytest.raises(InvalidValueError, match="mp3"):
        ex.cut_clip(track, 0.0, 5.0, tmp_path / "x.mp3")
    with pytest.raises(InvalidValueError, match="cannot cut"):
        ex.cut_clip(track, 28.0, 95.0, tmp_path / "x.wav")
    with pytest.raises(InvalidValueError, match="cannot cut"):
        ex.cut_clip(track, 4.0, 4.0, tmp_path / "x.wav")
    text = tmp_path / "notes.txt"
    text.write_text("not audio")
    with pytest.raises(MediaError):
        ex.cut_clip(text, 0.0, 1.0, tmp_path / "x.wav")
    assert not list(tmp_path.glob("*.wav"))


def test_cut_candidates_names_and_provenance(tmp_path, tracks, library_clips):
    report = ex.expand(library_clips[:1], [tracks["calm_acoustic_1"]], progress=False)
    written, errors = ex.cut_candidates(report.candidates, tmp_path, progress=False)
    assert not errors and len(written) == len(report.candidates)
    for prov, cand in zip(written, report.candidates):
        assert prov.path.name == ex.clip_name(cand.track, cand.start_s, cand.end_s)
        assert (prov.source_clip, prov.label, prov.score) == (cand.source_clip, cand.label, cand.score)
        assert sf.info(str(prov.path)).duration == pytest.approx(ex.DEFAULT_WINDOW_S, abs=1e-3)


# ---------------------------------------------------------------------------
# building blocks
# ---------------------------------------------------------------------------


def test_alignment_score_bounds():
    assert ex.alignment_score(np.eye(50, dtype=np.float32)).score == pytest.approx(1.0)
    inside = ex.alignment_score(np.eye(60, 50, k=-7, dtype=np.float32))  # clip frame j at track frame j + 7
    assert inside.score == pytest.approx(1.0) and inside.offset_frames == pytest.approx(7)
    partial = ex.alignment_score(np.eye(50, 50, k=-7, dtype=np.float32))  # the clip's last 7 frames are cut off
    assert partial.score == pytest.approx(43 / 50) and partial.offset_frames == pytest.approx(7)
    empty = ex.alignment_score(np.zeros((20, 20), dtype=np.float32))
    assert empty.score == 0.0 and empty.offset_frames is None
    with pytest.raises(InvalidValueError):
        ex.alignment_score(np.ones((1, 5)))


def test_windows_and_parameters(audio):
    assert ex.window_starts(30.0).tolist() == [float(k) for k in range(26)]
    assert ex.window_starts(4.0).size == 0
    y = audio["calm_acoustic_1"]
    for kwargs in ({"threshold": 1.5}, {"threshold": float("nan")}, {"hop_s": 0.0}, {"window_s": -5.0}):
        with pytest.raises(InvalidValueError):
            ex.find_matches(y[: 6 * SR], y, SR, **kwargs)
    with pytest.raises(InvalidValueError, match="at least 1.0 s"):
        ex.find_matches(y[: SR // 4], y, SR)
    with pytest.raises(InvalidValueError, match="mono"):
        ex.audio_features(np.zeros((2, SR * 2), np.float32), SR)
    silence = ex.audio_features(np.zeros(SR * 3, np.float32), SR)
    assert np.isfinite(silence.cens).all()


def test_short_track_is_reported(tmp_path, audio, library_clips):
    short = tmp_path / "short.wav"
    sf.write(short, audio["calm_acoustic_1"][: 3 * SR], SR)
    report = ex.expand(library_clips[:1], [short], progress=False)
    assert len(report.errors) == 1 and "shorter than one 5 s window" in str(report.errors[0])


def test_unsupported_track_is_reported(tmp_path, library_clips):
    image = tmp_path / "cover.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    report = ex.expand(library_clips[:1], [image], progress=False)
    assert len(report.errors) == 1 and "cover.png" in str(report.errors[0])
    assert isinstance(report.errors[0], MediaError)
    with pytest.raises(UnsupportedMediaError):
        ex.cut_clip(image, 0.0, 1.0, tmp_path / "x.wav")


# ---------------------------------------------------------------------------
# optional: longer orchestral tracks (Debian package wesnoth-1.16-music)
# ---------------------------------------------------------------------------

WESNOTH = Path("/usr/share/games/wesnoth/1.16/data/core/music")


def test_wesnoth_orchestral_tracks():
    """A 5 s clip of a 3.6 min orchestral track is found in it, and not in five other tracks."""
    names = ["heroes_rite", "elvish-theme", "knolls", "love_theme", "sad", "transience"]
    paths = [WESNOTH / f"{n}.ogg" for n in names]
    if not all(p.exists() for p in paths):
        pytest.skip(f"wesnoth-1.16-music is not installed ({WESNOTH})")
    own = decode_audio(paths[0], sample_rate=SR)
    start = round(0.4 * len(own) / SR, 1)
    clip = ex.audio_features(cut(own, start, 5.0), SR)
    best = max(ex.score_windows(clip, ex.audio_features(own, SR), locate_above=THR), key=lambda m: m.score)
    others = []
    for other in paths[1:]:
        track = ex.audio_features(decode_audio(other, sample_rate=SR), SR)
        others.append(ex.track_upper_bound(clip, track, ex.cross_similarity(clip, track), window_s=5.0))
    print(f"\nwesnoth: own track {best.score:.3f}, five others (bound) {np.round(others, 3).tolist()}")
    assert best.score >= THR + 0.15 and abs(best.clip_offset_s - start) <= 1.0
    assert max(others) < THR - 0.1
