"""``moodbridge pair`` on a small real library: bridge, VA sources, ordering, outputs, errors."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from moodbridge.errors import InvalidValueError, LibraryError, MoodbridgeError
from moodbridge.library import Library
from moodbridge.library.bridge import bridge_embeddings
from moodbridge.semantic.bridge import bridge_from_outputs
from moodbridge.pairing.dataset import build_pairs, write_outputs
from moodbridge.pairing.semantic_space import semantic_embeddings
from realmedia import write_photos, write_tracks

PHOTOS = ("astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg", "camera.png", "motorcycle_left.png")
CLI = "from moodbridge.cli import app; app()"


@pytest.fixture(scope="module")
def lib(tmp_path_factory):
    root = tmp_path_factory.mktemp("pairlib")
    write_photos(root / "media" / "photos", PHOTOS)
    tracks = write_tracks(root / "media" / "music", 6)
    labels = root / "moods.csv"
    labels.write_text(f"file,mood\n{tracks[0].name},calm\n{tracks[1].name},nostalgic\n")
    library = Library.create(root / "lib")
    library.add([root / "media"], progress=False)
    library.import_labels(labels)
    yield library
    library.close()


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", CLI, "pair", *args], capture_output=True, text=True, timeout=120)


def test_bridge_unit_rows_and_modalities(lib):
    music, images = lib.items(modality="audio"), lib.items(modality="image")
    X, Y = bridge_embeddings(lib, music), bridge_embeddings(lib, images)
    assert X.shape == (6, 384) and Y.shape == (6, 384)
    np.testing.assert_allclose(np.linalg.norm(X, axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(Y, axis=1), 1.0, atol=1e-6)
    with pytest.raises(InvalidValueError, match="no semantic bridge for MIDI"):
        bridge_from_outputs("midi", {})
    with pytest.raises(InvalidValueError, match="NaN"):
        bridge_from_outputs("image", {"effnet-lite0": {"class_probs": np.full((2, 1000), np.nan)}})
    text = bridge_from_outputs("text", {"minilm": {"features": np.ones((2, 384))}})
    np.testing.assert_allclose(np.linalg.norm(text, axis=1), 1.0)


def test_alpha_one_is_semantic_order(lib):
    table = build_pairs(lib, alpha=1.0, k=6, m=6)
    X, Y, _ = semantic_embeddings(lib, table.music, table.images)
    S = X @ Y.T
    for c in range(len(table.music)):
        np.testing.assert_array_equal(table.pairing.images_of(c), np.argsort(-S[c], kind="stable"))


def test_alpha_zero_is_emotional_order_among_k(lib):
    k = 4
    table = build_pairs(lib, alpha=0.0, k=k, m=k)
    X, Y, _ = semantic_embeddings(lib, table.music, table.images)
    S = X @ Y.T
    for c, rows in table.frame.groupby("clip_path", sort=False):
        clip = [it.path for it in table.music].index(c)
        chosen = {[it.path for it in table.images].index(p) for p in rows["image_path"]}
        assert chosen == set(np.argsort(-S[clip])[:k].tolist())  # the K semantic candidates
        assert (np.diff(rows["E"].to_numpy()) <= 1e-12).all()  # ranked by E alone


def test_m_rows_per_clip_sources_and_outputs(lib, tmp_path):
    table = build_pairs(lib, alpha=0.6, k=5, m=3)
    df = table.frame
    assert len(df) == 6 * 3
    assert (df.groupby("clip_path").size() == 3).all()
    assert (df.groupby("clip_path")["rank"].apply(list) == pd.Series([[0, 1, 2]] * 6, index=sorted(set(df.clip_path)))).all()
    assert set(df.columns) >= {"clip_path", "image_path", "rank", "S", "E", "T", "clip_valence", "clip_arousal",
                               "clip_quadrant", "clip_source", "image_valence", "image_arousal", "image_quadrant",
                               "image_source"}
    by_clip = dict(zip(df.clip_path, df.clip_source))
    sources = [by_clip[it.path] for it in table.music]
    assert sources[0].startswith("label:mood=calm")  # calm → taxonomy
    assert sources[1] == "text:mood=nostalgic"  # no taxonomy → text head
    assert all(s.startswith("head:audio-va") for s in sources[2:])
    assert set(df.image_source) == {"head:image-va@2"}

    paths = write_outputs(table, tmp_path / "out", params={"note": "test"})
    csv, parquet = pd.read_csv(paths["csv"]), pd.read_parquet(paths["parquet"])
    pd.testing.assert_frame_equal(csv, parquet, check_exact=False, rtol=1e-9)
    pd.testing.assert_frame_equal(parquet, df.reset_index(drop=True), check_exact=False, rtol=1e-9)
    meta = json.loads(paths["json"].read_text())
    assert meta["parameters"]["alpha"] == 0.6 and meta["parameters"]["k"] == 5 and meta["parameters"]["m"] == 3
    assert meta["parameters"]["note"] == "test"
    assert meta["counts"] == {"music": 6, "images": 6, "pairs": 18}
    assert len(meta["library_fingerprint"]) == 64 and meta["moodbridge_version"]
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.endswith(".tmp")]


def test_k_larger_than_images(lib):
    with pytest.raises(InvalidValueError, match=r"k = 100 .* only 6 images.*clamp"):
        build_pairs(lib, k=100)
    table = build_pairs(lib, k=100, m=2, clamp_k=True)
    assert table.k == 6 and table.params["k_used"] == 6 and len(table) == 12


def test_empty_library(tmp_path):
    with Library.create(tmp_path / "empty") as empty, pytest.raises(LibraryError, match="empty"):
        build_pairs(empty)


def test_cli_pair_and_errors(lib, tmp_path):
    out = tmp_path / "cli-out"
    ok = run_cli(str(lib.root), "--alpha", "0.5", "--k", "4", "--m", "2", "--out", str(out),
                 "--metric", "inverse-euclidean")
    assert ok.returncode == 0, ok.stderr
    assert "paired 6 clip(s) with 6 image(s)" in ok.stdout
    meta = json.loads((out / "dataset.json").read_text())
    assert meta["parameters"]["metric"] == "inverse-euclidean" and meta["parameters"]["alpha"] == 0.5
    assert len(pd.read_parquet(out / "pairs.parquet")) == 12

    too_many = run_cli(str(lib.root), "--k", "100", "--out", str(tmp_path / "x"))
    assert too_many.returncode == 1 and "Traceback" not in too_many.stderr
    assert "k = 100" in too_many.stderr and "only 6 images" in too_many.stderr and "--clamp-k" in too_many.stderr
    clamped = run_cli(str(lib.root), "--k", "100", "--clamp-k", "--out", str(tmp_path / "y"))
    assert clamped.returncode == 0 and "clamped" in clamped.stdout

    photos_only = Library.create(tmp_path / "photos-lib")
    photos_only.add(write_photos(tmp_path / "p", ("chelsea.png",)), encoders=["image-stats"], progress=False,
                    annotate=False)
    photos_only.close()
    err = run_cli(str(tmp_path / "photos-lib"), "--out", str(tmp_path / "z"))
    assert err.returncode == 1 and "Traceback" not in err.stderr
    assert "no audio items" in err.stderr and "1 image" in err.stderr
    with Library.open(tmp_path / "photos-lib") as again, pytest.raises(MoodbridgeError, match="no audio items"):
        build_pairs(again)


def test_semantic_spaces(lib):
    music, images = lib.items(modality="audio"), lib.items(modality="image")
    raw_x, raw_y = bridge_embeddings(lib, music), bridge_embeddings(lib, images)
    x, y, what = semantic_embeddings(lib, music, images, "bridge-raw")
    np.testing.assert_allclose(x, raw_x / np.linalg.norm(raw_x, axis=1, keepdims=True), atol=1e-6)
    assert "raw" in what
    x, y, what = semantic_embeddings(lib, music, images)  # default: centred per modality
    assert "centred" in what
    for emb, raw in ((x, raw_x), (y, raw_y)):
        np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)
        centred = raw - raw.mean(axis=0)
        np.testing.assert_allclose(emb, centred / np.linalg.norm(centred, axis=1, keepdims=True), atol=1e-5)
    one, _, _ = semantic_embeddings(lib, music[:1], images)  # one clip: nothing to centre on
    np.testing.assert_allclose(one, raw_x[:1] / np.linalg.norm(raw_x[:1]), atol=1e-6)
    with pytest.raises(InvalidValueError, match="unknown semantic space 'clip'"):
        semantic_embeddings(lib, music, images, "clip")
    with pytest.raises(LibraryError, match="no joint space 'nope'"):
        semantic_embeddings(lib, music, images, "joint:nope")
