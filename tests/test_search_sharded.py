"""Sharded FAISS search (issue 16): exact per-shard indexes merged equal one exact index; bad shard counts."""
from __future__ import annotations

import numpy as np
import pytest

from moodbridge.errors import InvalidValueError
from moodbridge.search import build_index
from moodbridge.search.sharded import build_sharded, merge_top


def _unit(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    x = rng.standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.mark.parametrize("shards", [1, 3, 7])
def test_flat_shards_merged_equal_one_flat_index(shards):
    rng = np.random.default_rng(shards)
    x, q = _unit(rng, 900, 16), _unit(rng, 25, 16)
    expected_ids, expected_scores = build_index(x, kind="flat").search(q, 12)
    ids, scores = build_sharded(x, shards=shards, kind="flat").search(q, 12)
    np.testing.assert_array_equal(ids, expected_ids)
    np.testing.assert_allclose(scores, expected_scores, atol=1e-6)


def test_ivf_shards_find_most_of_the_exact_neighbours():
    rng = np.random.default_rng(0)
    centres = _unit(rng, 20, 32)
    x = centres[rng.integers(0, 20, 20_000)] + 0.05 * rng.standard_normal((20_000, 32)).astype(np.float32)
    exact, _ = build_index(x, kind="flat").search(x[:50], 10)
    ids, _ = build_sharded(x, shards=4, kind="ivf", nprobe=8).search(x[:50], 10)
    hits = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(ids.tolist(), exact.tolist())])
    assert hits > 0.9
    assert ids.shape == (50, 10) and ids.max() >= 15_000  # ids are global rows, from the last shard too


def test_merge_ties_and_missing_entries():
    ids, scores = merge_top([np.array([[5, -1]]), np.array([[2, 9]])],
                            [np.array([[0.5, 0.0]]), np.array([[0.5, 0.7]])], 3)
    np.testing.assert_array_equal(ids, [[9, 2, 5]])  # 0.7 first, then the tie at 0.5 by lower id
    with pytest.raises(InvalidValueError, match="shards must be between 1 and the 4 rows"):
        build_sharded(np.eye(4, dtype=np.float32), shards=5)


def test_sharded_index_saved_loaded_and_searched_like_one_exact_index(tmp_path):
    """Synthetic clustered vectors (mechanics): IVF shards that probe every cell give the exact top-k."""
    from moodbridge.search import VectorIndex
    from moodbridge.search.library_index import auto_index_shards, open_index

    rng = np.random.default_rng(3)
    centres = rng.standard_normal((6, 16))
    x = (centres[rng.integers(0, 6, 1500)] + 0.3 * rng.standard_normal((1500, 16))).astype(np.float32)
    ids = np.arange(1500) * 7 + 100  # library item ids, not row numbers
    queries = rng.standard_normal((20, 16)).astype(np.float32)
    exact_ids, exact_scores = build_index(x, ids.tolist(), kind="flat").search(queries, 10)

    sharded = build_sharded(x, ids, shards=3, kind="ivf", nlist=8, nprobe=8, modality="audio", space="mood")
    sharded.save(tmp_path)
    first_build = sorted(p.name for p in tmp_path.iterdir())
    sharded.save(tmp_path)  # a new build replaces the old one's files
    assert len(list(tmp_path.glob("audio.*.json"))) == 3 and len(list(tmp_path.glob("audio.*.faiss"))) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) != first_build
    loaded = open_index(tmp_path, "audio")
    assert loaded.kind == "sharded-ivf" and len(loaded) == 1500 and loaded.dim == 16 and loaded.space == "mood"
    np.testing.assert_array_equal(np.sort(loaded.ids), ids)
    got_ids, got_scores = loaded.search(queries, 10)
    np.testing.assert_array_equal(got_ids, exact_ids)
    np.testing.assert_allclose(got_scores, exact_scores, rtol=0, atol=1e-6)
    one_ids, one_scores = loaded.search(queries[0], 10)  # one query: 1-D, as VectorIndex.search
    np.testing.assert_array_equal(one_ids, exact_ids[0])

    build_index(x, ids.tolist(), kind="flat", modality="audio").save(tmp_path)  # back to one index
    assert isinstance(open_index(tmp_path, "audio"), VectorIndex)
    assert auto_index_shards(1500, 16) == 1 and auto_index_shards(1500, 16, budget=4 * 16 * 600) == 3
