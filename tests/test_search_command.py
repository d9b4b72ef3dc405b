"""``moodbridge search`` and ``moodbridge align train`` on a small real library (real encoders and heads)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from realmedia import skimage_photo, write_photos, write_tracks

# chelsea/astronaut (image head: Q1), camera/horse (Q4), rocket (Q2); the first 8 immich tracks are
# Q4 except one Q1, so the quadrant labels share Q1 and Q4 across the two modalities.
PHOTOS = ("chelsea.png", "astronaut.png", "camera.png", "horse.png", "rocket.jpg")
RUN = "from moodbridge.cli import app; app()"


def moodbridge(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    return subprocess.run([sys.executable, "-c", RUN, *args], capture_output=True, text=True, env=env,
                          timeout=300)


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from moodbridge.library import Library

    root = tmp_path_factory.mktemp("search")
    write_photos(root / "media" / "photos", PHOTOS)
    write_tracks(root / "media" / "music", 8)
    with Library.create(root / "lib") as lib:
        report = lib.add([root / "media"], progress=False)
        assert report.summary().startswith("added 13"), report.summary()
    return root / "lib"


def library_paths(lib: Path, modality: str) -> set[str]:
    from moodbridge.library import Library

    with Library.open(lib) as library:
        return {it.path for it in library.items(modality=modality)}


def test_photo_query_finds_music_by_fallback(library: Path) -> None:
    query = skimage_photo("coffee.png")  # not in the library
    res = moodbridge("search", str(library), str(query), "--to", "music", "--top", "5", "--json")
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["method"].startswith("fallback: emotion heads' VA distance")
    assert out["space"] is None and out["target"] == "audio" and out["query_modality"] == "image"
    assert any("no trained joint space" in n for n in out["notes"])
    assert set(out["query_emotion"]) >= {"valence", "arousal", "quadrant"}
    hits = out["hits"]
    assert len(hits) == 5
    assert {h["path"] for h in hits} <= library_paths(library, "audio")
    scores = [h["score"] for h in hits]
    assert scores == sorted(scores, reverse=True)
    for h in hits:
        assert -1.0 <= h["valence"] <= 1.0 and -1.0 <= h["arousal"] <= 1.0
        assert h["quadrant"] in {"Q1", "Q2", "Q3", "Q4"}
        assert 0.0 < h["components"]["va_similarity"] <= 1.0


def test_text_query_readable_output(library: Path) -> None:
    res = moodbridge("search", str(library), "--text", "a bright, joyful summer morning", "--to", "image",
                     "--top", "3")
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0].startswith("query 'a bright, joyful summer morning' (text)")
    assert any(ln.startswith("method: fallback") for ln in lines)
    ranked = [ln for ln in lines if ln.lstrip()[:2] in {"1.", "2.", "3."}]
    assert len(ranked) == 3
    assert all("valence" in ln and "arousal" in ln for ln in ranked)
    assert all(any(p in ln for p in library_paths(library, "image")) for ln in ranked)


def _two_moods(lib: Path) -> None:
    """Label every item 'calm' or 'happy' (alternating per modality), so both modalities share two classes."""
    from moodbridge.library import Library

    rows = ["path,mood"]
    with Library.open(lib) as library:
        for modality in ("image", "audio"):
            rows += [f"{it.path},{('calm', 'happy')[i % 2]}" for i, it in enumerate(library.items(modality=modality))]
    (lib.parent / "moods.csv").write_text("\n".join(rows) + "\n")
    res = moodbridge("labels", str(lib), str(lib.parent / "moods.csv"))
    assert res.returncode == 0, res.stderr


def test_align_train_then_search_uses_joint_space(library: Path, tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    shutil.copytree(library, lib)  # leave the shared library without a space
    _two_moods(lib)
    res = moodbridge("align", "train", str(lib), "--from", "image", "--to", "audio", "--label", "mood",
                     "--space", "mood", "--epochs", "3")
    assert res.returncode == 0, res.stderr
    assert "trained joint space 'mood'" in res.stdout
    assert (lib / "spaces" / "mood" / "config.json").is_file()
    assert (lib / "spaces" / "mood" / "moodbridge-space.json").is_file()
    assert (lib / "indexes" / "mood" / "audio.json").is_file()
    assert (lib / "indexes" / "mood" / "image.json").is_file()

    res = moodbridge("search", str(lib), str(skimage_photo("coffee.png")), "--to", "music", "--top", "4", "--json")
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["method"].startswith("joint space 'mood'") and out["space"] == "mood"
    hits = out["hits"]
    assert len(hits) == 4
    assert {h["path"] for h in hits} <= library_paths(lib, "audio")
    scores = [h["score"] for h in hits]
    assert scores == sorted(scores, reverse=True) and all(-1.0 <= s <= 1.0 for s in scores)
    assert all(h["quadrant"] in {"Q1", "Q2", "Q3", "Q4"} for h in hits)

    # the same space serves as EMID's S in the pairing (pair --space joint:mood)
    import numpy as np

    from moodbridge.align import JointSpace
    from moodbridge.library import Library
    from moodbridge.pairing.dataset import build_pairs
    from moodbridge.search.query import library_features

    with Library.open(lib) as library:
        table = build_pairs(library, k=3, m=2, space="joint:mood", filters=[])
        joint = JointSpace.load(lib / "spaces" / "mood")
        za = joint.embed("audio", library_features(library, table.music, "musicnn-msd+musicnn-mtt"))
        zi = joint.embed("image", library_features(library, table.images, "effnet-lite0"))
    assert "joint space 'mood'" in table.params["space_description"]
    music = [it.path for it in table.music]
    images = [it.path for it in table.images]
    for row in table.frame.itertuples():
        expected = za[music.index(row.clip_path)] @ zi[images.index(row.image_path)]
        assert abs(row.S - expected) < 1e-5


def test_undecodable_query_is_one_clear_line(library: Path, tmp_path: Path) -> None:
    png = skimage_photo("chelsea.png").read_bytes()
    bad = tmp_path / "broken.png"
    bad.write_bytes(png[: len(png) // 3])
    res = moodbridge("search", str(library), str(bad), "--to", "music")
    assert res.returncode == 1
    assert "Traceback" not in res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "broken.png" in lines[0]


def test_missing_target_modality_and_bad_top(library: Path) -> None:
    res = moodbridge("search", str(library), "--text", "calm", "--to", "midi")
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert "no midi" in res.stderr and len(res.stderr.strip().splitlines()) == 1
    res = moodbridge("search", str(library), "--text", "calm", "--to", "music", "--top", "0")
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert "top must be a positive integer" in res.stderr


def test_space_dimension_mismatch_names_both_dims(library: Path, tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    shutil.copytree(library, lib)
    _two_moods(lib)
    res = moodbridge("align", "train", str(lib), "--from", "image", "--to", "music", "--label", "mood", "--space", "s",
                     "--epochs", "1")
    assert res.returncode == 0, res.stderr
    info_file = lib / "spaces" / "s" / "moodbridge-space.json"
    info = json.loads(info_file.read_text())
    info["features"]["audio"] = "musicnn-msd"  # 200-d, the head was trained on 400-d msd+mtt
    info_file.write_text(json.dumps(info))
    res = moodbridge("search", str(lib), "--text", "calm", "--to", "music", "--space", "s")
    assert res.returncode == 1 and "Traceback" not in res.stderr
    # a text query has no head in an image-audio space: a named space that cannot serve it is an error
    assert "no text head" in res.stderr
    res = moodbridge("search", str(lib), str(skimage_photo("coffee.png")), "--to", "music")
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert "dimension mismatch" in res.stderr and "400" in res.stderr and "200" in res.stderr


def test_fallback_without_bridge_module(monkeypatch: pytest.MonkeyPatch) -> None:
    from moodbridge.search import query

    monkeypatch.setitem(sys.modules, "moodbridge.semantic.bridge", None)
    monkeypatch.delattr("moodbridge.semantic.bridge", raising=False)
    cos, why = query._bridge("image", {}, None, [])
    assert cos is None and why.startswith("semantic bridge unavailable")


def test_search_with_a_sharded_index_finds_what_the_exact_index_finds(library: Path, tmp_path: Path) -> None:
    """``align train --index-shards 2``: each modality's index in 2 shards; ``search`` loads and merges them."""
    import numpy as np

    from moodbridge.jobs.search import run_search
    from moodbridge.search import VectorIndex, build_index
    from moodbridge.search.library_index import open_index

    lib = tmp_path / "lib"
    shutil.copytree(library, lib)
    _two_moods(lib)
    res = moodbridge("align", "train", str(lib), "--from", "image", "--to", "audio", "--label", "mood",
                     "--space", "mood", "--epochs", "3", "--index-shards", "2")
    assert res.returncode == 0, res.stderr
    folder = lib / "indexes" / "mood"
    sharded = open_index(folder, "audio")
    assert sharded.kind == "sharded-flat" and [len(s) for s in sharded.shards] == [4, 4]
    query = skimage_photo("coffee.png")
    got = run_search(lib, query, to="music", top=8)
    assert "sharded-flat" in got.method

    vectors = np.concatenate([s.index.reconstruct_n(0, len(s)) for s in sharded.shards])
    build_index(vectors, sharded.ids.tolist(), kind="flat", modality="audio", space="mood").save(folder)
    assert isinstance(open_index(folder, "audio"), VectorIndex)  # the same vectors in one exact index
    expected = run_search(lib, query, to="music", top=8)
    assert [h.path for h in got.hits] == [h.path for h in expected.hits] and len(got.hits) == 8
    np.testing.assert_allclose([h.score for h in got.hits], [h.score for h in expected.hits], rtol=0, atol=1e-6)
