"""``moodbridge expand`` on a real library: clips cut from real tracks (immich-memories-music) are
found in their full tracks, new clips are cut, added and labelled from their source; unrelated and
unreadable tracks yield nothing; a second run adds nothing."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import soundfile as sf

from moodbridge.library import Library
from moodbridge.media import decode_audio
from moodbridge.jobs.expand import EXPANSION_JSON, run_expand
from realmedia import immich_tracks

SR = 22050
CLI = "from moodbridge.cli import app; app()"
#: (track stem, clip start s, clip length s, mood)
SOURCES = [("calm_acoustic_1", 11.3, 6.0, "calm"), ("energetic_electronic_2", 4.0, 5.0, "energetic")]
UNRELATED = "happy_acoustic_s411"


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", CLI, *args], capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("expandlib")
    tracks = {p.stem: p for p in immich_tracks()}
    clips_dir, full_dir = root / "clips", root / "tracks"
    clips_dir.mkdir()
    full_dir.mkdir()
    rows = ["file,mood"]
    for stem, start, length, mood in SOURCES:
        y = decode_audio(tracks[stem], sample_rate=SR)
        sf.write(clips_dir / f"{stem}_clip.wav", y[int(start * SR): int((start + length) * SR)], SR)
        rows.append(f"{stem}_clip.wav,{mood}")
        (full_dir / tracks[stem].name).write_bytes(tracks[stem].read_bytes())
    (full_dir / tracks[UNRELATED].name).write_bytes(tracks[UNRELATED].read_bytes())
    (full_dir / "broken.ogg").write_bytes(b"OggS" + bytes(200))  # a corrupt track
    (root / "moods.csv").write_text("\n".join(rows) + "\n")
    with Library.create(root / "lib") as library:
        library.add([clips_dir], progress=False)
        library.import_labels(root / "moods.csv")
    return root


def test_expand_cli_adds_labelled_clips_and_is_idempotent(setup):
    root = setup
    lib, out = root / "lib", root / "new-clips"
    first = run_cli("expand", str(lib), "--tracks", str(root / "tracks"), "--out", str(out), "-q")
    assert first.returncode == 3, first.stderr  # partial: the broken track
    assert first.stderr.count("error:") == 1 and "broken.ogg" in first.stderr
    assert "Traceback" not in first.stderr
    meta = json.loads((out / EXPANSION_JSON).read_text())
    written = meta["clips"]
    assert written, first.stdout
    by_track = {Path(c["track"]).stem for c in written}
    assert by_track == {s[0] for s in SOURCES}  # the unrelated track gave nothing
    with Library.open(lib) as library:
        items = {it.path: it for it in library.items(modality="audio")}
        for c in written:
            item = items[c["path"]]
            source = items[item.labels["expanded_from"]]
            assert Path(c["track"]).stem in Path(source.path).stem  # labelled from its own track's clip
            assert item.labels["mood"] == source.labels["mood"]
            assert float(item.labels["expanded_end_s"]) - float(item.labels["expanded_start_s"]) == pytest.approx(5.0, abs=0.01)
            assert float(item.labels["expanded_score"]) < 0.6  # sounds different from the source clip
            # the new clip does not overlap where the source clip sits in the track
            stem, start, length, _ = next(s for s in SOURCES if s[0] == Path(c["track"]).stem)
            assert c["end_s"] <= start + 0.5 or c["start_s"] >= start + length - 0.5
            assert sf.info(c["path"]).duration == pytest.approx(5.0, abs=0.01)
        n_audio = len(items)
    assert n_audio == len(SOURCES) + len(written)

    again = run_cli("expand", str(lib), "--tracks", str(root / "tracks"), "--out", str(out), "-q")
    assert again.returncode == 3
    assert "0 added" in again.stdout
    with Library.open(lib) as library:
        assert len(library.items(modality="audio")) == n_audio  # expanded clips never seed new ones


def test_dry_run_writes_nothing(setup, tmp_path):
    with Library.open(setup / "lib") as library:
        before = len(library.items())
        result = run_expand(library, [setup / "tracks" / f"{SOURCES[0][0]}.opus"], tmp_path / "out",
                                dry_run=True, progress=False)
        assert result.report.candidates and not result.written and not result.errors
        assert not (tmp_path / "out").exists()
        assert len(library.items()) == before


def test_bad_inputs_are_one_line_each(setup, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    r = run_cli("expand", str(setup / "lib"), "--tracks", str(empty))
    assert r.returncode == 1 and r.stderr.startswith("error: no audio tracks") and "Traceback" not in r.stderr
    Library.create(tmp_path / "nolib").close()
    r = run_cli("expand", str(tmp_path / "nolib"), "--tracks", str(setup / "tracks"))
    assert r.returncode == 1 and "no audio clips to expand from" in r.stderr
