"""The library: SQLite catalogue, feature store, incremental and resumable ``add``, labels, CLI."""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from moodbridge.encoders import get_encoder
from moodbridge.errors import ItemNotFoundError, LibraryError
from moodbridge.library import Library
from realmedia import write_bad_files, write_midi, write_photo_crops, write_photos, write_tracks

FAST_ENCODERS = ["image-stats", "midi-stats"]


def run_cli(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "moodbridge", *args], capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def mixed_folder(tmp_path: Path) -> tuple[Path, dict[str, str], list[Path]]:
    media = tmp_path / "media"
    good = write_photos(media / "photos")
    good += write_tracks(media / "music", n=2)
    good.append(write_midi(media / "midi" / "arpeggio.mid"))
    bad = write_bad_files(media / "bad")
    return media, bad, good


def test_add_mixed_folder_adds_every_valid_file_and_lists_every_bad_one(tmp_path, mixed_folder):
    media, bad, good = mixed_folder
    lib = tmp_path / "lib"
    assert run_cli("init", str(lib)).returncode == 0
    res = run_cli("add", str(lib), str(media), "-q")
    assert res.returncode == 3, res.stderr  # partial
    for name, kind in bad.items():
        line = next((l for l in res.stdout.splitlines() if name in l), None)
        assert line is not None, f"{name} not reported:\n{res.stdout}"
        assert kind in line, line
    with Library.open(lib) as library:
        paths = {Path(it.path).name for it in library.items()}
        assert paths == {p.name for p in good}
        assert {Path(e.path).name: e.kind for e in library.errors()} == bad
        modalities = library.catalogue.counts_by_modality()
        assert modalities == {"image": 3, "audio": 2, "midi": 1}
        # every item has every default encoder of its modality, with finite features
        for it in library.items():
            encs = library.catalogue.encoders_of(it.content_hash)
            assert encs, it.path
            for key in encs:
                feats = library.catalogue.get_features(it.content_hash, key)["features"]
                assert np.isfinite(feats).all()
        assert library.catalogue.integrity_problems() == []


def test_second_run_does_only_new_or_changed_files(tmp_path):
    media = tmp_path / "media"
    photos = write_photos(media, ("chelsea.png", "coffee.png"))
    with Library.create(tmp_path / "lib") as library:
        first = library.add([media], encoders=FAST_ENCODERS, progress=False)
        assert len(first.added) == 2 and not first.partial
        again = library.add([media], encoders=FAST_ENCODERS, progress=False)
        assert (again.added, again.updated, again.unchanged, again.encoded) == ([], [], 2, {})
        # change one file's content, add a new one
        write_photos(tmp_path / "other", ("rocket.jpg",))
        photos[0].write_bytes((tmp_path / "other" / "rocket.jpg").read_bytes())
        write_photos(media, ("astronaut.png",))
        third = library.add([media], encoders=FAST_ENCODERS, progress=False)
        assert [Path(p).name for p in third.added] == ["astronaut.png"]
        assert [Path(p).name for p in third.updated] == ["chelsea.png"]
        assert third.unchanged == 1
        assert library.catalogue.count() == 3
        # the changed file's features now describe its new content
        item = library.item("chelsea.png")
        stored = library.features(item, "image-stats")["features"]
        expected = get_encoder("image-stats").embed([tmp_path / "other" / "rocket.jpg"]).features[0]
        assert np.allclose(stored, expected)
        assert item.metadata["width"] == 640  # rocket.jpg is 640 wide, chelsea 451


def test_a_new_encoder_runs_only_where_it_is_missing(tmp_path):
    media = tmp_path / "media"
    write_photos(media, ("chelsea.png", "coffee.png"))
    with Library.create(tmp_path / "lib") as library:
        library.add([media], encoders=["image-stats"], progress=False)
        report = library.add([media], encoders=["image-stats", "effnet-lite0"], progress=False)
        assert sum(k.startswith("effnet-lite0") for k in report.encoded) == 1
        assert not any(k.startswith("image-stats") for k in report.encoded)
        item = library.item("chelsea.png")
        assert library.features(item, "effnet-lite0")["features"].shape == (1280,)


def test_killed_add_resumes_without_duplicates_or_losses(tmp_path):
    crops = write_photo_crops(tmp_path / "crops", 160)
    lib = tmp_path / "lib"
    Library.create(lib).close()
    cmd = [sys.executable, "-m", "moodbridge", "add", str(lib), str(tmp_path / "crops"),
           "-e", "effnet-lite0", "--batch-size", "8", "-q"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    db = lib / "catalogue.sqlite"
    deadline = time.time() + 300
    committed = 0
    while time.time() < deadline and proc.poll() is None:
        time.sleep(0.2)
        try:
            with sqlite3.connect(db, timeout=1) as conn:
                committed = conn.execute("SELECT COUNT(*) FROM items").fetchone()[0]
        except sqlite3.OperationalError:
            continue
        if committed >= 16:
            break
    assert proc.poll() is None, f"add finished before it could be killed: {proc.stderr.read().decode()[-500:]}"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with Library.open(lib) as library:
        partial = library.catalogue.count()
        assert 16 <= partial < len(crops)
        assert library.catalogue.integrity_problems() == []
    res = run_cli("add", str(lib), str(tmp_path / "crops"), "-e", "effnet-lite0", "-q")
    assert res.returncode == 0, res.stderr
    assert f"unchanged {partial}" in res.stdout
    with Library.open(lib) as library:
        items = library.items()
        assert len(items) == len(crops)
        assert len({it.path for it in items}) == len(crops)
        assert library.catalogue.integrity_problems() == []
        matrix = library.feature_matrix(items, "effnet-lite0")
        assert matrix.shape == (len(crops), 1280) and np.isfinite(matrix).all()


def test_labels_csv_matches_by_relative_path_name_and_stem(tmp_path):
    media = tmp_path / "media"
    write_photos(media / "a", ("chelsea.png",))
    write_photos(media / "b", ("coffee.png", "rocket.jpg"))
    csv_file = media / "labels.csv"
    csv_file.write_text("file,valence,arousal\na/chelsea.png,7,3\ncoffee.png,6,4\nrocket,2,8\nmissing.png,1,1\n")
    with Library.create(tmp_path / "lib") as library:
        library.add([media], encoders=["image-stats"], progress=False)
        result = library.import_labels(csv_file)
        assert result.matched == 3 and result.unmatched == ["missing.png"]
        assert library.item("rocket.jpg").labels == {"valence": "2", "arousal": "8"}
        assert library.item("chelsea.png").labels["valence"] == "7"
        with pytest.raises(LibraryError, match="no column 'nope'"):
            library.import_labels(csv_file, columns=["nope"])


def test_item_lookup_and_errors(tmp_path):
    media = tmp_path / "media"
    write_photos(media, ("chelsea.png",))
    with Library.create(tmp_path / "lib") as library:
        library.add([media], encoders=["image-stats"], progress=False)
        item = library.item("chelsea.png")
        assert library.item(item.id) == item
        assert library.item(item.content_hash[:10]) == item
        with pytest.raises(ItemNotFoundError, match="no item matches 'nothing.png'"):
            library.item("nothing.png")
    with pytest.raises(LibraryError, match="not a moodbridge library"):
        Library.open(tmp_path / "media")


def test_cli_ls_info_and_error_messages(tmp_path):
    media = tmp_path / "media"
    write_photos(media, ("coffee.png",))
    lib = tmp_path / "lib"
    run_cli("init", str(lib))
    assert run_cli("add", str(lib), str(media), "-q").returncode == 0
    ls = run_cli("ls", str(lib), "--json")
    rows = [json.loads(l) for l in ls.stdout.splitlines()]
    assert [Path(r["path"]).name for r in rows] == ["coffee.png"]
    info = run_cli("info", str(lib), "coffee.png", "--json")
    desc = json.loads(info.stdout)
    tops = [n for n, _ in desc["encoders"]["effnet-lite0"]["top_class_probs"]]
    assert any(("espresso" in n) or ("cup" in n) or ("coffee" in n) for n in tops), tops
    missing = run_cli("ls", str(tmp_path / "nowhere"))
    assert missing.returncode == 1
    assert missing.stderr.startswith("error: ") and "Traceback" not in missing.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    res = run_cli("add", str(lib), str(empty), "-q")
    assert res.returncode == 3 and f"{empty}: empty: this folder holds no files" in res.stdout
    assert "Traceback" not in res.stdout + res.stderr


def test_add_stores_each_items_emotion_from_its_modalitys_head(tmp_path, mixed_folder):
    media, _, good = mixed_folder
    with Library.create(tmp_path / "lib") as library:
        report = library.add([media], progress=False)
        assert report.annotated == len(good)
        for it in library.items():
            emotions = library.emotions(it)
            assert len(emotions) == 1, it.path
            emo = emotions[0]
            assert emo["head"].split("@")[0] == {"image": "image-va", "audio": "audio-va", "midi": "midi-va"}[it.modality]
            assert -1 <= emo["valence"] <= 1 and -1 <= emo["arousal"] <= 1
            assert emo["quadrant"] in {"Q1", "Q2", "Q3", "Q4"}
        # a second run finds nothing left to estimate
        assert library.add([media], progress=False).annotated == 0
