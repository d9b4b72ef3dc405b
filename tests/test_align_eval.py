"""``moodbridge align eval``: linear probe, joint-space plot, held-out evaluation (Emo-CLIM Sec. 5-6).

The probe and plot mechanics use small synthetic arrays (said so in each
test); the commands run in-process through the real Typer app on a small real
library (scikit-image photographs, immich-memories-music tracks, real encoders
and emotion heads), as in ``tests/test_search_command.py``.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from moodbridge.errors import InvalidValueError
from moodbridge.evaluate import (
    cross_validated_probe,
    joint_space_figure,
    linear_probe,
    plot_joint_space,
    retrieval_metrics,
)
from realmedia import write_photos, write_tracks

PHOTOS = ("astronaut.png", "brick.png", "camera.png", "chelsea.png", "coffee.png", "coins.png", "color.png",
          "grass.png", "horse.png", "moon.png", "page.png", "rocket.jpg")
N_TRACKS = 16
HOLDOUT = 0.5  # half of each label held out, so the small library leaves enough items to evaluate


def cli(*args: str):
    from moodbridge.cli import app

    return CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)


# ----------------------------------------------------------------------------- probe (synthetic data)
def _clusters(n_per: int, classes: int, dim: int, shift: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Synthetic Gaussian data: class ``c`` is shifted by ``shift`` along axis ``c`` (0: no signal)."""
    rng = np.random.default_rng(seed)
    y = np.repeat([f"c{c}" for c in range(classes)], n_per)
    x = rng.normal(size=(len(y), dim))
    for c in range(classes):
        x[y == f"c{c}", c] += shift
    return x, y


def test_probe_on_separable_synthetic_data_is_perfect() -> None:
    x, y = _clusters(40, 3, 10, shift=8.0, seed=0)
    res = cross_validated_probe(x, y, folds=5, seed=0)
    assert res.macro_f1 > 0.97 and res.accuracy > 0.97
    assert res.folds == 5 and len(res.c) == 5 and res.n_test == len(y)
    assert set(res.per_class_f1) == {"c0", "c1", "c2"} and min(res.per_class_f1.values()) > 0.95
    assert res.chance["uniform"]["accuracy"] == pytest.approx(1 / 3)
    split = linear_probe(x[::2], y[::2], x[1::2], y[1::2])
    assert split.macro_f1 > 0.97 and split.n_train == 60 and split.n_test == 60 and split.folds is None


def test_probe_on_inseparable_synthetic_data_is_at_chance() -> None:
    x, _ = _clusters(100, 3, 10, shift=0.0, seed=1)
    y = np.random.default_rng(2).permutation(np.repeat(["a", "b", "c"], 100))  # labels unrelated to x
    res = cross_validated_probe(x, y, seed=0)
    assert abs(res.macro_f1 - res.chance["uniform"]["macro_f1"]) < 0.12
    assert abs(res.accuracy - 1 / 3) < 0.12
    xs, ys = _clusters(100, 3, 10, shift=8.0, seed=1)
    assert cross_validated_probe(xs, ys, seed=0).macro_f1 - res.macro_f1 > 0.5


def test_probe_chance_levels_on_imbalanced_labels() -> None:
    # synthetic: 70 'a', 30 'b', no signal
    x = np.random.default_rng(3).normal(size=(100, 4))
    y = np.array(["a"] * 70 + ["b"] * 30)
    res = linear_probe(x, y, x, y)
    majority = res.chance["majority"]
    assert majority["accuracy"] == pytest.approx(0.7)
    assert majority["macro_f1"] == pytest.approx((2 * 0.7 / 1.7) / 2)  # F1('a') = 2·0.7·1/(0.7+1), F1('b') = 0
    expected = np.mean([2 * p * 0.5 / (p + 0.5) for p in (0.7, 0.3)])
    assert res.chance["uniform"]["macro_f1"] == pytest.approx(expected)
    # the analytic uniform macro-F1 is what random guessing gets on average (large sample)
    from sklearn.metrics import f1_score

    guesses = np.random.default_rng(4).choice(["a", "b"], size=(200, 2000))
    yy = np.array(["a"] * 1400 + ["b"] * 600)
    simulated = np.mean([f1_score(yy, g, average="macro") for g in guesses])
    assert simulated == pytest.approx(expected, abs=0.01)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: linear_probe(np.zeros((4, 2)), ["a", "b", "a"], np.zeros((2, 2)), ["a", "b"]), "3 labels for 4"),
        (lambda: linear_probe(np.zeros((4, 2)), list("abab"), np.zeros((2, 3)), ["a", "b"]), "dimensions differ"),
        (lambda: linear_probe(np.full((4, 2), np.nan), list("abab"), np.zeros((2, 2)), list("ab")), "NaN"),
        (lambda: linear_probe(np.zeros((4, 2)), list("aaaa"), np.zeros((2, 2)), list("ab")), "single class"),
        (lambda: cross_validated_probe(np.zeros((5, 2)), list("aabbc")), "class 'c' has only 1"),
        (lambda: cross_validated_probe(np.zeros((4, 2)), list("aaaa")), "at least two classes"),
        (lambda: cross_validated_probe(np.zeros((4, 2)), list("aabb"), folds=1), "folds must be"),
    ],
)
def test_probe_errors(call, message: str) -> None:
    with pytest.raises(InvalidValueError, match=message):
        call()


@pytest.mark.shared_data
def test_probe_on_real_4q_music_features_beats_chance(fourq_small) -> None:
    """4Q (a seeded subset of 30 clips per quadrant), musicnn MSD+MTT features: the probe finds the quadrant signal."""
    from moodbridge.train.tasks.fourq import load_dataset
    from moodbridge.train.features import encoder_outputs

    paths, quadrant, _ = load_dataset(fourq_small)
    feats = encoder_outputs(paths, ["musicnn-msd", "musicnn-mtt"], cache_name="4q", progress=False)
    x = np.hstack([feats["musicnn-msd"]["features"], feats["musicnn-mtt"]["features"]])
    res = cross_validated_probe(x, quadrant, folds=5, seed=0)
    assert res.chance["uniform"]["macro_f1"] == pytest.approx(0.25)  # 30 clips per quadrant
    assert res.macro_f1 > 0.5 and res.accuracy > 0.5, res
    shuffled = cross_validated_probe(x, np.random.default_rng(0).permutation(quadrant), folds=5, seed=0)
    assert shuffled.macro_f1 < 0.4, shuffled  # the same probe on shuffled labels is near chance


# ----------------------------------------------------------------------------- plot (synthetic embeddings)
def _synthetic_space(seed: int = 0) -> tuple[dict[str, np.ndarray], dict[str, list[str]]]:
    """Synthetic unit vectors: 3 classes around 3 axes, images and music near the same axes."""
    rng = np.random.default_rng(seed)
    emb, lab = {}, {}
    for m, n in (("image", 24), ("audio", 18)):
        y = [f"Q{1 + i % 3}" for i in range(n)]
        x = rng.normal(scale=0.2, size=(n, 8))
        x[np.arange(n), [int(c[1]) - 1 for c in y]] += 1.0
        emb[m], lab[m] = x / np.linalg.norm(x, axis=1, keepdims=True), y
    return emb, lab


def test_plot_is_a_png_with_dots_crosses_and_class_colours(tmp_path: Path) -> None:
    from matplotlib.markers import MarkerStyle
    from PIL import Image

    emb, lab = _synthetic_space()
    out = plot_joint_space(emb, lab, tmp_path / "space.png", title="synthetic")
    assert out == tmp_path / "space.png" and out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in tmp_path.iterdir()] == ["space.png"]  # no temporary file left behind
    img = np.asarray(Image.open(out).convert("RGB")).astype(int)
    assert img.shape == (600, 700, 3)  # FIGSIZE (7, 6) at 100 dpi
    from matplotlib import colormaps

    tab10 = colormaps["tab10"]
    for i in range(3):  # each class colour is drawn (points and legend)
        rgb = np.array(tab10(i)[:3]) * 255
        assert (np.abs(img - rgb).sum(axis=2) < 40).sum() > 50, f"class colour {i} missing"
    assert (np.abs(img - np.array(tab10(3)[:3]) * 255).sum(axis=2) < 40).sum() == 0  # only 3 classes

    fig = joint_space_figure(emb, lab)
    scatters = fig.axes[0].collections
    by_label = {c.get_label(): c for c in scatters}
    assert set(by_label) == {f"{m}: Q{k}" for m in ("image", "audio") for k in (1, 2, 3)}
    dot, cross = ((s.get_path().transformed(s.get_transform()).vertices) for s in (MarkerStyle("o"), MarkerStyle("x")))
    for name, coll in by_label.items():
        expected = dot if name.startswith("image") else cross
        assert np.allclose(coll.get_paths()[0].vertices, expected), name
        modality, cls = name.split(": ")
        assert len(coll.get_offsets()) == lab[modality].count(cls)


def test_plot_handles_three_points_and_rejects_bad_input(tmp_path: Path) -> None:
    emb, lab = _synthetic_space()
    small = {"image": emb["image"][:2], "audio": emb["audio"][:1]}
    assert plot_joint_space(small, {"image": lab["image"][:2], "audio": lab["audio"][:1]},
                            tmp_path / "three.png").is_file()
    with pytest.raises(InvalidValueError, match="at least 3 points"):
        plot_joint_space({"image": emb["image"][:1], "audio": emb["audio"][:1]},
                         {"image": lab["image"][:1], "audio": lab["audio"][:1]}, tmp_path / "x.png")
    with pytest.raises(InvalidValueError, match="audio: 17 labels for 18"):
        plot_joint_space(emb, {"image": lab["image"], "audio": lab["audio"][:-1]}, tmp_path / "x.png")
    bad = {**emb, "audio": np.where(np.eye(18, 8, dtype=bool), np.nan, emb["audio"])}
    with pytest.raises(InvalidValueError, match="audio embeddings hold NaN"):
        plot_joint_space(bad, lab, tmp_path / "x.png")
    with pytest.raises(InvalidValueError, match="dimensions differ"):
        plot_joint_space({**emb, "audio": emb["audio"][:, :4]}, lab, tmp_path / "x.png")
    with pytest.raises(InvalidValueError, match="method must be"):
        plot_joint_space(emb, lab, tmp_path / "x.png", method="pca")
    with pytest.raises(InvalidValueError, match="does not exist"):
        plot_joint_space(emb, lab, tmp_path / "no" / "x.png")
    assert not (tmp_path / "x.png").exists()
    try:
        import umap  # noqa: F401
    except ImportError:
        with pytest.raises(InvalidValueError, match="umap-learn"):
            plot_joint_space(emb, lab, tmp_path / "x.png", method="umap")


# ----------------------------------------------------------------------------- commands on a real library
@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real library (12 photos, 16 tracks) with a space 'mood' trained with --holdout 0.5."""
    from moodbridge.library import Library

    root = tmp_path_factory.mktemp("aligneval")
    write_photos(root / "media" / "photos", PHOTOS)
    write_tracks(root / "media" / "music", N_TRACKS)
    with Library.create(root / "lib") as lib:
        report = lib.add([root / "media"], progress=False)
        assert report.summary().startswith(f"added {len(PHOTOS) + N_TRACKS}"), report.summary()
    res = cli("align", "train", root / "lib", "--from", "image", "--to", "music", "--space", "mood",
              "--epochs", "3", "--holdout", str(HOLDOUT), "--seed", "0")
    assert res.exit_code == 0, res.output
    assert "held out" in res.stdout
    return root / "lib"


@pytest.fixture(scope="module")
def eval_json(library: Path) -> dict:
    res = cli("align", "eval", library, "--space", "mood", "--json")
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def _quadrants(lib, items) -> np.ndarray:
    from moodbridge.library.emotion import item_emotions

    return np.array([e.quadrant.label if e else None for e in item_emotions(lib, items)], dtype=object)


def _info(library: Path) -> dict:
    return json.loads((library / "spaces" / "mood" / "moodbridge-space.json").read_text())


def test_train_holdout_records_disjoint_ids_and_trains_without_them(library: Path) -> None:
    from moodbridge.align import AlignConfig, JointSpace, train_joint_space
    from moodbridge.library import Library
    from moodbridge.search.query import DEFAULT_FEATURES, library_features

    info = _info(library)
    hold = info["holdout"]
    assert hold["fraction"] == HOLDOUT and hold["seed"] == 0
    feats, labs = [], []
    with Library.open(library) as lib:
        for m in ("image", "audio"):
            items = lib.items(modality=m)
            q = dict(zip([it.id for it in items], _quadrants(lib, items)))
            train, held = set(hold["train_ids"][m]), set(hold["held_out_ids"][m])
            assert train and held and not train & held
            assert train | held == {i for i, v in q.items() if v is not None}
            assert info["items"][m] == len(train)
            for cls in {v for v in q.values() if v is not None}:  # stratified, 2+ of each label kept for training
                members = {i for i, v in q.items() if v == cls}
                n = len(members)
                want = min(max(round(HOLDOUT * n), 1), n - 2) if n >= 3 else 0
                assert len(members & held) == want and len(members & train) == n - want, (m, cls)
            chosen = [it for it in items if it.id in train]
            feats.append(library_features(lib, chosen, DEFAULT_FEATURES[m]))
            labs.append(np.array([q[it.id] for it in chosen], dtype=object))
    # the saved heads are exactly those trained on the training ids alone (training is seeded)
    config = AlignConfig(modalities=("image", "audio"), labels="categorical", max_epochs=3, seed=0,
                         progress=False, device="cpu")
    expected, _ = train_joint_space(feats[0], labs[0], feats[1], labs[1], config=config)
    saved = JointSpace.load(library / "spaces" / "mood", device="cpu")
    for key, value in expected.state_dict().items():
        assert np.allclose(value.numpy(), saved.state_dict()[key].numpy(), atol=1e-6), key


def test_eval_json_equals_metrics_computed_directly(library: Path, eval_json: dict) -> None:
    from moodbridge.align import JointSpace
    from moodbridge.library import Library
    from moodbridge.search.query import DEFAULT_FEATURES, library_features

    held = _info(library)["holdout"]["held_out_ids"]
    assert eval_json["all_items"] is False and eval_json["label"] == "quadrant"
    joint = JointSpace.load(library / "spaces" / "mood", device="cpu")
    z, y, x = {}, {}, {}
    with Library.open(library) as lib:
        for m in ("image", "audio"):
            items = [it for it in lib.items(modality=m) if it.id in set(held[m])]
            assert sorted(eval_json["item_ids"][m]) == sorted(held[m])
            x[m] = library_features(lib, items, DEFAULT_FEATURES[m])
            z[m], y[m] = joint.embed(m, x[m]), _quadrants(lib, items)
    assert eval_json["items"] == {m: len(y[m]) for m in y}
    assert list(eval_json["retrieval"]) == ["image -> audio", "audio -> image", "image -> image", "audio -> audio"]
    for name, got in eval_json["retrieval"].items():
        q, g = got["query"], got["gallery"]
        want = retrieval_metrics(z[q], y[q], z[g], y[g], exclude_self=q == g)
        assert got["macro"] == pytest.approx(want.macro) and got["micro"] == pytest.approx(want.micro)
        assert set(got["per_class"]) == set(want.per_class)
        for cls, row in want.per_class.items():
            assert got["per_class"][cls] == pytest.approx(row), (name, cls)
    classes, counts = np.unique(y["audio"], return_counts=True)
    ok = classes[counts >= 2]
    if len(ok) >= 2:  # enough held-out music for a cross-validated probe
        keep = np.isin(y["audio"], ok)
        probe = eval_json["probe"]
        assert probe["modality"] == "audio" and probe["items"] == int(keep.sum())
        emb = cross_validated_probe(z["audio"][keep], y["audio"][keep], seed=0)
        raw = cross_validated_probe(x["audio"][keep], y["audio"][keep], seed=0)
        assert probe["embeddings"]["macro_f1"] == pytest.approx(emb.macro_f1)
        assert probe["raw_features"]["macro_f1"] == pytest.approx(raw.macro_f1)
        assert probe["raw_features"]["dim"] == 400 and probe["embeddings"]["dim"] == 128
    else:
        assert eval_json["probe"] is None and any("probe skipped" in n for n in eval_json["notes"])
    only = set(y["image"]) ^ set(y["audio"])
    assert len(eval_json["warnings"]) == len(only)
    assert all(any(repr(c) in w for w in eval_json["warnings"]) for c in only)


def test_eval_text_output_matches_json_and_writes_plot(library: Path, eval_json: dict, tmp_path: Path) -> None:
    from PIL import Image

    res = cli("align", "eval", library, "--space", "mood", "--plot", tmp_path / "joint.png")
    assert res.exit_code == 0, res.output
    out = res.stdout
    assert "evaluated on the held-out items (not used in training)" in out
    lines = out.splitlines()
    for name, got in eval_json["retrieval"].items():
        row = next(ln for ln in lines if ln.startswith(name + " "))
        p1, p5, mrr, n = row[len(name):].split()
        assert [float(p1), float(p5), float(mrr)] == pytest.approx(
            [got["macro"]["p@1"], got["macro"]["p@5"], got["macro"]["mrr"]], abs=5e-4)
        assert int(n) == eval_json["items"][got["query"]]
    assert "per-class P@1" in out and "per-class P@5" in out and "# image" in out
    if eval_json["probe"]:
        assert f"macro-F1 {eval_json['probe']['embeddings']['macro_f1']:.3f}" in out
        assert "raw features musicnn-msd+musicnn-mtt (400-d)" in out
    assert f"wrote plot {tmp_path / 'joint.png'}" in out
    with Image.open(tmp_path / "joint.png") as img:
        assert img.format == "PNG" and img.size == (700, 600)


def test_eval_all_uses_every_labelled_item_and_warns(library: Path, eval_json: dict) -> None:
    res = cli("align", "eval", library, "--space", "mood", "--all", "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    info = _info(library)["holdout"]
    for m in ("image", "audio"):
        assert sorted(out["item_ids"][m]) == sorted(info["train_ids"][m] + info["held_out_ids"][m])
    assert out["all_items"] is True and out["items"]["audio"] > eval_json["items"]["audio"]
    assert "warning: --all: the items the space was trained on are included" in res.stderr
    assert out["probe"] is not None and out["probe"]["embeddings"]["folds"] >= 2


def test_eval_label_column_notes_unlabelled_and_one_modality_classes(library: Path, tmp_path: Path) -> None:
    from moodbridge.library import Library

    lib = tmp_path / "lib"
    shutil.copytree(library, lib)
    with Library.open(lib) as handle:
        images, tracks = handle.items(modality="image"), handle.items(modality="audio")
        moods = ["happy", "calm", "sad"]
        rows = [(it.id, {"mood": moods[i % 3]}) for i, it in enumerate(images[:9])]
        # real mood folders of immich-memories-music; only calm/energetic/happy among the first 16
        rows += [(it.id, {"mood": Path(it.path).stem.split("_")[0]}) for it in tracks]
        rows += [(images[0].id, {"rare": "x"}), (tracks[0].id, {"rare": "x"}), (tracks[1].id, {"rare": "y"})]
        handle.set_labels(rows, source="test")
    res = cli("align", "eval", lib, "--space", "mood", "--all", "--label", "mood", "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["label"] == "mood" and out["items"] == {"image": 9, "audio": N_TRACKS}
    assert f"{len(PHOTOS) - 9} image item(s) without a label left out" in res.stderr
    assert "class 'sad' is present only in image" in res.stderr
    assert "class 'energetic' is present only in audio" in res.stderr
    assert out["retrieval"]["image -> audio"]["per_class"]["sad"]["p@1"] == 0.0

    res = cli("align", "eval", lib, "--space", "mood", "--all", "--label", "rare")
    assert res.exit_code == 1 and res.stdout == ""
    err = res.stderr.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: too few labelled items") and "1 image, 2 audio" in err[0]


def test_eval_errors_are_one_line(library: Path, tmp_path: Path) -> None:
    from moodbridge.library import Library

    res = cli("align", "eval", library, "--space", "nope")
    assert res.exit_code == 1 and res.stderr.startswith("error: ") and len(res.stderr.strip().splitlines()) == 1
    assert "no joint space 'nope'" in res.stderr and "mood" in res.stderr

    images_only = tmp_path / "images"
    write_photos(tmp_path / "photos", PHOTOS[:3])
    with Library.create(images_only) as lib:
        lib.add([tmp_path / "photos"], progress=False)
    shutil.copytree(library / "spaces", images_only / "spaces")
    res = cli("align", "eval", images_only, "--space", "mood")
    assert res.exit_code == 1 and len(res.stderr.strip().splitlines()) == 1
    assert "has no audio items" in res.stderr

    lib = tmp_path / "lib"
    shutil.copytree(library, lib)
    res = cli("align", "train", lib, "--space", "nohold", "--epochs", "1", "--holdout", "0")
    assert res.exit_code == 0, res.output
    assert _info_of(lib, "nohold")["holdout"]["held_out_ids"] == {"image": [], "audio": []}
    res = cli("align", "eval", lib, "--space", "nohold")
    assert res.exit_code == 1 and "records no held-out items" in res.stderr and "--all" in res.stderr
    res = cli("align", "train", lib, "--space", "bad", "--holdout", "1")
    assert res.exit_code == 1 and "--holdout must be a fraction in [0, 1)" in res.stderr


def _info_of(lib: Path, space: str) -> dict:
    return json.loads((lib / "spaces" / space / "moodbridge-space.json").read_text())
