"""``image-va`` v2 on real rated photographs (Emotion6), versioned heads, and the upgrade of a v1 library."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import shared_path

from moodbridge.affect.base import get_head, head_names
from moodbridge.affect.estimate import preferred_estimate
from moodbridge.emotion import get_taxonomy
from moodbridge.library import Library
from moodbridge.library.annotate import annotate_items

SKIMAGE_PHOTOS = ("astronaut.png", "chelsea.png", "coffee.png")


@pytest.fixture(scope="module")
def emotion6():
    from moodbridge.train.tasks import emotion6 as task

    data = task.load_emotion6(shared_path("emotion6"))
    return task, data, task.photo_outputs(data["paths"], progress=False)


def test_v2_is_the_current_image_head_and_v1_stays_loadable():
    v2, v1 = get_head("image-va"), get_head("image-va@1")
    assert (v2.key, v1.key) == ("image-va@2", "image-va@1")
    assert get_head("image-va@2").key == v2.key
    assert "image-va@1" in head_names(versions=True) and "image-va@1" not in head_names()
    assert v2.taxonomy == "emotion6" and get_taxonomy("emotion6").names[-1] == "neutral"
    with pytest.raises(Exception, match="unknown emotion head 'image-va@9'"):
        get_head("image-va@9")


def test_emotion6_head_beats_the_mean_and_the_ridge_baseline_and_reproduces(emotion6):
    task, data, outputs = emotion6
    meta = get_head("image-va").meta
    assert meta["n"] == len(data["va"]) == 1980
    for scheme in ("grouped",):  # the scheme the shipped choices follow (random CV: 5 more fits, in the metadata)
        cv = task.cross_validate(data, outputs, scheme=scheme, seed=0)
        base = task.cross_validate(data, outputs, scheme=scheme, seed=0, baseline=True)
        # retraining with the same seed reproduces the shipped cross-validated figures
        for key in ("valence_r", "arousal_r", "valence_mae", "arousal_mae"):
            assert cv[key] == pytest.approx(meta[f"{scheme}_{key}"], abs=1e-6), (scheme, key)
        mean_mae = np.abs(data["va"] - data["va"].mean(axis=0)).mean(axis=0)
        assert cv["valence_mae"] < mean_mae[0] and cv["arousal_mae"] < mean_mae[1]  # the trivial baseline
        assert cv["valence_r"] > base["valence_r"] and cv["arousal_r"] > base["arousal_r"]
        assert cv["valence_r"] > 0.5 and cv["arousal_r"] > 0.15
    # 5-fold random CV, as the ridge baseline (0.735 / 0.363 with a wide penalty grid): level, not better
    assert meta["random_valence_r"] > 0.72 and meta["random_arousal_r"] > 0.34
    assert meta["random_valence_r"] > meta["baseline_ridgecv_random_valence_r"]
    assert meta["grouped_dist_kl"] < meta["grouped_dist_kl_mean_baseline"]


def test_v2_estimates_are_plausible_on_emotion6_photos(emotion6):
    _, data, outputs = emotion6
    head = get_head("image-va")
    est = head.estimate({"effnet-lite0": {k: v[:200] for k, v in outputs["effnet-lite0"].items()}})
    va = np.array([[e.valence, e.arousal] for e in est])
    # in-sample photos: a sanity check of the whole path (features -> VA and distribution), not a CV figure
    assert np.corrcoef(va[:, 0], data["va"][:200, 0])[0, 1] > 0.7
    dist = np.array([[e.distribution[c] for c in get_taxonomy("emotion6").names] for e in est])
    assert np.allclose(dist.sum(axis=1), 1.0, atol=1e-3)
    joy = np.array(data["groups"][:200]) == "joy"
    assert dist[joy, 3].mean() > dist[~joy, 3].mean()


def test_a_v1_library_gets_v2_estimates_on_add_without_re_encoding(tmp_path):
    import skimage.data

    src = Path(skimage.data.__file__).parent
    photos = tmp_path / "photos"
    photos.mkdir()
    for name in SKIMAGE_PHOTOS:
        shutil.copy(src / name, photos / name)
    with Library.create(tmp_path / "lib") as lib:
        lib.add([photos], progress=False, annotate=False)
        items = lib.items()
        assert annotate_items(lib.catalogue, items, heads={"image": "image-va@1"}) == len(items)
        assert all([e["head"] for e in lib.emotions(it)] == ["image-va@1"] for it in items)
        report = lib.add([photos], progress=False)
        assert report.encoded == {} and report.unchanged == len(items)  # nothing re-encoded
        assert report.annotated == len(items)
        for it in items:
            heads = sorted(e["head"] for e in lib.emotions(it))
            assert heads == ["image-va@1", "image-va@2"]
            chosen = preferred_estimate(lib.emotions(it), "image")
            assert chosen is not None and chosen["head"] == "image-va@2"
        again = lib.add([photos], progress=False)
        assert again.annotated == 0
