"""The text bridge heads: ``text-va`` (NRC-VAD), ``image-va`` (NAPS) and ``audio-zeroshot`` (4Q).

Real-data checks read ``../shared/data`` and skip when it is absent.  The
lexicon is never printed (it contains offensive words).
"""
from __future__ import annotations

import numpy as np
import pytest
from conftest import shared_path

from moodbridge.affect.heads.audio_zeroshot import TAGGERS, AudioZeroShotHead, tag_va_table
from moodbridge.affect.heads.image import DESCRIPTORS, ImageVAHead
from moodbridge.affect.heads.text import TextVAHead
from moodbridge.semantic.embeddings import contrast_weights, weighted_embedding, weighted_va
from moodbridge.errors import EmptyMediaError, InvalidValueError


@pytest.fixture(scope="module")
def text_head() -> TextVAHead:
    return TextVAHead()


# --- semantic bridge helpers -------------------------------------------------------------------

def test_contrast_weights_rows_sum_to_one_and_keep_top_k() -> None:
    P = np.array([[0.5, 0.3, 0.2, 0.0], [0.1, 0.1, 0.1, 0.1]])
    W = contrast_weights(P, top_k=2)
    np.testing.assert_allclose(W.sum(axis=1), 1.0)
    assert (W[0] > 0).sum() == 2
    W = contrast_weights(P, reference=np.full(4, 0.25))
    np.testing.assert_allclose(W[0], [0.25 / 0.3, 0.05 / 0.3, 0.0, 0.0], atol=1e-12)  # excess over the reference
    np.testing.assert_allclose(W[1], 0.25)  # nothing above the reference: uniform


def test_weighted_mappings_check_inputs() -> None:
    with pytest.raises(InvalidValueError):
        weighted_va(np.array([[np.nan, 1.0]]), np.zeros((2, 2)))
    with pytest.raises(InvalidValueError):
        weighted_embedding(np.ones((1, 3)), np.eye(2))
    np.testing.assert_allclose(weighted_va(np.array([[0.25, 0.75]]), np.array([[1.0, 0.0], [-1.0, 1.0]])), [[-0.5, 0.75]])


# --- text-va ---------------------------------------------------------------------------------

def test_text_head_directions(text_head: TextVAHead) -> None:
    va = text_head.predict_texts(["a joyful celebration", "a funeral", "calm lake at dawn", "furious explosion"])
    assert va[0, 0] > va[1, 0] + 0.3
    assert va[2, 1] < va[3, 1] - 0.3
    assert np.all(np.abs(va) <= 1.0)


def test_text_head_rejects_empty_and_nan(text_head: TextVAHead) -> None:
    with pytest.raises(EmptyMediaError):
        text_head.predict_texts(["   "])
    X = np.zeros((1, 384))
    X[0, 5] = np.nan
    with pytest.raises(InvalidValueError):
        text_head.predict_va({"minilm": {"features": X}})
    with pytest.raises(InvalidValueError):
        text_head.predict_embeddings(np.zeros((2, 10)))


def test_text_head_estimate_through_base(text_head: TextVAHead) -> None:
    from moodbridge.semantic.embeddings import embed_texts

    est = text_head.estimate({"minilm": {"features": embed_texts(["a sunny holiday on the beach"], cache=False)}})
    assert est[0].valence > 0.2 and est[0].head == "text-va@1"


def test_text_head_beats_baselines_on_held_out_words(text_head: TextVAHead) -> None:
    meta = text_head.meta
    assert meta["cv_valence_r"] > 0.7 and meta["cv_arousal_r"] > 0.55  # mean predictor: r = 0
    assert meta["cv_valence_r"] > meta["cv_ridge_valence_r"]
    assert meta["cv_arousal_r"] > meta["cv_ridge_arousal_r"]


@pytest.mark.slow
def test_text_head_fold_reproduces_stored_metrics(text_head: TextVAHead) -> None:
    from moodbridge.train.tasks.lexicon import cross_validate, load_words

    words, Y = load_words(shared_path("nrc-vad"))
    stored = text_head.meta["cv_per_fold"][0]
    got = cross_validate(words, Y, seed=text_head.meta["seed"], folds=[0], progress=False)["per_fold"][0]
    assert got["valence_r"] == pytest.approx(stored["valence_r"], abs=2e-3)
    assert got["arousal_r"] == pytest.approx(stored["arousal_r"], abs=2e-3)


def test_lexicon_evaluate_reports_cv_beside_optimistic_figures() -> None:
    from moodbridge.train.tasks import get_task

    res = get_task("lexicon").evaluate(shared_path("nrc-vad"), progress=False)
    assert res["head"] == "text-va" and res["n"] == 20007
    assert res["valence_r"] > res["cv_valence_r"] > 0.7  # seen words score higher than held-out ones


# --- image-va --------------------------------------------------------------------------------

def test_naps_retrain_reproduces_stored_metrics(tmp_path) -> None:
    from moodbridge.train.tasks import get_task

    task = get_task("naps")
    data = shared_path("naps")
    res = task.train(data, seed=0, out=tmp_path / "image_va.npz", progress=False)
    meta = ImageVAHead().meta
    for key in ("cv_valence_r", "cv_arousal_r", "cv_text_valence_r", "cv_descriptors_valence_r", "cv_combined_arousal_r"):
        assert res[key] == pytest.approx(meta[key], abs=1e-6)
    # every part beats the mean predictor (r = 0); the semantic route carries most of it
    assert res["cv_descriptors_valence_r"] > 0.05 and res["cv_descriptors_arousal_r"] > 0.05
    assert res["cv_text_valence_r"] > 0.5 and res["cv_text_arousal_r"] > 0.4
    ev = task.evaluate(data, weights=tmp_path / "image_va.npz", progress=False)
    assert {"valence_r", "arousal_r", "n", "head", "version"} <= set(ev) and ev["n"] == 1000
    assert ev["valence_r"] >= ev["cv_valence_r"] - 0.05


def test_image_head_on_real_photos() -> None:
    skdata = pytest.importorskip("skimage.data")
    from PIL import Image

    from moodbridge.encoders import get_encoder

    images = [Image.fromarray(skdata.chelsea()), Image.fromarray(skdata.rocket())]
    eff, stats = get_encoder("effnet-lite0"), get_encoder("image-stats")
    eff.load()
    e = eff.embed_batch([eff.prepare(im) for im in images])
    s = stats.embed_batch([stats.prepare(im) for im in images])
    outputs = {"effnet-lite0": {"features": e.features, **e.extras}, "image-stats": {"features": s.features}}
    head = ImageVAHead()
    va = head.predict_va(outputs)
    assert va.shape == (2, 2) and np.all(np.abs(va) <= 1.0)
    assert va[0, 0] > 0  # a cat: pleasant
    bad = {**outputs, "image-stats": {"features": np.full_like(s.features, np.nan)}}
    with pytest.raises(InvalidValueError):
        head.predict_va(bad)
    assert set(head.meta["descriptors"]) <= set(DESCRIPTORS)


# --- audio-zeroshot --------------------------------------------------------------------------

def test_audio_tag_tables_regenerate_from_text_head() -> None:
    head = AudioZeroShotHead()
    for enc in TAGGERS:
        np.testing.assert_allclose(tag_va_table(enc), head.tag_va(enc), atol=1e-6)
    from moodbridge.encoders import get_encoder

    tags = {t.lower(): i for i, t in enumerate(get_encoder("musicnn-msd").extra_labels["tag_probs_mean"])}
    table = head.tag_va("musicnn-msd")
    assert table[tags["happy"], 0] > table[tags["sad"], 0]
    assert table[tags["chill"], 1] < table[tags["party"], 1]


def test_audio_zeroshot_rejects_nan() -> None:
    head = AudioZeroShotHead()
    P = np.full((1, 50), 0.1)
    P[0, 3] = np.nan
    with pytest.raises(InvalidValueError):
        head.predict_va({e: {"tag_probs_mean": P} for e in TAGGERS})


def test_audio_zeroshot_beats_chance_on_4q(fourq_small) -> None:
    from conftest import FOURQ_PER_QUADRANT

    from moodbridge.train.tasks.zeroshot import evaluate

    res = evaluate(fourq_small, progress=False)
    assert res["n"] == 4 * FOURQ_PER_QUADRANT
    assert res["quadrant_accuracy"] > 0.4 and res["macro_f1"] > 0.35  # chance: 0.25
    assert res["valence_sign_accuracy"] > 0.6 and res["arousal_sign_accuracy"] > 0.6
    assert res["split_quadrant_accuracy"] > 0.4  # statistics from the other half of the clips
