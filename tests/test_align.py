"""Joint-space learning: losses against naive loops of the papers' formulas, samplers, trainer, real data.

Naive references are written straight from the equations with Python loops
(Emo-CLIM Eq. 2-6; EIMG Eq. 4-12 with the interpretations documented in
:mod:`moodbridge.align.losses`), independent of the vectorised code.
"""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from moodbridge.align import (
    AlignConfig,
    ClassBalancedPairSampler,
    JointSpace,
    ProjectionHead,
    QuadrantBalancedPairSampler,
    cross_modal_supcon,
    eimg_loss,
    eimg_terms,
    emo_clim_loss,
    inter_modal_va_contrastive,
    intra_modal_supcon,
    intra_modal_va_contrastive,
    train_joint_space,
    va_rank_sets,
)
from moodbridge.emotion import quadrants
from moodbridge.errors import InvalidValueError

SEEDS = [0, 1, 2, 3, 4]
TAU = 0.07


# ----------------------------------------------------------------------------- naive references
def _dot(u, v) -> float:
    return sum(a * b for a, b in zip(u, v))


def _cos(u, v) -> float:
    return _dot(u, v) / math.sqrt(_dot(u, u) * _dot(v, v))


def naive_cross_modal(z1, y1, z2, y2, tau=TAU) -> float:
    """Emo-CLIM Eq. 2-3; anchors without a positive are left out of the mean."""
    terms = []
    for i in range(len(z1)):
        positives = [p for p in range(len(z2)) if y1[i] == y2[p]]
        if not positives:
            continue
        denominator = sum(math.exp(_dot(z1[i], z2[k]) / tau) for k in range(len(z2)))
        logs = [math.log(math.exp(_dot(z1[i], z2[p]) / tau) / denominator) for p in positives]
        terms.append(sum(logs) / len(positives))
    return -sum(terms) / len(terms) if terms else 0.0


def naive_intra_modal(z, y, tau=TAU) -> float:
    """Emo-CLIM Eq. 4-5."""
    terms = []
    for i in range(len(z)):
        positives = [p for p in range(len(z)) if p != i and y[p] == y[i]]
        if not positives:
            continue
        denominator = sum(math.exp(_dot(z[i], z[k]) / tau) for k in range(len(z)) if k != i)
        terms.append(sum(math.log(math.exp(_dot(z[i], z[p]) / tau) / denominator) for p in positives) / len(positives))
    return -sum(terms) / len(terms) if terms else 0.0


def _inverse_euclidean(u, v) -> float:
    return 1.0 / (1.0 + math.dist(u, v))


def naive_sets(anchor, candidates, n):
    """EIMG Eq. 4-5: top-n and bottom-n by inverse Euclidean VA similarity (ties: position)."""
    sims = [_inverse_euclidean(anchor, c) for c in candidates]
    top = sorted(range(len(candidates)), key=lambda j: (-sims[j], j))[:n]
    bottom = sorted(range(len(candidates)), key=lambda j: (sims[j], -j))[:n]
    return top, bottom


def naive_inter(z_a, va_a, z_b, va_b, n, tau=TAU) -> float:
    """EIMG Eq. 7, averaged over every item of a as the anchor x*."""
    per_anchor = []
    for anchor in va_a:
        x_pos, _ = naive_sets(anchor, va_a, n)
        y_pos, y_neg = naive_sets(anchor, va_b, n)
        loss = 0.0
        for x in x_pos:
            denominator = sum(math.exp(_cos(z_a[x], z_b[a]) / tau) for a in y_pos + y_neg)
            loss += -sum(math.log(math.exp(_cos(z_a[x], z_b[y]) / tau) / denominator) for y in y_pos) / n
        per_anchor.append(loss)
    return sum(per_anchor) / len(per_anchor)


def naive_intra_va(z, va, anchors, n, tau=TAU) -> float:
    """EIMG Eq. 11 (used for both modalities), self excluded from the denominator."""
    per_anchor = []
    for anchor in anchors:
        top, bottom = naive_sets(anchor, va, n)
        both = top + bottom
        loss = 0.0
        for x1 in both:
            group = top if x1 in top else bottom
            positives = [x2 for x2 in group if x2 != x1]
            if not positives:
                continue
            denominator = sum(math.exp(_cos(z[x1], z[a]) / tau) for a in both if a != x1)
            logs = [math.log(math.exp(_cos(z[x1], z[x2]) / tau) / denominator) for x2 in positives]
            loss += -sum(logs) / len(positives)
        per_anchor.append(loss)
    return sum(per_anchor) / len(per_anchor)


def _unit(rng: np.random.Generator, n: int, d: int = 6) -> torch.Tensor:
    return F.normalize(torch.as_tensor(rng.normal(size=(n, d))), dim=1)


def _labels(rng: np.random.Generator, n: int, n_classes: int) -> np.ndarray:
    """Random labels that always include a single-member class (label ``n_classes``)."""
    y = rng.integers(0, n_classes, n)
    y[rng.integers(n)] = n_classes
    return y


def _va(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.uniform(-1, 1, size=(n, 2))


# ----------------------------------------------------------------------------- SupCon (Emo-CLIM)
@pytest.mark.parametrize("seed", SEEDS)
def test_cross_modal_supcon_matches_naive_eq2(seed: int) -> None:
    rng = np.random.default_rng(seed)
    z1, z2 = _unit(rng, 10), _unit(rng, 10)
    y1, y2 = _labels(rng, 10, 3), _labels(rng, 10, 3)
    got = cross_modal_supcon(z1, y1, z2, y2, tau=TAU).item()
    assert got == pytest.approx(naive_cross_modal(z1.tolist(), y1, z2.tolist(), y2), abs=1e-10)


@pytest.mark.parametrize("seed", SEEDS)
def test_intra_modal_supcon_matches_naive_eq4(seed: int) -> None:
    rng = np.random.default_rng(seed)
    z, y = _unit(rng, 11), _labels(rng, 11, 3)
    assert intra_modal_supcon(z, y, tau=0.2).item() == pytest.approx(naive_intra_modal(z.tolist(), y, 0.2), abs=1e-10)


@pytest.mark.parametrize("seed", SEEDS[:3])
def test_emo_clim_total_is_weighted_sum_eq6(seed: int) -> None:
    rng = np.random.default_rng(seed)
    z1, z2 = _unit(rng, 8), _unit(rng, 8)
    y1, y2 = _labels(rng, 8, 2), _labels(rng, 8, 2)
    lambdas = (0.1, 0.2, 0.3, 0.4)
    a, b = z1.tolist(), z2.tolist()
    expected = (0.1 * naive_cross_modal(a, y1, b, y2) + 0.2 * naive_cross_modal(b, y2, a, y1)
                + 0.3 * naive_intra_modal(a, y1) + 0.4 * naive_intra_modal(b, y2))
    assert emo_clim_loss(z1, y1, z2, y2, lambdas=lambdas).item() == pytest.approx(expected, abs=1e-10)
    default = emo_clim_loss(z1, y1, z2, y2).item()
    assert default == pytest.approx(0.25 * (naive_cross_modal(a, y1, b, y2) + naive_cross_modal(b, y2, a, y1)
                                            + naive_intra_modal(a, y1) + naive_intra_modal(b, y2)), abs=1e-10)


@pytest.mark.parametrize("seed", SEEDS)
def test_supcon_matches_pytorch_metric_learning(seed: int) -> None:
    """Where the definitions coincide: pml's SupConLoss on unit vectors (cosine) with the default
    AvgNonZeroReducer, which drops anchors without positives as we do (it would also drop an
    anchor whose loss is exactly 0, which does not happen with random embeddings).  With
    ``ref_emb`` pml computes Eq. 2 (no self-masking across modalities)."""
    losses = pytest.importorskip("pytorch_metric_learning.losses")
    rng = np.random.default_rng(seed)
    z1, z2 = _unit(rng, 16, 8), _unit(rng, 16, 8)
    y1, y2 = torch.as_tensor(_labels(rng, 16, 4)), torch.as_tensor(_labels(rng, 16, 4))
    pml = losses.SupConLoss(temperature=TAU)
    assert intra_modal_supcon(z1, y1).item() == pytest.approx(pml(z1, y1).item(), abs=1e-9)
    assert cross_modal_supcon(z1, y1, z2, y2).item() == pytest.approx(
        pml(z1, y1, ref_emb=z2, ref_labels=y2).item(), abs=1e-9
    )


def test_supcon_gradients_flow() -> None:
    rng = np.random.default_rng(7)
    z1 = _unit(rng, 12).requires_grad_(True)
    z2 = _unit(rng, 12).requires_grad_(True)
    y1, y2 = _labels(rng, 12, 3), _labels(rng, 12, 3)
    emo_clim_loss(z1, y1, z2, y2).backward()
    for g in (z1.grad, z2.grad):
        assert g is not None and torch.isfinite(g).all() and g.abs().sum() > 0


def test_supcon_without_positives_is_zero_with_zero_gradient() -> None:
    rng = np.random.default_rng(0)
    z1 = _unit(rng, 4).requires_grad_(True)
    z2 = _unit(rng, 4).requires_grad_(True)
    loss = cross_modal_supcon(z1, [0, 1, 2, 3], z2, [4, 5, 6, 7]) + intra_modal_supcon(z1, [0, 1, 2, 3])
    loss.backward()
    assert loss.item() == 0.0
    assert torch.equal(z1.grad, torch.zeros_like(z1)) and torch.equal(z2.grad, torch.zeros_like(z2))
    single = _unit(rng, 1).requires_grad_(True)
    out = intra_modal_supcon(single, [3])
    out.backward()
    assert out.item() == 0.0 and torch.isfinite(single.grad).all()


def test_supcon_single_member_class_is_excluded_not_nan() -> None:
    rng = np.random.default_rng(1)
    z = _unit(rng, 5).requires_grad_(True)
    y = [0, 0, 1, 1, 2]  # class 2 has one member: no positive for that anchor
    loss = intra_modal_supcon(z, y)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(z.grad).all()
    assert loss.item() == pytest.approx(naive_intra_modal(z.tolist(), y), abs=1e-10)


@pytest.mark.parametrize(
    "call",
    [
        lambda r: cross_modal_supcon(_unit(r, 4, 6), [0, 1, 0, 1], _unit(r, 4, 5), [0, 1, 0, 1]),  # dims
        lambda r: cross_modal_supcon(_unit(r, 4), [0, 1, 0, 1], _unit(r, 5), [0, 1, 0, 1, 0]),  # batch sizes
        lambda r: cross_modal_supcon(_unit(r, 4), [0, 1, 0], _unit(r, 4), [0, 1, 0, 1]),  # label count
        lambda r: intra_modal_supcon(_unit(r, 4), [[0, 1], [0, 1]]),  # label shape
        lambda r: intra_modal_supcon(torch.zeros(4), [0, 1, 0, 1]),  # 1-D embeddings
        lambda r: intra_modal_supcon(_unit(r, 4), [0, 1, 0, 1], tau=0.0),
        lambda r: emo_clim_loss(_unit(r, 4), [0, 1, 0, 1], _unit(r, 4), [0, 1, 0, 1], lambdas=(1, 1, 1)),
        lambda r: inter_modal_va_contrastive(_unit(r, 8), _va(r, 8), _unit(r, 8, 5), _va(r, 8), n=2),  # dims
        lambda r: inter_modal_va_contrastive(_unit(r, 8), _va(r, 7), _unit(r, 8), _va(r, 8), n=2),  # VA count
        lambda r: intra_modal_va_contrastive(_unit(r, 7), _va(r, 7), n=4),  # batch < 2n
        lambda r: intra_modal_va_contrastive(_unit(r, 8), _va(r, 8) * 3, n=2),  # VA out of range
    ],
)
def test_losses_reject_bad_shapes(call) -> None:
    with pytest.raises(InvalidValueError):
        call(np.random.default_rng(0))


# ----------------------------------------------------------------------------- EIMG
@pytest.mark.parametrize("seed", SEEDS)
def test_va_rank_sets_top_and_bottom(seed: int) -> None:
    rng = np.random.default_rng(seed)
    anchors, va = _va(rng, 3), _va(rng, 12)
    top, bottom = va_rank_sets(anchors, va, n=4)
    for k in range(3):
        t, b = naive_sets(anchors[k], va, 4)
        assert top[k].tolist() == t and bottom[k].tolist() == b
        assert not set(t) & set(b)
    same = np.zeros((6, 2))  # all tied: the sets still do not overlap
    top, bottom = va_rank_sets(same[:1], same, n=3)
    assert top[0].tolist() == [0, 1, 2] and bottom[0].tolist() == [5, 4, 3]


@pytest.mark.parametrize("seed", SEEDS)
def test_inter_modal_va_matches_naive_eq7(seed: int) -> None:
    rng = np.random.default_rng(seed)
    z_a, z_b = _unit(rng, 10) * 3.0, _unit(rng, 12)  # not unit: the loss takes the cosine
    va_a, va_b = _va(rng, 10), _va(rng, 12)
    got = inter_modal_va_contrastive(z_a, va_a, z_b, va_b, n=3, tau=0.1).item()
    assert got == pytest.approx(naive_inter(z_a.tolist(), va_a, z_b.tolist(), va_b, 3, 0.1), abs=1e-9)


@pytest.mark.parametrize("seed", SEEDS)
def test_intra_modal_va_matches_naive_eq11(seed: int) -> None:
    rng = np.random.default_rng(seed)
    z, va, other = _unit(rng, 11), _va(rng, 11), _va(rng, 5)
    got_self = intra_modal_va_contrastive(z, va, n=3).item()
    assert got_self == pytest.approx(naive_intra_va(z.tolist(), va, va, 3), abs=1e-9)
    got_other = intra_modal_va_contrastive(z, va, anchor_va=other, n=4).item()
    assert got_other == pytest.approx(naive_intra_va(z.tolist(), va, other, 4), abs=1e-9)


@pytest.mark.parametrize("seed", SEEDS[:3])
def test_eimg_total_eq12(seed: int) -> None:
    rng = np.random.default_rng(seed)
    z_a, z_b = _unit(rng, 9), _unit(rng, 10)
    va_a, va_b = _va(rng, 9), _va(rng, 10)
    a, b = z_a.tolist(), z_b.tolist()

    def one_side(za, vaa, zb, vab):
        return naive_inter(za, vaa, zb, vab, 4) + naive_intra_va(za, vaa, vaa, 4) + naive_intra_va(zb, vab, vaa, 4)

    assert eimg_loss(z_a, va_a, z_b, va_b, n=4).item() == pytest.approx(one_side(a, va_a, b, va_b), abs=1e-9)
    symmetric = eimg_loss(z_a, va_a, z_b, va_b, n=4, symmetric=True).item()
    assert symmetric == pytest.approx(0.5 * (one_side(a, va_a, b, va_b) + one_side(b, va_b, a, va_a)), abs=1e-9)
    assert set(eimg_terms(z_a, va_a, z_b, va_b, n=4)) == {"inter", "intra_a", "intra_b"}


def test_eimg_gradients_flow_and_n1_intra_is_zero() -> None:
    rng = np.random.default_rng(3)
    z_a = _unit(rng, 16).requires_grad_(True)
    z_b = _unit(rng, 16).requires_grad_(True)
    eimg_loss(z_a, _va(rng, 16), z_b, _va(rng, 16), n=4, symmetric=True).backward()
    for g in (z_a.grad, z_b.grad):
        assert torch.isfinite(g).all() and g.abs().sum() > 0
    z = _unit(rng, 4).requires_grad_(True)
    loss = intra_modal_va_contrastive(z, _va(rng, 4), n=1)  # sets of one: no positives
    loss.backward()
    assert loss.item() == 0.0 and torch.equal(z.grad, torch.zeros_like(z))


# ----------------------------------------------------------------------------- samplers
def test_class_balanced_sampler_is_exact_paired_and_seeded() -> None:
    rng = np.random.default_rng(0)
    la = rng.choice(["happy", "sad", "angry", "calm"], size=300, p=[0.7, 0.1, 0.1, 0.1])
    lb = rng.choice(["happy", "sad", "angry", "calm", "tender"], size=90)
    sampler = ClassBalancedPairSampler(la, lb, batch_size=64, steps=20, seed=5)
    assert sampler.classes == ["angry", "calm", "happy", "sad"]
    batches = list(sampler)
    assert len(batches) == 20 == len(sampler)
    for ia, ib in batches:
        assert ia.shape == ib.shape == (64,)
        ca, cb = np.unique(la[ia], return_counts=True), np.unique(lb[ib], return_counts=True)
        assert ca[0].tolist() == cb[0].tolist() and ca[1].tolist() == cb[1].tolist()  # same composition
        assert ca[1].tolist() == [16, 16, 16, 16]
        assert "tender" not in set(lb[ib])  # only shared classes
    sampler.reset()
    again = list(sampler)
    assert all(np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1]) for a, b in zip(batches, again))
    other = list(ClassBalancedPairSampler(la, lb, batch_size=64, steps=20, seed=6))
    assert not all(np.array_equal(a[0], b[0]) for a, b in zip(batches, other))


def test_class_balanced_sampler_covers_small_classes_and_remainders() -> None:
    la = np.array([0] * 50 + [1] * 3 + [2] * 7)
    lb = np.array([0, 1, 2] * 4)
    sampler = ClassBalancedPairSampler(la, lb, batch_size=10, steps=30, seed=0)
    seen_small = set()
    for ia, ib in sampler:
        counts = np.bincount(la[ia], minlength=3)
        assert counts.sum() == 10 and counts.max() - counts.min() <= 1
        assert np.array_equal(counts, np.bincount(lb[ib], minlength=3))
        seen_small.update(ia[la[ia] == 1].tolist())
    assert seen_small == {50, 51, 52}
    paper = ClassBalancedPairSampler(la, lb, batch_size=300, steps=1, seed=0, exact=False)
    ia, ib = paper.sample()
    counts = np.bincount(la[ia], minlength=3)
    assert np.array_equal(counts, np.bincount(lb[ib], minlength=3)) and counts.min() > 70


def test_quadrant_sampler_and_sampler_errors() -> None:
    rng = np.random.default_rng(2)
    va_a, va_b = _va(rng, 200), _va(rng, 100)
    ia, ib = QuadrantBalancedPairSampler(va_a, va_b, batch_size=32, seed=1).sample()
    assert np.bincount(quadrants(va_a[ia]), minlength=5)[1:].tolist() == [8, 8, 8, 8]
    assert np.bincount(quadrants(va_b[ib]), minlength=5)[1:].tolist() == [8, 8, 8, 8]
    with pytest.raises(InvalidValueError):
        ClassBalancedPairSampler([0, 0], [1, 1])
    with pytest.raises(InvalidValueError):
        ClassBalancedPairSampler([0, 1], [0, 1], batch_size=0)


# ----------------------------------------------------------------------------- heads and trainer
def _clusters(rng: np.random.Generator, n: int, dim: int, n_classes: int = 3, noise: float = 0.5):
    centres = rng.normal(size=(n_classes, dim)) * 2
    y = np.arange(n) % n_classes
    return centres[y] + noise * rng.normal(size=(n, dim)), y


def test_projection_head_standardises_and_normalises() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(5.0, 3.0, size=(40, 7))
    x[:, 3] = 2.0  # a constant feature
    head = ProjectionHead(7, embed_dim=16, hidden_dim=8).fit_standardisation(x).eval()
    z = head(head.check_features(x))
    assert z.shape == (40, 16) and torch.allclose(z.norm(dim=1), torch.ones(40), atol=1e-5)
    assert torch.allclose(head.mean, torch.as_tensor(x.mean(0), dtype=torch.float32), atol=1e-4)
    assert head.std[3].item() == 1.0
    with pytest.raises(InvalidValueError, match="expects 7.*have 6"):
        head.check_features(x[:, :6])


@pytest.fixture(scope="module")
def small_space() -> tuple[JointSpace, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    xa, ya = _clusters(rng, 90, 10)
    xb, yb = _clusters(rng, 60, 4)
    cfg = AlignConfig(modalities=("image", "midi"), batch_size=24, lr=3e-3, max_epochs=6, hidden_dim=32,
                      embed_dim=16, progress=False, seed=3)
    space, history = train_joint_space(xa, np.array(["x", "y", "z"])[ya], xb, np.array(["x", "y", "z"])[yb],
                                       config=cfg)
    return space, xa, xb


def test_trainer_categorical_learns_and_keeps_best(small_space) -> None:
    space, xa, xb = small_space
    history = space.history
    assert space.label_kind == "categorical" and space.classes == ["x", "y", "z"]
    assert 1 <= history.best_epoch <= len(history.epochs) <= 6
    assert history.best_val_loss == min(e["val_loss"] for e in history.epochs)
    assert history.epochs[-1]["train_loss"] < history.epochs[0]["train_loss"]
    za, zb = space.embed("image", xa), space.embed("midi", xb)
    assert za.shape == (90, 16) and zb.dtype == np.float32
    ya, yb = np.arange(90) % 3, np.arange(60) % 3
    nearest = np.argmax(za @ zb.T, axis=1)
    assert (yb[nearest] == ya).mean() > 0.8


def test_trainer_is_seeded() -> None:
    rng = np.random.default_rng(1)
    xa, ya = _clusters(rng, 40, 5, 2)
    xb, yb = _clusters(rng, 40, 3, 2)
    cfg = AlignConfig(batch_size=16, max_epochs=2, hidden_dim=8, embed_dim=4, progress=False, seed=9)
    one, _ = train_joint_space(xa, ya, xb, yb, config=cfg)
    two, _ = train_joint_space(xa, ya, xb, yb, config=cfg)
    assert np.array_equal(one.embed("a", xa), two.embed("a", xa))


def test_trainer_va_labels_use_eimg_losses() -> None:
    rng = np.random.default_rng(4)
    va_a, va_b = _va(rng, 120), _va(rng, 100)
    xa = np.hstack([va_a * 2, rng.normal(size=(120, 4))])
    xb = np.hstack([rng.normal(size=(100, 3)), -va_b])
    cfg = AlignConfig(batch_size=32, va_n=4, lr=3e-3, max_epochs=15, steps_per_epoch=10, hidden_dim=32, embed_dim=8,
                      progress=False, modalities=("image", "audio"))
    space, history = train_joint_space(xa, va_a, xb, va_b, config=cfg)
    assert space.label_kind == "va" and space.classes is None
    assert history.epochs[-1]["train_loss"] < history.epochs[0]["train_loss"]
    za, zb = space.embed("image", xa), space.embed("audio", xb)
    nearest = np.argmax(za @ zb.T, axis=1)
    assert (quadrants(va_b[nearest]) == quadrants(va_a)).mean() > 0.7  # chance ~0.25
    with pytest.raises(InvalidValueError, match="too small"):
        train_joint_space(xa, va_a, xb, va_b, config=AlignConfig(batch_size=6, va_n=4, progress=False))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine (runs where one is lent)")
def test_trainer_uses_the_gpu_when_there_is_one(tmp_path) -> None:
    rng = np.random.default_rng(0)
    xa, ya = _clusters(rng, 90, 10)
    xb, yb = _clusters(rng, 60, 4)
    cfg = AlignConfig(modalities=("image", "midi"), batch_size=24, lr=3e-3, max_epochs=6, hidden_dim=32,
                      embed_dim=16, progress=False, seed=3)  # device=None: CUDA when available
    space, history = train_joint_space(xa, ya, xb, yb, config=cfg)
    assert history.device.startswith("cuda")
    assert next(space.parameters()).device.type == "cuda"
    za, zb = space.embed("image", xa), space.embed("midi", xb)
    assert isinstance(za, np.ndarray) and za.shape == (90, 16)
    assert (yb[np.argmax(za @ zb.T, axis=1)] == ya).mean() > 0.8
    # a space trained on the GPU loads and embeds the same on the CPU
    loaded = JointSpace.load(space.save(tmp_path / "space"), device="cpu")
    assert next(loaded.parameters()).device.type == "cpu"
    np.testing.assert_allclose(loaded.embed("image", xa), za, atol=1e-4)


def test_joint_space_save_load_roundtrip(small_space, tmp_path) -> None:
    space, xa, xb = small_space
    path = space.save(tmp_path / "space")
    assert sorted(p.name for p in path.iterdir()) == ["config.json", "model.pt"]
    meta = json.loads((path / "config.json").read_text())
    assert meta["config"]["modalities"] == ["image", "midi"] and meta["heads"]["midi"]["in_dim"] == 4
    loaded = JointSpace.load(path)
    np.testing.assert_allclose(loaded.embed("image", xa), space.embed("image", xa), atol=1e-6)
    assert loaded.config == space.config and loaded.history.best_epoch == space.history.best_epoch
    space.save(path)  # overwriting a saved space is fine and leaves no temporary folders
    assert [p.name for p in tmp_path.iterdir()] == ["space"]
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "keep.txt").write_text("mine")
    with pytest.raises(InvalidValueError, match="refusing"):
        space.save(tmp_path / "other")
    with pytest.raises(InvalidValueError, match="not a saved joint space"):
        JointSpace.load(tmp_path / "other")


def test_joint_space_errors(small_space) -> None:
    space, xa, _ = small_space
    with pytest.raises(InvalidValueError, match="expects 10.*have 9"):
        space.embed("image", xa[:, :9])
    with pytest.raises(InvalidValueError, match="unknown modality 'audio'"):
        space.embed("audio", xa)


@pytest.mark.parametrize(
    ("labels_a", "message"),
    [
        ([0, 1, None, 1, 0, float("nan")] * 5, "10 of 30 items have no label"),
        ([[0.1, 0.2], [np.nan, 0.1]] * 15, "VA labels and the other class labels"),
        ([0, 1, 0], "3 labels for 30"),
    ],
)
def test_trainer_rejects_bad_labels(labels_a, message) -> None:
    rng = np.random.default_rng(0)
    xa, xb = rng.normal(size=(30, 4)), rng.normal(size=(30, 3))
    lb = [0, 1] * 15
    with pytest.raises(InvalidValueError, match=message):
        train_joint_space(xa, labels_a, xb, lb, config=AlignConfig(progress=False))


def test_trainer_reports_missing_va_labels_and_feature_dims() -> None:
    rng = np.random.default_rng(0)
    va = _va(rng, 30)
    va[[1, 4, 7]] = np.nan
    with pytest.raises(InvalidValueError, match="3 of 30 items have no label"):
        train_joint_space(rng.normal(size=(30, 4)), va, rng.normal(size=(30, 3)), _va(rng, 30),
                          config=AlignConfig(progress=False, labels="va"))
    with pytest.raises(InvalidValueError, match="share 1 class"):
        train_joint_space(rng.normal(size=(30, 4)), [0] * 30, rng.normal(size=(30, 3)), [0, 1] * 15,
                          config=AlignConfig(progress=False))
    with pytest.raises(InvalidValueError, match="expects 4.*have 5"):
        train_joint_space(rng.normal(size=(30, 4)), [0, 1] * 15, rng.normal(size=(30, 3)), [0, 1] * 15,
                          config=AlignConfig(progress=False, max_epochs=1),
                          validation=(rng.normal(size=(10, 5)), [0, 1] * 5, rng.normal(size=(10, 3)), [0, 1] * 5))
    with pytest.raises(InvalidValueError, match="distinct"):
        AlignConfig(modalities=("audio", "audio"))


# ----------------------------------------------------------------------------- real data end to end
@pytest.fixture(scope="module")
def real_audio_midi(fourq_small):
    """4Q audio (a seeded 120-clip subset, conftest.fourq_subset) and EIMG MIDI as the experiments load them
    (skips when ../shared/data is absent)."""
    from conftest import shared_path

    from moodbridge.train.experiments import load_eimg, load_fourq

    return load_fourq(fourq_small), load_eimg(shared_path("eimg"))


def test_real_audio_midi_joint_space_beats_chance(real_audio_midi) -> None:
    """4Q audio (musicnn MSD+MTT features, quadrant labels) ↔ EIMG MIDI (midi-stats, quadrant of the
    mean VA): Emo-CLIM's paper configuration, held-out 25 % of each set, macro P@1 both ways."""
    from moodbridge.evaluate import retrieval_metrics
    from moodbridge.train.experiments import split_pair

    audio, midi = real_audio_midi
    assert audio.features.shape[1] == 400 and midi.features.shape[1] == 76
    split = split_pair(audio.quadrant, midi.quadrant, seed=0)
    assert abs(len(split.test_a) - len(audio.quadrant) / 4) <= 4 and len(split.test_b) == 600  # 25 % by quadrant
    assert not set(split.train_a) & set(split.test_a) and not set(split.train_b) & set(split.test_b)
    xa, ya, xb, yb = audio.features, audio.quadrant, midi.features, midi.quadrant
    cfg = AlignConfig(modalities=("audio", "midi"), progress=False)  # the paper's hyper-parameters
    space, history = train_joint_space(xa[split.train_a], ya[split.train_a], xb[split.train_b], yb[split.train_b],
                                       config=cfg)
    za, zb = space.embed("audio", xa[split.test_a]), space.embed("midi", xb[split.test_b])
    a2m = retrieval_metrics(za, ya[split.test_a], zb, yb[split.test_b])
    m2a = retrieval_metrics(zb, yb[split.test_b], za, ya[split.test_a])
    assert a2m.macro["p@1"] > 0.4 and m2a.macro["p@1"] > 0.4, (a2m.macro, m2a.macro)  # chance: 0.25
    assert a2m.macro["mrr"] > 0.5 and m2a.macro["mrr"] > 0.5


def test_real_stacked_head_outputs_never_see_test_labels(real_audio_midi) -> None:
    """The tuned configuration's inputs: the refitted audio head's outputs for held-out clips do not change
    when the held-out labels are scrambled, and its out-of-fold outputs classify the training clips."""
    from dataclasses import replace

    from moodbridge.train.experiments import split_pair, stacked_head_outputs

    audio, midi = real_audio_midi
    split = split_pair(audio.quadrant, midi.quadrant, seed=0)
    train_out, test_out = stacked_head_outputs(audio, split.train_a, split.test_a)
    scrambled = audio.quadrant.copy()
    scrambled[split.test_a] = np.random.default_rng(0).permutation(scrambled[split.test_a])[::-1]
    _, test_again = stacked_head_outputs(replace(audio, quadrant=scrambled), split.train_a, split.test_a)
    np.testing.assert_array_equal(test_out, test_again)
    oof_accuracy = np.mean(train_out.argmax(axis=1) == audio.quadrant[split.train_a])
    test_accuracy = np.mean(test_out.argmax(axis=1) == audio.quadrant[split.test_a])
    assert oof_accuracy > 0.6 and test_accuracy > 0.6, (oof_accuracy, test_accuracy)  # chance 0.25


def test_real_va_baseline_refit_is_below_the_leaky_shipped_heads(real_audio_midi) -> None:
    """The no-training baseline (heads + VA similarity) beats chance on held-out items; the shipped heads,
    fitted on all items, score higher on the same items (the leak the refit removes)."""
    from moodbridge.train.experiments import baseline_results, split_pair

    audio, midi = real_audio_midi
    split = split_pair(audio.quadrant, midi.quadrant, seed=0)
    refit = baseline_results(audio, midi, split)
    leaky = baseline_results(audio, midi, split, leaky=True)
    assert set(refit) == {"audio -> midi", "midi -> audio", "audio -> audio", "midi -> midi"}
    for direction, result in refit.items():
        assert result.macro["p@1"] > 0.3, (direction, result.macro)  # chance 0.25
        if direction != "midi -> audio":  # its gallery is the ~32 held-out clips of the 4Q subset: too few to
            assert leaky[direction].macro["mrr"] > result.macro["mrr"], direction  # show the leak reliably
    assert np.mean([leaky[d].macro["mrr"] - r.macro["mrr"] for d, r in refit.items()]) > 0.05
