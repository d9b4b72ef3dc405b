"""FAISS joint-space indexes: exactness, approximate recall, storage, atomic saves, errors."""
from __future__ import annotations

import json
import os
from types import SimpleNamespace

import faiss
import numpy as np
import pytest

from moodbridge.errors import InvalidValueError, LibraryError
from moodbridge.search import VectorIndex, build_index, index_dir, index_library, load_index, open_library_index


def unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def mixture(n: int, d: int, *, clusters: int, seed: int) -> np.ndarray:
    """Gaussian mixture on the sphere, like projection-head embeddings."""
    rng = np.random.default_rng(seed)
    centres = unit(rng.standard_normal((clusters, d)))
    c = rng.integers(0, clusters, n)
    return unit(centres[c] + rng.standard_normal((n, d)) * (0.9 / np.sqrt(d)))


def brute_force(x: np.ndarray, q: np.ndarray, top: int) -> tuple[np.ndarray, np.ndarray]:
    sims = unit(q) @ unit(x).T
    order = np.argsort(-sims, axis=1, kind="stable")[:, :top]
    return order, np.take_along_axis(sims, order, axis=1)


@pytest.fixture(scope="module")
def small() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    return rng.standard_normal((1500, 24)).astype(np.float32) * 3.0, rng.standard_normal((40, 24)).astype(np.float32)


# ------------------------------------------------------------------ exact
def test_exact_index_returns_brute_force_top_n(small):
    x, q = small
    index = build_index(x, [f"item-{i}" for i in range(len(x))], modality="audio")
    assert index.kind == "flat"
    ids, scores = index.search(q, 7)
    order, sims = brute_force(x, q, 7)
    assert ids.shape == scores.shape == (len(q), 7)
    np.testing.assert_array_equal(ids, np.array([[f"item-{i}" for i in row] for row in order], dtype=object))
    np.testing.assert_allclose(scores, sims, atol=1e-5)
    assert np.all(np.diff(scores, axis=1) <= 1e-6)


def test_single_query_and_integer_ids(small):
    x, q = small
    index = build_index(x, np.arange(100, 100 + len(x)))
    ids, scores = index.search(q[0], 3)
    assert ids.shape == scores.shape == (3,) and ids.dtype == np.int64
    order, sims = brute_force(x, q[:1], 3)
    np.testing.assert_array_equal(ids, order[0] + 100)
    # a database vector finds itself first, with cosine 1, whatever its norm
    ids, scores = index.search(x[5] * 10, 1)
    assert ids[0] == 105 and scores[0] == pytest.approx(1.0, abs=1e-5)


def test_top_larger_than_index_returns_every_item():
    x = np.eye(3, dtype=np.float32)
    ids, scores = build_index(x, ["a", "b", "c"]).search(x[0], 10)
    assert ids[0] == "a" and sorted(ids) == ["a", "b", "c"] and len(scores) == 3


def test_auto_switches_to_approximate_above_exact_max():
    x = mixture(300, 16, clusters=5, seed=0)
    assert build_index(x, exact_max=300).kind == "flat"
    assert build_index(x, exact_max=299).kind == "ivf"


# ------------------------------------------------------------ approximate
@pytest.fixture(scope="module")
def structured() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    data = mixture(20_200, 64, clusters=40, seed=3)
    x, q = data[:20_000], data[20_000:]
    exact, _ = build_index(x, kind="flat").search(q, 10)
    return x, q, exact


@pytest.mark.parametrize("kind", ["hnsw", "ivf"])
def test_approximate_recall_on_structured_set(structured, kind):
    x, q, exact = structured
    index = build_index(x, kind=kind)
    ids, scores = index.search(q, 10)
    found = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(ids.tolist(), exact.tolist(), strict=True)])
    assert found >= 0.9, f"{kind} recall@10 {found:.3f}"
    assert np.all(scores <= 1.0) and np.all(np.diff(scores, axis=1) <= 1e-6)
    # the search-time knob works and higher values do not lose recall
    key = "ef_search" if kind == "hnsw" else "nprobe"
    wide, _ = index.search(q, 10, **{key: 256})
    wider = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(wide.tolist(), exact.tolist(), strict=True)])
    assert wider >= found - 1e-9


def test_search_restores_faiss_threads(small):
    x, q = small
    before = faiss.omp_get_max_threads()
    index = build_index(x)
    index.search(q[0], 3)
    index.search(q, 3, threads=1)
    assert faiss.omp_get_max_threads() == before


# -------------------------------------------------------------- storage
@pytest.mark.parametrize("kind", ["flat", "hnsw", "ivf"])
def test_save_load_round_trip(tmp_path, small, kind):
    x, q = small
    index = build_index(x, [f"h{i}" for i in range(len(x))], kind=kind, modality="image", space="emo-clim",
                        nlist=32, ef_search=40)
    manifest = index.save(tmp_path / "indexes" / "emo-clim")
    assert manifest.name == "image.json"
    meta = json.loads(manifest.read_text())
    assert meta["dim"] == 24 and meta["count"] == len(x) and meta["kind"] == kind
    assert meta["ids"][:2] == ["h0", "h1"] and len(meta["sha256"]) == 64
    assert (manifest.parent / meta["data_file"]).is_file()
    again = load_index(tmp_path / "indexes" / "emo-clim", "image")
    assert (again.kind, again.dim, len(again), again.space, again.params) == (
        kind, 24, len(x), "emo-clim", index.params)
    for a, b in zip(index.search(q, 5), again.search(q, 5), strict=True):
        np.testing.assert_array_equal(a, b)
    mapped = load_index(tmp_path / "indexes" / "emo-clim", "image", mmap=True, verify=False)
    np.testing.assert_array_equal(mapped.search(q, 5)[0], index.search(q, 5)[0])


def test_resave_replaces_data_file(tmp_path, small):
    x, _ = small
    build_index(x[:100]).save(tmp_path)
    build_index(x[:200]).save(tmp_path)
    assert len(load_index(tmp_path, "items")) == 200
    assert sorted(p.suffix for p in tmp_path.iterdir()) == [".faiss", ".json"]


def test_failed_write_leaves_old_index_intact(tmp_path, small, monkeypatch):
    x, q = small
    old = build_index(x[:500], modality="audio")
    old.save(tmp_path)
    expected = old.search(q, 5)

    real_write = faiss.write_index

    def partial_then_fail(index, path):
        with open(path, "wb") as fh:
            fh.write(b"IxF2 partial")
        raise RuntimeError("Error: disk full while writing index")

    monkeypatch.setattr(faiss, "write_index", partial_then_fail)
    with pytest.raises(LibraryError, match="could not save the 'audio' index.*disk full"):
        build_index(x, modality="audio").save(tmp_path)
    monkeypatch.setattr(faiss, "write_index", real_write)

    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []  # no temp files left
    kept = load_index(tmp_path, "audio")
    assert len(kept) == 500
    for a, b in zip(kept.search(q, 5), expected, strict=True):
        np.testing.assert_array_equal(a, b)


def test_failure_before_manifest_commit_keeps_old_index(tmp_path, small, monkeypatch):
    x, q = small
    build_index(x[:300], modality="audio").save(tmp_path)
    real_replace = os.replace

    def fail_on_manifest(src, dst):
        if str(dst).endswith(".json"):
            raise OSError(28, "No space left on device")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", fail_on_manifest)
    with pytest.raises(LibraryError, match="No space left"):
        build_index(x, modality="audio").save(tmp_path)
    monkeypatch.setattr(os, "replace", real_replace)
    assert len(load_index(tmp_path, "audio")) == 300
    build_index(x, modality="audio").save(tmp_path)  # the next save cleans up the orphan data file
    assert len(load_index(tmp_path, "audio")) == len(x)
    assert len(list(tmp_path.glob("audio.*.faiss"))) == 1


def test_damaged_or_missing_index_is_a_library_error(tmp_path, small):
    x, _ = small
    with pytest.raises(LibraryError, match="no 'image' index here"):
        load_index(tmp_path, "image")
    manifest = build_index(x, modality="image").save(tmp_path)
    data = tmp_path / json.loads(manifest.read_text())["data_file"]
    data.write_bytes(data.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(LibraryError, match="checksum does not match"):
        load_index(tmp_path, "image")
    data.unlink()
    with pytest.raises(LibraryError, match="is missing; rebuild"):
        load_index(tmp_path, "image")
    manifest.write_text("{not json")
    with pytest.raises(LibraryError, match="unreadable index manifest"):
        load_index(tmp_path, "image")


def test_index_library_builds_under_library_folder(tmp_path):
    rng = np.random.default_rng(0)
    feats = rng.standard_normal((30, 10)).astype(np.float32)
    items = [SimpleNamespace(id=i + 7) for i in range(30)]
    library = SimpleNamespace(
        root=tmp_path, items=lambda modality=None: items, feature_matrix=lambda its, encoder: feats[: len(its)]
    )
    space = SimpleNamespace(embed=lambda modality, f: f[:, :8] * 2.0, config=SimpleNamespace(embed_dim=8))
    index = index_library(library, space, space="emo", modality="image", encoder="efficientnet-lite0")
    assert (tmp_path / "indexes" / "emo" / "image.json").is_file()
    assert index_dir(library, "emo") == tmp_path / "indexes" / "emo"
    loaded = open_library_index(library, "emo", "image")
    ids, _ = loaded.search(feats[3, :8], 1)
    assert ids[0] == 10


# ---------------------------------------------------------------- errors
def test_query_errors(small):
    x, q = small
    index = build_index(x, modality="image", space="emo")
    with pytest.raises(InvalidValueError, match=r"dimension 12.*'image' \(space 'emo'\) index 24"):
        index.search(q[:, :12], 5)
    bad = q[:3].copy()
    bad[1, 4] = np.nan
    with pytest.raises(InvalidValueError, match="1 of 3 rows hold NaN"):
        index.search(bad, 5)
    with pytest.raises(InvalidValueError, match="all zeros"):
        index.search(np.zeros(24), 5)
    for top in (0, -1, 1.5, True, "3"):
        with pytest.raises(InvalidValueError, match="top must be a positive integer"):
            index.search(q, top)
    with pytest.raises(InvalidValueError, match="2-D"):
        index.search(np.zeros((2, 3, 24)), 5)


def test_empty_index_errors_on_search():
    empty = build_index(np.zeros((0, 16), dtype=np.float32), modality="audio")
    assert len(empty) == 0 and empty.kind == "flat"
    with pytest.raises(InvalidValueError, match="'audio' index is empty"):
        empty.search(np.ones(16), 3)
    with pytest.raises(InvalidValueError, match="0 vectors"):
        build_index(np.zeros((0, 16), dtype=np.float32), kind="hnsw")


def test_build_errors(small):
    x, _ = small
    with pytest.raises(InvalidValueError, match="index kind"):
        build_index(x, kind="annoy")
    with pytest.raises(InvalidValueError, match="3 ids for 1500 vectors"):
        build_index(x, [1, 2, 3])
    with pytest.raises(InvalidValueError, match="duplicate"):
        build_index(x[:3], ["a", "b", "a"])
    with pytest.raises(InvalidValueError, match="all integers or all strings"):
        build_index(x[:2], ["a", 2])
    with pytest.raises(InvalidValueError, match="index names"):
        build_index(x, modality="../etc")
    with pytest.raises(InvalidValueError, match="NaN or infinite"):
        build_index(np.full((2, 3), np.inf))
    with pytest.raises(InvalidValueError, match="all zeros"):
        build_index(np.zeros((2, 3)))
    with pytest.raises(InvalidValueError, match="at least 64 vectors"):
        build_index(x[:10], kind="ivf", nlist=64)
    with pytest.raises(InvalidValueError, match="ef_search must be"):
        build_index(x, kind="hnsw", ef_search=0)
    assert isinstance(build_index(x[:10]), VectorIndex)
