"""The ``audio-va`` head and the ``4q`` task: edge cases, stored models, and the real 4Q clips.

The 4Q tests share one session-scoped feature extraction (musicnn MSD + MTT) on a seeded
subset of 30 clips per quadrant (``conftest.fourq_subset``: about two minutes from an empty
cache, seconds once ``~/.cache/moodbridge/training/4q`` holds them).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import FOURQ_PER_QUADRANT, shared_path

from moodbridge.affect.base import get_head, load_weights, save_weights
from moodbridge.affect.heads.audio import (
    BLOCKS,
    ENCODERS,
    MODEL_PREFIX,
    AudioVAHead,
    SoftmaxAverage,
    feature_matrix,
    probabilities_to_va,
)
from moodbridge.affect.models import Chain, Linear, Standardize, model_from_arrays
from moodbridge.train.tasks import get_task
from moodbridge.train.tasks import fourq
from moodbridge.encoders import get_encoder
from moodbridge.errors import EncoderUnavailableError, InvalidValueError

WIDTHS = {"features": 200, "penultimate_std": 200, "tag_probs_mean": 50, "tag_probs_std": 50}


def fake_outputs(n: int = 3, seed: int = 0) -> dict[str, dict[str, np.ndarray]]:
    """Random encoder outputs of the right shapes for the head's blocks."""
    rng = np.random.default_rng(seed)
    out: dict[str, dict[str, np.ndarray]] = {}
    for enc, name in BLOCKS:
        width = get_encoder(enc).dim if name == "features" else WIDTHS[name]
        out.setdefault(enc, {})[name] = rng.random((n, width)).astype(np.float32)
    return out


def n_features() -> int:
    return sum(v.shape[1] for d in fake_outputs(1).values() for v in d.values())


@pytest.fixture(scope="module")
def toy_weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A weight file of the right layout with a small random linear model (no training data needed)."""
    d = n_features()
    rng = np.random.default_rng(0)
    member = Chain([Standardize(np.full(d, 0.5), np.full(d, 0.3)), Linear(rng.normal(0, 0.05, (4, d)), np.zeros(4))])
    model = SoftmaxAverage([member], np.array([1.0]))
    meta = {"head": "audio-va", "version": AudioVAHead.version, "blocks": [list(b) for b in BLOCKS], "n_features": d}
    return save_weights(tmp_path_factory.mktemp("w") / "toy.npz", model.to_arrays(MODEL_PREFIX), meta)


# ----------------------------------------------------------------------------- unit tests
def test_head_is_registered() -> None:
    head = get_head("audio-va")
    assert isinstance(head, AudioVAHead)
    assert head.modality == "audio" and head.taxonomy == "quadrants"
    assert head.encoders == ENCODERS == ("musicnn-msd", "musicnn-mtt")


def test_probabilities_to_va() -> None:
    p = np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1], [0.25] * 4, [0.4, 0.0, 0.3, 0.3]])
    expected = [[1, 1], [-1, 1], [-1, -1], [1, -1], [0, 0], [0.4, -0.2]]
    np.testing.assert_allclose(probabilities_to_va(p), expected, atol=1e-12)


@pytest.mark.parametrize(
    "bad", [np.ones((2, 3)) / 3, np.full((1, 4), 0.5), np.array([[np.nan, 0, 0, 1.0]]), np.array([[1.5, -0.5, 0, 0]])]
)
def test_probabilities_to_va_rejects_non_distributions(bad: np.ndarray) -> None:
    with pytest.raises(InvalidValueError):
        probabilities_to_va(bad)


def test_softmax_average_round_trip() -> None:
    rng = np.random.default_rng(1)
    members = [Linear(rng.normal(size=(4, 5)), rng.normal(size=4)) for _ in range(2)]
    model = SoftmaxAverage(members, np.array([0.3, 0.7]))
    X = rng.normal(size=(6, 5))
    p = model.predict(X)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    np.testing.assert_allclose(model_from_arrays(model.to_arrays("m."), "m.").predict(X), p)


def test_head_estimates_with_toy_weights(toy_weights: Path) -> None:
    head = AudioVAHead(toy_weights)
    outputs = fake_outputs(4)
    probs = head.predict_proba(outputs)
    assert probs.shape == (4, 4)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    estimates = head.estimate(outputs)
    assert len(estimates) == 4
    for est, row in zip(estimates, probs):
        assert est.taxonomy == "quadrants" and est.head == "audio-va@1"
        assert list(est.distribution) == ["Q1", "Q2", "Q3", "Q4"]
        np.testing.assert_allclose(list(est.distribution.values()), row, atol=1e-4)
        np.testing.assert_allclose([est.valence, est.arousal], probabilities_to_va(row[None])[0])


def test_head_missing_encoder(toy_weights: Path) -> None:
    outputs = fake_outputs()
    del outputs["musicnn-mtt"]
    with pytest.raises(InvalidValueError, match="musicnn-mtt"):
        AudioVAHead(toy_weights).predict_va(outputs)


def test_head_missing_output(toy_weights: Path) -> None:
    outputs = fake_outputs()
    del outputs["musicnn-mtt"]["tag_probs_mean"]
    with pytest.raises(InvalidValueError, match="tag_probs_mean"):
        AudioVAHead(toy_weights).predict_va(outputs)


@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_head_non_finite_features(toy_weights: Path, value: float) -> None:
    outputs = fake_outputs()
    outputs["musicnn-msd"]["features"][1, 7] = value
    with pytest.raises(InvalidValueError):
        AudioVAHead(toy_weights).estimate(outputs)
    with pytest.raises(InvalidValueError):
        feature_matrix(outputs)


def test_head_wrong_width_or_rows(toy_weights: Path) -> None:
    outputs = fake_outputs()
    outputs["musicnn-mtt"]["tag_probs_mean"] = outputs["musicnn-mtt"]["tag_probs_mean"][:, :-1]
    with pytest.raises(InvalidValueError, match="columns"):
        AudioVAHead(toy_weights).predict_va(outputs)
    outputs = fake_outputs()
    outputs["musicnn-mtt"]["tag_probs_mean"] = outputs["musicnn-mtt"]["tag_probs_mean"][:2]
    with pytest.raises(InvalidValueError, match="rows"):
        AudioVAHead(toy_weights).predict_va(outputs)


def test_head_rejects_foreign_or_missing_weights(toy_weights: Path, tmp_path: Path) -> None:
    arrays, meta = load_weights(toy_weights)
    other = save_weights(tmp_path / "other.npz", arrays, {**meta, "head": "midi-va"})
    with pytest.raises(EncoderUnavailableError):
        AudioVAHead(other).predict_va(fake_outputs())
    with pytest.raises(EncoderUnavailableError):
        AudioVAHead(tmp_path / "absent.npz").predict_va(fake_outputs())


def test_fit_model_and_metrics_on_separable_toy_data() -> None:
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(4), 15)
    X = rng.normal(size=(60, 8)) + 3.0 * np.eye(4, 8)[y]
    model = fourq.fit_model(X, y, seed=0)
    assert fourq.metrics(y, model.predict(X))["accuracy"] > 0.9
    # the ensemble with a calibrated one-vs-rest RBF SVM (not shipped, kept for experiments)
    ensemble = fourq.fit_model(X, y, config=fourq.ModelConfig(svm_c=1.0, svm_weight=0.5), seed=0)
    assert len(ensemble.models) == 2
    p = ensemble.predict(X)
    assert fourq.metrics(y, p)["accuracy"] > 0.9
    np.testing.assert_allclose(model_from_arrays(ensemble.to_arrays("e."), "e.").predict(X), p)
    perfect = fourq.metrics(y, np.eye(4)[y])
    assert perfect == {"accuracy": 1.0, "macro_f1": 1.0, "valence_accuracy": 1.0, "arousal_accuracy": 1.0}
    with pytest.raises(InvalidValueError):
        fourq.fit_model(X[:12], y[:12])


def test_task_is_registered() -> None:
    assert get_task("4q") is fourq


def test_load_dataset_errors(tmp_path: Path) -> None:
    from moodbridge.errors import MoodbridgeError

    with pytest.raises(MoodbridgeError, match="annotations.csv"):
        fourq.load_dataset(tmp_path)
    (tmp_path / "annotations.csv").write_text("Song,Quadrant\nabc,Q5\n")
    with pytest.raises(InvalidValueError):
        fourq.load_dataset(tmp_path)
    (tmp_path / "annotations.csv").write_text("Song,Quadrant\nabc,Q2\n")
    with pytest.raises(MoodbridgeError, match="missing"):
        fourq.load_dataset(tmp_path)


# ----------------------------------------------------------------------------- real 4Q data
@pytest.fixture(scope="session")
def fourq_dir(fourq_small: Path) -> Path:
    """A seeded subset of ``../shared/data/4q`` (conftest.FOURQ_PER_QUADRANT clips per quadrant), features extracted
    once for the session.  The figures on all 480 clips: ``scripts/reproduce_heads.py --task 4q``."""
    paths, _, _ = fourq.load_dataset(fourq_small)
    fourq.dataset_features(paths, progress=False)
    return fourq_small


@pytest.mark.shared_data
def test_shipped_head_beats_majority_on_4q(fourq_dir: Path) -> None:
    result = fourq.evaluate(fourq_dir, progress=False)
    assert result["n"] == 4 * FOURQ_PER_QUADRANT and result["head"] == "audio-va"
    assert result["version"] == AudioVAHead.version
    assert set(result) == {"accuracy", "macro_f1", "valence_accuracy", "arousal_accuracy", "n", "head", "version"}
    # majority baseline: 0.25 (balanced quadrants); the head has seen these clips
    assert result["accuracy"] > 0.5 and result["macro_f1"] > 0.5
    assert result["valence_accuracy"] > 0.6 and result["arousal_accuracy"] > 0.6


@pytest.mark.shared_data
def test_retraining_is_seeded_and_its_cross_validation_beats_chance(fourq_dir: Path, tmp_path: Path) -> None:
    """The shipped recipe on the real subset: the same seed gives the same weights and metrics twice, and its
    cross-validated quadrant F1 clears the trivial 0.25 (on all 480 clips, 0.764 is the published anchor and
    ``scripts/reproduce_heads.py`` compares a full retraining with the shipped metrics)."""
    _, shipped = load_weights("audio_va.npz")
    seed = shipped["seed"]
    runs = [fourq.train(fourq_dir, seed=seed, out=tmp_path / f"retrained{i}.npz", progress=False) for i in (0, 1)]
    assert runs[0]["cv"] == runs[1]["cv"] and runs[0]["n"] == 4 * FOURQ_PER_QUADRANT
    arrays = [load_weights(tmp_path / f"retrained{i}.npz")[0] for i in (0, 1)]
    assert arrays[0].keys() == arrays[1].keys()
    for key in arrays[0]:
        np.testing.assert_array_equal(arrays[0][key], arrays[1][key])
    for scheme in ("stratified", "artist"):
        assert runs[0]["cv"][scheme]["macro_f1"]["mean"] > 0.45, (scheme, runs[0]["cv"][scheme])
    _, meta = load_weights(tmp_path / "retrained0.npz")
    assert meta["cv"] == runs[0]["cv"] and meta["blocks"] == [list(b) for b in BLOCKS]
