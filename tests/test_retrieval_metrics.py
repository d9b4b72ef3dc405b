"""Retrieval metrics (Emo-CLIM Sec. 5.1): P@k, MRR, per class, macro / micro, on hand-computed cases."""
from __future__ import annotations

import numpy as np
import pytest

import moodbridge.evaluate.retrieval as retrieval
from moodbridge.errors import InvalidValueError
from moodbridge.evaluate import cosine_scores, retrieval_metrics, retrieval_metrics_from_scores, retrieval_table

# 3 queries x 4 gallery items.  Rankings (by score):
#   q0 (A): g1 B, g2 A, g3 B, g0 A -> hits 0 1 0 1: P@1 0, P@2 1/2, MRR 1/2
#   q1 (B): g0 A, g1 B, g3 B, g2 A -> hits 0 1 1 0: P@1 0, P@2 1/2, MRR 1/2
#   q2 (A): g0 A, g2 A, g1 B, g3 B -> hits 1 1 0 0: P@1 1, P@2 1,   MRR 1
SCORES = np.array([[0.1, 0.9, 0.5, 0.3], [0.8, 0.7, 0.1, 0.2], [0.9, 0.1, 0.8, 0.0]])
QUERY_LABELS = ["A", "B", "A"]
GALLERY_LABELS = ["A", "B", "A", "B"]


def test_hand_computed_scores() -> None:
    r = retrieval_metrics_from_scores(SCORES, QUERY_LABELS, GALLERY_LABELS, ks=(1, 2))
    np.testing.assert_allclose(r.per_query["p@1"], [0, 0, 1])
    np.testing.assert_allclose(r.per_query["p@2"], [0.5, 0.5, 1])
    np.testing.assert_allclose(r.per_query["mrr"], [0.5, 0.5, 1])
    assert r.per_class["A"] == pytest.approx({"p@1": 0.5, "p@2": 0.75, "mrr": 0.75, "n_queries": 2, "n_relevant": 2})
    assert r.per_class["B"] == pytest.approx({"p@1": 0.0, "p@2": 0.5, "mrr": 0.5, "n_queries": 1, "n_relevant": 2})
    assert r.macro == pytest.approx({"p@1": 0.25, "p@2": 0.625, "mrr": 0.625})  # mean over classes
    assert r.micro == pytest.approx({"p@1": 1 / 3, "p@2": 2 / 3, "mrr": 2 / 3})  # mean over queries


def test_k_is_capped_at_the_gallery_and_absent_classes_score_zero() -> None:
    r = retrieval_metrics_from_scores(SCORES, ["A", "B", "C"], GALLERY_LABELS, ks=(5,))
    assert r.per_query["p@5"].tolist() == [0.5, 0.5, 0.0]  # P@5 over the 4 items there are
    assert r.per_class["C"]["mrr"] == 0.0 and r.per_class["C"]["n_relevant"] == 0
    assert r.macro["mrr"] == pytest.approx((0.5 + 0.5 + 0.0) / 3)


def test_ties_are_broken_by_gallery_order() -> None:
    r = retrieval_metrics_from_scores(np.zeros((2, 3)), ["A", "B"], ["B", "A", "B"], ks=(1,))
    assert r.per_query["p@1"].tolist() == [0.0, 1.0]
    assert r.per_query["mrr"].tolist() == [0.5, 1.0]


def test_intra_modal_excludes_the_query_itself() -> None:
    emb = np.array([[1.0, 0.0], [1.0, 0.1], [0.0, 1.0], [0.1, 1.0]])
    labels = ["A", "B", "A", "B"]
    # nearest other item always has the other label; first correct item at rank 3, 2, 3, 2
    r = retrieval_metrics(emb, labels, emb, labels, exclude_self=True)
    assert r.per_query["p@1"].tolist() == [0, 0, 0, 0]
    np.testing.assert_allclose(r.per_query["mrr"], [1 / 3, 1 / 2, 1 / 3, 1 / 2])
    np.testing.assert_allclose(r.per_query["p@5"], [1 / 3] * 4)  # 3 candidates, one correct
    assert r.macro["mrr"] == pytest.approx(5 / 12)
    with_self = retrieval_metrics(emb, labels, emb, labels)
    assert with_self.per_query["p@1"].tolist() == [1, 1, 1, 1]


def test_embedding_scores_are_cosine() -> None:
    rng = np.random.default_rng(0)
    q, g = rng.normal(size=(5, 3)), rng.normal(size=(7, 3))
    expected = (q / np.linalg.norm(q, axis=1, keepdims=True)) @ (g / np.linalg.norm(g, axis=1, keepdims=True)).T
    np.testing.assert_allclose(cosine_scores(q, g), expected)
    ql, gl = rng.integers(0, 2, 5), rng.integers(0, 2, 7)
    a = retrieval_metrics(q * 7.0, ql, g, gl)  # scale-invariant
    b = retrieval_metrics_from_scores(expected, ql, gl)
    assert a.macro == pytest.approx(b.macro)


def _naive(scores: np.ndarray, ql, gl, k: int, exclude_self: bool):
    p, rr = [], []
    for i, row in enumerate(scores):
        order = [j for j in sorted(range(len(row)), key=lambda j: (-row[j], j)) if not (exclude_self and j == i)]
        hits = [gl[j] == ql[i] for j in order]
        p.append(sum(hits[:k]) / min(k, len(order)))
        rr.append(1 / (hits.index(True) + 1) if True in hits else 0.0)
    return np.array(p), np.array(rr)


@pytest.mark.parametrize("exclude_self", [False, True])
def test_blocked_computation_matches_a_naive_loop(monkeypatch, exclude_self: bool) -> None:
    monkeypatch.setattr(retrieval, "BLOCK", 7)  # several blocks, the last one partial
    rng = np.random.default_rng(1)
    n = 30
    emb = rng.normal(size=(n, 4))
    labels = rng.integers(0, 3, n)
    gallery = emb if exclude_self else rng.normal(size=(25, 4))
    gl = labels if exclude_self else rng.integers(0, 3, 25)
    r = retrieval_metrics(emb, labels, gallery, gl, exclude_self=exclude_self)
    p5, rr = _naive(cosine_scores(emb, gallery), labels, gl, 5, exclude_self)
    np.testing.assert_allclose(r.per_query["p@5"], p5)
    np.testing.assert_allclose(r.per_query["mrr"], rr)
    macro = np.mean([rr[labels == c].mean() for c in np.unique(labels)])
    assert r.macro["mrr"] == pytest.approx(macro)


def test_tables_like_the_paper() -> None:
    r = retrieval_metrics_from_scores(SCORES, QUERY_LABELS, GALLERY_LABELS)
    frame = r.to_frame()
    assert list(frame.index) == ["A", "B", "macro"]
    assert {"p@1", "p@5", "mrr", "n_queries", "n_relevant"} <= set(frame.columns)
    assert frame.loc["macro", "mrr"] == pytest.approx(0.625) and frame.loc["macro", "n_queries"] == 3
    table1 = retrieval_table({"image → music": r, "music → image": r})
    assert list(table1.index) == ["image → music", "music → image"]
    assert list(table1.columns) == ["p@1", "p@5", "mrr"]
    table5 = retrieval_table({"image → music": r}, metric="p@5")
    assert list(table5.index) == ["A", "B", "macro"] and table5.loc["macro", "image → music"] == r.macro["p@5"]


@pytest.mark.parametrize(
    "call",
    [
        lambda: retrieval_metrics(np.zeros((2, 3)), [0, 1], np.zeros((2, 4)), [0, 1]),
        lambda: retrieval_metrics(np.ones((2, 3)), [0], np.ones((2, 3)), [0, 1]),
        lambda: retrieval_metrics(np.ones((2, 3)), [0, 1], np.ones((3, 3)), [0, 1, 0], exclude_self=True),
        lambda: retrieval_metrics(np.ones((1, 3)), [0], np.ones((1, 3)), [0], exclude_self=True),
        lambda: retrieval_metrics_from_scores(np.array([[np.nan, 1.0]]), [0], [0, 1]),
        lambda: retrieval_metrics_from_scores(np.ones((1, 2)), [0], [0, 1], ks=(0,)),
        lambda: cosine_scores(np.ones(3), np.ones((2, 3))),
    ],
)
def test_bad_inputs_raise(call) -> None:
    with pytest.raises(InvalidValueError):
        call()
