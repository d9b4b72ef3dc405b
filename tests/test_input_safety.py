"""Issue 15: hostile and unusual input for ``add``, ``emotion`` and the web upload.

The corpus is generated here, seeded (:mod:`hostile_corpus`); the library is a
real SQLite file, the CLI a real subprocess, the web app a real server on
127.0.0.1.  The time bounds are the issue's own ("none over 30 s", "finishes
within a stated time"); the figures measured are in docs/input-safety.md.
"""
from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from hostile_corpus import Corpus, build_corpus
from moodbridge.errors import OTHER_KINDS, REASONS, MediaError, display_path

#: the stated bound for one ``add`` of the whole corpus on this 2-core machine (measured: docs/input-safety.md)
ADD_BOUND_S = 300
#: the issue's bound for ``emotion`` on one file
EMOTION_BOUND_S = 30
LINE = re.compile(r"^  (.*): (" + "|".join(map(re.escape, REASONS + OTHER_KINDS)) + r"): (.+?)( \(unchanged since the last run\))?$")


def run_cli(*args: str | Path, timeout: float = 600) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "moodbridge", *map(os.fsencode, args)], capture_output=True,
                          timeout=timeout)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Corpus:
    return build_corpus(tmp_path_factory.mktemp("hostile"), seed=15)


@pytest.fixture(scope="module")
def added(corpus: Corpus, tmp_path_factory) -> dict:
    """One ``add`` of the whole corpus (and a FIFO and /dev/null as arguments), then a second one."""
    lib = tmp_path_factory.mktemp("hostile-lib") / "lib"
    assert run_cli("init", lib).returncode == 0
    start = time.monotonic()
    first = run_cli("add", lib, corpus.root, *corpus.arguments, "-q", timeout=ADD_BOUND_S + 60)
    seconds = time.monotonic() - start
    second = run_cli("add", lib, corpus.root, *corpus.arguments, "-q")
    return {"lib": lib, "first": first, "seconds": seconds, "second": second}


def _reported(stdout: bytes) -> dict[str, tuple[str, str]]:
    """``shown path → (reason, detail)`` of the "not added" lines of an add summary."""
    out = {}
    for line in stdout.decode("utf-8").split("\n"):
        m = LINE.match(line)
        if m:
            out[m.group(1)] = (m.group(2), m.group(3))
    return out


# -- the vocabulary -------------------------------------------------------------------------
def _subclasses(cls: type) -> list[type]:
    return [cls] + [s for c in cls.__subclasses__() for s in _subclasses(c)]


def test_one_vocabulary_of_reasons():
    assert REASONS == ("empty", "truncated", "corrupt", "unsupported", "mislabelled", "too short", "too long",
                       "too large", "bad name", "link outside folder", "not a regular file")
    kinds = {c.kind for c in _subclasses(MediaError)}
    assert kinds <= set(REASONS) | set(OTHER_KINDS), kinds - set(REASONS) - set(OTHER_KINDS)
    assert set(REASONS) - {"bad name"} <= kinds


def test_display_path_is_printable_and_keeps_every_byte():
    name = os.fsdecode(b"/m/caf\xe9 \"q\"\nline \xf0\x9f\x8e\xb5.jpg")
    shown = display_path(name)
    assert shown == '/m/caf\\xe9 "q"\\nline 🎵.jpg'
    assert shown.isprintable()
    shown.encode("utf-8")  # printable on any UTF-8 terminal: no surrogates left


# -- the catalogue --------------------------------------------------------------------------
def test_schema_1_catalogue_migrates_and_takes_non_utf8_names(tmp_path):
    """A catalogue as today's main writes it (schema 1, TEXT paths) opens, migrates to 2 and keeps its rows."""
    from moodbridge.library.catalogue import _SCHEMA, SCHEMA_VERSION, Catalogue

    path = tmp_path / "catalogue.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript(_SCHEMA.replace("path BLOB", "path TEXT"))
    conn.execute("INSERT INTO meta VALUES ('schema_version', '1')")
    conn.execute("INSERT INTO items(path, modality, content_hash, size, mtime_ns, added_at) VALUES "
                 "('/m/été.jpg', 'image', 'h1', 3, 4, 0)")
    conn.execute("INSERT INTO features VALUES ('h1', 'e@1', 'features', '<f4', '[1]', x'0000803f')")
    conn.execute("INSERT INTO errors VALUES ('/m/bad.png', 'invalid', '/m/bad.png: invalid: x', 1, 2, 0)")
    conn.commit()
    conn.close()
    cat = Catalogue(path)
    assert SCHEMA_VERSION == 2 and cat.get_meta("schema_version") == "2"
    assert [it.path for it in cat.items()] == ["/m/été.jpg"]
    assert cat.state_by_path(["/m/été.jpg"]) == {"/m/été.jpg": (1, "h1", 3, 4)}
    assert cat.item("été.jpg").id == 1
    assert [e.path for e in cat.errors()] == ["/m/bad.png"]
    latin = os.fsdecode(b"/m/caf\xe9.jpg")
    with cat.transaction() as c:
        cat.upsert_item(c, path=latin, modality="image", content_hash="h1", size=1, mtime_ns=1, metadata={})
    assert cat.item(latin).path == latin and os.fsencode(cat.item(latin).path) == b"/m/caf\xe9.jpg"
    assert cat.integrity_problems() == []
    cat.close()
    again = Catalogue(path)  # migrating twice is a no-op
    assert len(again.items()) == 2
    again.close()


# -- scanning -------------------------------------------------------------------------------
def test_links_fifos_and_loops(tmp_path):
    from moodbridge.library.scan import scan_paths

    root = tmp_path / "tree"
    (root / "a" / "b").mkdir(parents=True)
    (root / "a" / "photo.jpg").write_bytes(b"x")
    os.symlink("../..", root / "a" / "b" / "up2")
    os.symlink("..", root / "a" / "b" / "up1")
    os.symlink("/etc/passwd", root / "x.jpg")
    os.symlink("a/photo.jpg", root / "same.jpg")
    os.mkfifo(root / "pipe.wav")
    start = time.monotonic()
    scan = scan_paths([root, root / "pipe.wav"])
    assert time.monotonic() - start < 5  # two links to ancestors: the walk ends (it doubled at each level)
    assert [p for p, _ in scan.media] == [root / "a" / "photo.jpg"]  # once, though reachable three ways
    refused = {Path(e.path).name: (e.kind, str(e)) for e in scan.refused}
    assert refused["x.jpg"][0] == "link outside folder" and "/etc/passwd" in refused["x.jpg"][1]
    assert refused["x.jpg"][1].startswith(f"{root / 'x.jpg'}: ")  # by its own name
    assert refused["pipe.wav"][0] == "not a regular file"
    followed = scan_paths([root], follow_links=True)  # asked for: the target is taken (and has no media extension)
    assert Path("/etc/passwd") in followed.unsupported
    assert "x.jpg" not in {Path(e.path).name for e in followed.refused}


# -- decoders -------------------------------------------------------------------------------
def test_ogg_crc_matches_real_files_and_damage_is_refused_or_accepted_knowingly(corpus):
    from moodbridge.media import load_audio
    from moodbridge.media.audio import ogg_crc

    data = (corpus.root / "valid" / "song.opus").read_bytes()
    pos, pages = 0, 0
    while pos < len(data):
        n = data[pos + 26]
        end = pos + 27 + n + sum(data[pos + 27 : pos + 27 + n])
        page = data[pos:end]
        assert int.from_bytes(page[22:26], "little") == ogg_crc(page[:22] + bytes(4) + page[26:])
        pos, pages = end, pages + 1
    assert pages > 10
    flipped = corpus.root / "flipped" / "song.opus"
    with pytest.raises(MediaError, match="fail their checksum") as info:
        load_audio(flipped)
    assert info.value.kind == "corrupt"
    y, rate = load_audio(flipped, accept_damaged=True)
    whole, _ = load_audio(corpus.root / "valid" / "song.opus")
    assert rate == 48000 and len(y) > 0 and not np.array_equal(y, whole)  # what the decoder made of it


def test_truncated_flac_says_truncated_with_counts(corpus):
    from moodbridge.media import load_audio

    with pytest.raises(MediaError) as info:
        load_audio(corpus.root / "truncated" / "song.flac")
    assert info.value.kind == "truncated"
    assert re.search(r"decoded about \d+ of the 132300 frames .* \d+ bytes", str(info.value))


def test_audio_over_the_limit_is_refused_from_its_header(corpus, monkeypatch):
    from moodbridge.media import load_audio

    hour = corpus.root / "absurd" / "an hour of silence.flac"
    with pytest.raises(MediaError, match=r"60\.0 min exceeds the limit of 20 min") as info:
        load_audio(hour)
    assert info.value.kind == "too long"
    monkeypatch.setenv("MOODBRIDGE_MAX_AUDIO_S", "5")
    with pytest.raises(MediaError, match="limit of 0.0833333 min"):
        load_audio(corpus.root / "valid" / "song.wav")
    monkeypatch.setenv("MOODBRIDGE_MAX_AUDIO_S", "7200")
    y, rate = load_audio(hour)
    assert len(y) == 3600 * rate


def test_musicnn_reads_at_most_32_evenly_spread_patches():
    from moodbridge.encoders import get_encoder
    from moodbridge.encoders.musicnn import frontend
    from moodbridge.media.limits import MAX_PATCHES, spread_indices

    rng = np.random.default_rng(0)
    y = (0.1 * rng.standard_normal(16000 * 200)).astype(np.float32)  # 200 s: 66 patches
    enc = get_encoder("musicnn-msd")
    every = frontend.patches(frontend.log_mel(y))
    kept = enc.prepare(y)
    assert len(every) == 66 and kept.shape == (MAX_PATCHES, 187, 96)
    idx = spread_indices(66)
    assert idx[0] == 0 and idx[-1] == 65 and np.all(np.diff(idx) >= 1)
    np.testing.assert_array_equal(kept, every[idx])
    short = y[: 16000 * 90]  # 30 patches: all kept
    np.testing.assert_array_equal(enc.prepare(short), frontend.patches(frontend.log_mel(short)))  # unchanged


def test_large_images_are_decoded_at_reduced_size(corpus, monkeypatch):
    from moodbridge.media import decode_image

    big = decode_image(corpus.root / "unusual" / "big 36 MP.jpg")
    assert big.width * big.height <= 24_000_000 and big.width >= 1500  # by JPEG draft: 1/2 scale
    bomb = decode_image(corpus.root / "unusual" / "bomb 100 MP.png")
    assert bomb.mode == "RGB" and bomb.width * bomb.height <= 24_000_000
    monkeypatch.setenv("MOODBRIDGE_MAX_PIXELS", "50000000")
    with pytest.raises(MediaError, match=r"exceeds the limit of 50 MP") as info:
        decode_image(corpus.root / "unusual" / "bomb 100 MP.png")
    assert info.value.kind == "too large"


def test_exif_rotation_survives_reduction(corpus):
    from moodbridge.media import decode_image

    im = decode_image(corpus.root / "unusual" / "rotated exif.jpg")
    assert im.size == (128, 256)  # stored 256x128, orientation 6


def test_midi_messages_say_what_is_wrong(corpus):
    from moodbridge.media import decode_midi

    expect = {"65535 tracks.mid": ("corrupt", "announces 65535 tracks but the file holds 1"),
              "tempo zero.mid": ("corrupt", "tempo of 0"),
              "tempo one microsecond.mid": ("too short", "1 µs per beat")}
    for name, (kind, words) in expect.items():
        with pytest.raises(MediaError) as info:
            decode_midi(corpus.root / "absurd" / name)
        assert info.value.kind == kind and words in str(info.value), str(info.value)


def test_midi_harmony_chunks_give_the_same_features_and_bounded_memory(corpus, monkeypatch):
    import tracemalloc

    from moodbridge.encoders import get_encoder, midi_extra
    from moodbridge.media import decode_midi

    enc = get_encoder("midi-harmony")
    small = decode_midi(corpus.root / "valid" / "tune.mid")
    whole = enc.prepare(small)
    monkeypatch.setattr(midi_extra, "OVERLAP_CELLS", 7)
    np.testing.assert_allclose(enc.prepare(small), whole, rtol=1e-12, atol=1e-12)
    monkeypatch.undo()
    many = decode_midi(corpus.root / "unusual" / "many notes.mid")
    tracemalloc.start()
    enc.prepare(many)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 300e6, peak  # the (notes x windows) overlap alone was 100,000 x 250 x 8 B x several copies


def test_an_unexpected_exception_fails_one_file_and_the_batch_carries_on(tmp_path, corpus, monkeypatch):
    from moodbridge.encoders import get_encoder
    from moodbridge.library import Library

    enc = get_encoder("image-stats")
    real_prepare = type(enc).prepare

    def prepare(self, decoded, *, source="<input>"):
        if "photo.bmp" in source:
            raise KeyError("a bug")
        return real_prepare(self, decoded, source=source)

    monkeypatch.setattr(type(enc), "prepare", prepare)  # a fault injected into one real encoder
    with Library.create(tmp_path / "lib") as lib:
        report = lib.add([corpus.root / "valid"], encoders=["image-stats"], progress=False)
        failed = {Path(f.path).name: f for f in report.failed}
        assert set(failed) == {"photo.bmp"}
        assert failed["photo.bmp"].kind == "unexpected" and "please report" in failed["photo.bmp"].message
        images = [p for p in report.added if Path(p).suffix in (".jpg", ".png", ".gif", ".webp", ".tif")]
        assert len(images) == 5 and report.encoded == {enc.key: 5} and report.partial


# -- the whole corpus -------------------------------------------------------------------------
def test_one_add_of_the_whole_corpus(added, corpus):
    first = added["first"]
    err = first.stderr.decode("utf-8", "replace")
    assert "Traceback" not in err and "Traceback" not in first.stdout.decode("utf-8", "replace")
    assert first.returncode == 3, err[-2000:]
    assert added["seconds"] < ADD_BOUND_S
    reported = _reported(first.stdout)
    from moodbridge.library import Library

    with Library.open(added["lib"]) as lib:
        stored = {it.path for it in lib.items()}
        errors = {display_path(e.path): e.kind for e in lib.errors()}
        assert lib.catalogue.integrity_problems() == []
    for case in corpus.cases:
        shown = display_path(case.path)
        if case.expect == "valid":
            assert str(case.path) in stored, f"{shown} not added: {reported.get(shown)}"
        elif case.expect == "bad":
            assert shown in reported, f"{shown} not reported"
            assert reported[shown][0] in case.reasons, (shown, reported[shown])
            assert errors[shown] == reported[shown][0]
        else:
            assert (str(case.path) in stored) != (shown in reported), shown
    for arg in corpus.arguments:
        assert reported[display_path(arg)][0] == "not a regular file"
    assert set(reported) <= {display_path(c.path) for c in corpus.cases} | {display_path(a) for a in corpus.arguments}
    con = sqlite3.connect(added["lib"] / "catalogue.sqlite")
    assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    con.close()


def test_second_add_does_nothing(added):
    second = added["second"]
    out = second.stdout.decode()
    assert second.returncode == 3
    assert out.startswith("added 0, updated 0, unchanged ") and "embedded" not in out
    assert all(line.endswith("(unchanged since the last run)") for line in out.splitlines()[2:] if line.startswith("  "))


def test_ls_errors_uses_the_same_vocabulary(added):
    import json

    ls = run_cli("ls", added["lib"], "--errors", "--json")
    assert ls.returncode == 0
    rows = [json.loads(line) for line in ls.stdout.decode().splitlines()]
    assert rows and all(r["kind"] in REASONS + OTHER_KINDS for r in rows)
    assert all(r["message"].startswith(f"{r['path']}: {r['kind']}: ") for r in rows)


def test_emotion_on_every_file_one_by_one(corpus):
    from moodbridge.jobs.emotion import estimate

    slowest = 0.0
    for case in corpus.files:
        start = time.monotonic()
        result = estimate([case.path]).results[0]
        slowest = max(slowest, time.monotonic() - start)
        if result.estimate is None:
            m = re.match(r"^(.*): (" + "|".join(map(re.escape, REASONS + OTHER_KINDS)) + "): ", result.error)
            assert m and m.group(1) == display_path(case.path), result.error
            assert case.expect != "valid", result.error
        else:
            assert case.expect != "bad", case.path
        assert time.monotonic() - start < EMOTION_BOUND_S, case.path
    special = [c.path for c in corpus.cases if c.path.exists() and not c.path.is_file()]
    cli = run_cli("emotion", *special, *corpus.arguments, timeout=120)
    lines = cli.stderr.decode().splitlines()
    assert cli.returncode == 3 and len(lines) == len(special) + len(corpus.arguments)
    assert all(line.startswith("error: ") and "not a regular file" in line for line in lines), lines


def test_the_corpus_through_the_web_upload(corpus, tmp_path):
    import httpx

    from moodbridge.library import Library
    from moodbridge.web import WebConfig
    from realmedia import write_photos, write_tracks
    from webserver import thread_server

    media = tmp_path / "media"
    write_photos(media, ("chelsea.png",))
    write_tracks(media, 2)
    with Library.create(tmp_path / "lib") as lib:
        lib.add([media], progress=False)
    images = {".jpg", ".png", ".gif", ".webp", ".bmp", ".tif"}
    with thread_server(WebConfig(library=tmp_path / "lib", max_upload=16 * 1024 * 1024)) as url, \
            httpx.Client(base_url=url, timeout=120) as client:
        for case in corpus.files:
            data = case.path.read_bytes()
            name = os.fsencode(case.path.name).decode("utf-8", "backslashreplace")
            r = client.post("/image", files={"file": (name, data, "application/octet-stream")},
                            headers={"accept": "application/json"})
            assert r.status_code in (200, 400, 413, 415) and "Traceback" not in r.text, (case.path, r.status_code)
            by_content_an_image = case.path.suffix in images or "mislabelled" in case.reasons
            if case.expect == "valid" and case.path.suffix in images:
                assert r.status_code == 200, (case.path, r.text[:300])  # every valid image, any name
            elif case.expect == "bad" and not by_content_an_image:
                assert r.status_code != 200, case.path
            elif case.expect == "bad" and "mislabelled" not in case.reasons:
                assert r.status_code != 200, case.path  # a damaged image is refused by upload as by add
            if r.status_code != 200:
                message = r.json()["error"]
                assert re.match(r"^.+?: (" + "|".join(map(re.escape, REASONS)) + "): ", message), message


def test_pairs_of_non_utf8_names_keep_their_bytes(tmp_path):
    """``pair`` on items whose names are not UTF-8: pairs.csv keeps the exact bytes (read back by
    ``fileio.read_csv_frame``), the Parquet copy and the report show them escaped, nothing is lost."""
    import shutil

    import pandas as pd

    from moodbridge.fileio import read_csv_frame
    from realmedia import immich_tracks, skimage_photo

    media = os.fsencode(tmp_path / "media")
    os.makedirs(media)
    names = [b"caf\xe9-chelsea.png", b"coffee-\xff.png", b"tr\xff0.opus", b"plain.opus"]
    sources = [skimage_photo("chelsea.png"), skimage_photo("coffee.png"), *immich_tracks()[:2]]
    for name, src in zip(names, sources):
        shutil.copyfile(src, media + b"/" + name)
    lib, out = tmp_path / "lib", tmp_path / "pairs"
    assert run_cli("init", lib).returncode == 0
    assert run_cli("add", lib, media, "-q").returncode == 0
    res = run_cli("pair", lib, "--out", out, "--k", "2", "--m", "1", "-q")
    assert res.returncode == 0 and b"Traceback" not in res.stderr, res.stderr.decode(errors="replace")[-1500:]
    expected = {os.fsdecode(media + b"/" + n) for n in names}
    frame = read_csv_frame(out / "pairs.csv")
    assert set(frame.clip_path) | set(frame.image_path) == expected
    assert all(os.path.exists(p) for p in frame.clip_path) and len(frame) == 2
    raw = (out / "pairs.csv").read_bytes()
    assert b"tr\xff0.opus" in raw  # the exact bytes, not an escape
    parquet = pd.read_parquet(out / "pairs.parquet")
    assert set(parquet.image_path) <= {display_path(p) for p in expected}
    report = (out / "report.html").read_bytes().decode("utf-8")  # valid UTF-8
    assert "tr\\xff0.opus" in report and "tr%FF0.opus" in report
