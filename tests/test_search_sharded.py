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
