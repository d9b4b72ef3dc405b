"""HR@K / NDCG@K (He et al. 2017) on hand-computed rankings, ties included (moodbridge.recommend.metrics)."""
from __future__ import annotations

import math

import numpy as np
import pytest

from moodbridge.errors import InvalidValueError
from moodbridge.recommend.metrics import hit_rate, ndcg, rank_counts, ranks


def test_hand_computed_ranks_without_ties() -> None:
    # row 0: target 0.5 is 3rd (0.9, 0.7 above) ; row 1: target 0.8 is 1st
    scores = np.array([[0.9, 0.5, 0.7, 0.1], [0.2, 0.1, 0.8, 0.3]])
    greater, tied = rank_counts(scores, np.array([1, 2]))
    assert greater.tolist() == [2, 0] and tied.tolist() == [0, 0]
    assert hit_rate(greater, tied, k=2).tolist() == [0.0, 1.0]
    assert hit_rate(greater, tied, k=3).tolist() == [1.0, 1.0]
    np.testing.assert_allclose(ndcg(greater, tied, k=3), [1 / math.log2(4), 1.0])
    np.testing.assert_allclose(ndcg(greater, tied, k=2), [0.0, 1.0])
    assert ranks(greater, tied).tolist() == [3.0, 1.0]


def test_ties_expected_pessimistic_optimistic() -> None:
    # target (col 0) ties with two others, one item above: its rank is 2, 3 or 4
    scores = np.array([[0.5, 0.5, 0.5, 0.9]])
    g, t = rank_counts(scores, np.array([0]))
    assert (g.tolist(), t.tolist()) == ([1], [2])
    assert hit_rate(g, t, k=2, ties="expected")[0] == pytest.approx(1 / 3)
    assert hit_rate(g, t, k=3, ties="expected")[0] == pytest.approx(2 / 3)
    assert ndcg(g, t, k=3, ties="expected")[0] == pytest.approx((1 / math.log2(3) + 1 / math.log2(4)) / 3)
    assert ndcg(g, t, k=10, ties="expected")[0] == pytest.approx(
        (1 / math.log2(3) + 1 / math.log2(4) + 1 / math.log2(5)) / 3)
    assert hit_rate(g, t, k=3, ties="pessimistic")[0] == 0.0  # rank 4
    assert hit_rate(g, t, k=2, ties="optimistic")[0] == 1.0  # rank 2
    assert ndcg(g, t, k=2, ties="optimistic")[0] == pytest.approx(1 / math.log2(3))
    assert ranks(g, t, ties="expected")[0] == 3.0
    assert ranks(g, t, ties="pessimistic")[0] == 4.0


def test_constant_scores_give_exactly_chance_under_expected_ties() -> None:
    n, k = 50, 10
    g, t = rank_counts(np.zeros((3, n)), np.array([0, 7, 49]))
    np.testing.assert_allclose(hit_rate(g, t, k=k), k / n)
    expected_ndcg = sum(1 / math.log2(r + 1) for r in range(1, k + 1)) / n
    np.testing.assert_allclose(ndcg(g, t, k=k), expected_ndcg)
    assert hit_rate(g, t, k=k, ties="optimistic").tolist() == [1.0] * 3  # why "optimistic" is never the default
    assert hit_rate(g, t, k=k, ties="pessimistic").tolist() == [0.0] * 3


def test_expected_ties_match_the_mean_over_random_tie_breaks() -> None:
    rng = np.random.default_rng(0)
    scores = rng.integers(0, 4, (40, 30)).astype(float)  # many ties
    target = rng.integers(0, 30, 40)
    g, t = rank_counts(scores, target)
    hr, nd = np.zeros(40), np.zeros(40)
    for _ in range(3000):  # break ties at random: add a tiny random jitter
        jitter = scores + rng.random(scores.shape) * 1e-3
        gg, tt = rank_counts(jitter, target)
        hr += hit_rate(gg, tt, k=5)
        nd += ndcg(gg, tt, k=5)
    np.testing.assert_allclose(hit_rate(g, t, k=5), hr / 3000, atol=0.04)
    np.testing.assert_allclose(ndcg(g, t, k=5), nd / 3000, atol=0.03)


def test_valid_mask_removes_candidates() -> None:
    scores = np.array([[0.9, 0.5, 0.7, 0.5]])
    valid = np.array([[False, True, True, False]])  # e.g. the clip's training images
    g, t = rank_counts(scores, np.array([1]), valid=valid)
    assert (g.tolist(), t.tolist()) == ([1], [0])
    with pytest.raises(InvalidValueError, match="held-out item"):
        rank_counts(scores, np.array([0]), valid=valid)


@pytest.mark.parametrize("call, message", [
    (lambda: hit_rate(np.array([0]), np.array([0]), k=0), "K must be"),
    (lambda: ndcg(np.array([0]), np.array([0]), ties="random"), "unknown tie policy"),
    (lambda: rank_counts(np.array([[np.nan, 1.0]]), np.array([0])), "NaN"),
    (lambda: rank_counts(np.zeros(3), np.array([0])), "must be"),
])
def test_bad_arguments(call, message: str) -> None:
    with pytest.raises(InvalidValueError, match=message):
        call()
