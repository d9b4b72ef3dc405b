"""``moodbridge recommend train|eval|query``, ``search --scorer adapter:DIR`` and ``pair --scorer adapter:DIR``
on a small real library (real photographs and crops of them, real music tracks, real encoders and heads)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from realmedia import skimage_photo, write_photo_crops, write_photos, write_tracks

RUN = "from moodbridge.cli import app; app()"
PHOTOS = ("chelsea.png", "astronaut.png", "camera.png", "horse.png", "rocket.jpg")


def moodbridge(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    return subprocess.run([sys.executable, "-c", RUN, *map(str, args)], capture_output=True, text=True, env=env,
                          timeout=300)


def ok(res: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert res.returncode == 0, res.stderr
    return res


def one_error_line(res: subprocess.CompletedProcess) -> str:
    assert res.returncode == 1, (res.stdout, res.stderr)
    assert "Traceback" not in res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr
    return lines[0]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A library of 5 photos + 125 crops of real photos and 8 real tracks, its pairing (m = 3) and two models."""
    from moodbridge.library import Library

    root = tmp_path_factory.mktemp("recommend")
    write_photos(root / "media" / "photos", PHOTOS)
    write_photo_crops(root / "media" / "crops", 125)
    write_tracks(root / "media" / "music", 8)
    with Library.create(root / "lib") as lib:
        lib.add([root / "media"], progress=False)
    ok(moodbridge("pair", root / "lib", "--out", root / "pairs", "--k", "20", "--m", "3", "--no-report", "-q"))
    world = {"root": root, "lib": root / "lib", "pairs": root / "pairs"}
    res = ok(moodbridge("recommend", "train", "--pairs", root / "pairs", "--model", "svdpp", "--out",
                        root / "svdpp", "--epochs", "4", "-q", "--json"))
    world["svdpp_json"] = root / "svdpp.json"
    world["svdpp_json"].write_text(res.stdout)
    ok(moodbridge("recommend", "train", "--pairs", root / "pairs", "--model", "mf", "--content", "--out",
                  root / "mf-content", "--epochs", "4", "-q"))
    world["svdpp"], world["content"] = root / "svdpp", root / "mf-content"
    return world


def library_items(lib: Path, modality: str) -> list[str]:
    from moodbridge.library import Library

    with Library.open(lib) as library:
        return [it.path for it in library.items(modality=modality)]


def test_train_writes_the_model_folder_and_reports_both_protocols(world) -> None:
    out = json.loads(world["svdpp_json"].read_text())
    assert out["model"] == "svdpp" and out["content"] is False and out["clips"] == 8
    assert out["pairs"] == 24 and out["evaluated_clips"] == 8 and out["skipped_clips"] == 0
    assert out["images"] >= 100 and out["library"] == str(world["lib"].resolve())
    for protocol in ("full", "sampled", "popularity_full", "random_full", "popularity_sampled"):
        assert 0.0 <= out["metrics"][protocol]["hr@10"] <= 1.0
    assert out["metrics"]["full"]["n_candidates"] == out["images"]
    assert out["metrics"]["sampled"]["n_candidates"] == 100
    names = {p.name for p in world["svdpp"].iterdir()}
    assert {"manifest.json", "weights.pt", "catalogue.json", "train_pairs.npz", "split.json", "negatives.npz",
            "training-curves.png"} <= names
    assert (world["svdpp"] / "training-curves.png").read_bytes()[:4] == b"\x89PNG"
    manifest = json.loads((world["svdpp"] / "manifest.json").read_text())
    assert manifest["info"]["library"] == str(world["lib"].resolve()) and len(manifest["history"]["loss"]) == 4


def test_eval_reproduces_the_training_metrics(world) -> None:
    trained = json.loads(world["svdpp_json"].read_text())["metrics"]
    out = json.loads(ok(moodbridge("recommend", "eval", "--model", world["svdpp"], "--json")).stdout)
    for protocol in ("full", "sampled", "popularity_full", "random_sampled"):
        assert out["metrics"][protocol]["hr@10"] == pytest.approx(trained[protocol]["hr@10"])
    full = json.loads(ok(moodbridge("recommend", "eval", "--model", world["svdpp"], "--protocol", "full",
                                    "--json")).stdout)
    assert "full" in full["metrics"] and "sampled" not in full["metrics"]
    text = ok(moodbridge("recommend", "eval", "--model", world["content"], "--protocol", "sampled")).stdout
    assert "mf --content" in text and "sampled: 1 held-out + 99 negatives" in text and "full ranking" not in text


def test_query_a_clip_gives_images_and_an_image_gives_clips(world) -> None:
    clip = library_items(world["lib"], "audio")[0]
    out = json.loads(ok(moodbridge("recommend", "query", world["lib"], clip, "--model", world["svdpp"], "--top", "5",
                                   "--json")).stdout)
    assert out["query_modality"] == "audio" and out["target"] == "image" and len(out["hits"]) == 5
    assert {h["path"] for h in out["hits"]} <= set(library_items(world["lib"], "image"))
    scores = [h["score"] for h in out["hits"]]
    assert scores == sorted(scores, reverse=True)
    paired = set(pd.read_csv(world["pairs"] / "pairs.csv").query("clip_path == @clip")["image_path"])
    from moodbridge.recommend.persist import load_evaluation

    split, _ = load_evaluation(world["svdpp"])
    train_images = {i for c, i in zip(split.train.user_idx, split.train.item_idx)
                    if split.interactions.users[c] == clip}
    assert not {split.interactions.items[i] for i in train_images} & {h["path"] for h in out["hits"]}
    assert len(paired) == 3
    image = sorted(paired)[0]
    text = ok(moodbridge("recommend", "query", world["lib"], Path(image).name, "--model", world["content"],
                         "-n", "3")).stdout
    assert "mf --content recommends clips" in text
    assert sum(line.lstrip()[:2] in {"1.", "2.", "3."} for line in text.splitlines()) == 3


def test_unseen_item_works_with_content_and_is_refused_by_an_id_model(world, tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    shutil.copytree(world["lib"], lib)
    new = write_photos(tmp_path / "new", ("coffee.png",))[0]
    ok(moodbridge("add", lib, new, "-q"))
    line = one_error_line(moodbridge("recommend", "query", lib, "coffee.png", "--model", world["svdpp"]))
    assert "was not in the training data of the svdpp adapter" in line and "--content" in line
    out = json.loads(ok(moodbridge("recommend", "query", lib, "coffee.png", "--model", world["content"], "-n", "4",
                                   "--json")).stdout)
    assert out["query_seen"] is False and len(out["hits"]) == 4
    assert any("not in the training data" in n for n in out["notes"])
    # the new photo is also a candidate for a clip, through the content model only
    clip = library_items(lib, "audio")[0]
    out = json.loads(ok(moodbridge("recommend", "query", lib, clip, "--model", world["content"], "-n", "200",
                                   "--json")).stdout)
    assert str(new.resolve()) in {h["path"] for h in out["hits"]}
    assert [h["seen"] for h in out["hits"] if h["path"] == str(new.resolve())] == [False]


def test_model_folder_from_another_library_is_refused(world, tmp_path: Path) -> None:
    from moodbridge.library import Library

    write_photos(tmp_path / "media", ("coffee.png", "rocket.jpg"))
    write_tracks(tmp_path / "media", 2)
    with Library.create(tmp_path / "other") as lib:
        lib.add([tmp_path / "media"], progress=False)
    for model in (world["svdpp"], world["content"]):
        line = one_error_line(moodbridge("recommend", "query", tmp_path / "other", "rocket.jpg", "--model", model))
        assert "a model folder from another library" in line and str(world["lib"].resolve()) in line
    line = one_error_line(moodbridge("search", tmp_path / "other", skimage_photo("coffee.png"), "--to", "music",
                                     "--scorer", f"adapter:{world['content']}"))
    assert "another library" in line
    line = one_error_line(moodbridge("recommend", "eval", "--model", world["content"], "--library",
                                     tmp_path / "other"))
    assert "another library" in line
    line = one_error_line(moodbridge("recommend", "train", "--pairs", world["pairs"], "--model", "bmf",
                                     "--library", tmp_path / "other", "--out", tmp_path / "m"))
    assert "the pairs come from another library" in line


def test_bad_pairs_files_through_the_cli(world, tmp_path: Path) -> None:
    frame = pd.read_csv(world["pairs"] / "pairs.csv")
    cases = {
        "unknown": frame.rename(columns={"S": "similarity"}),
        "missing": frame.drop(columns=["image_path"]),
    }
    for name, bad in cases.items():
        folder = tmp_path / name
        folder.mkdir()
        bad.to_csv(folder / "pairs.csv", index=False)
        line = one_error_line(moodbridge("recommend", "train", "--pairs", folder, "--model", "bmf", "--library",
                                         world["lib"], "--out", tmp_path / f"m-{name}"))
        assert "not a pairs table" in line and ("unknown column(s) similarity" if name == "unknown"
                                                else "missing column(s) image_path") in line
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "pairs.csv").write_text("")
    line = one_error_line(moodbridge("recommend", "train", "--pairs", tmp_path / "empty", "--model", "ncf",
                                     "--library", world["lib"], "--out", tmp_path / "m-empty"))
    assert "empty file" in line
    (tmp_path / "nowhere").mkdir()
    line = one_error_line(moodbridge("recommend", "train", "--pairs", tmp_path / "nowhere", "--model", "ncf",
                                     "--out", tmp_path / "m-nowhere"))
    assert "no pairs.csv in this folder" in line
    # without dataset.json and without --library, the library is unknown
    line = one_error_line(moodbridge("recommend", "train", "--pairs", tmp_path / "unknown" / "pairs.csv",
                                     "--model", "ncf", "--out", tmp_path / "m-x"))
    assert "--library" in line
    res = moodbridge("recommend", "train", "--pairs", world["pairs"], "--model", "ncf2", "--out", tmp_path / "m-y")
    assert res.returncode == 2 and "ncf2" in res.stderr  # usage error: the choices are listed


def test_a_clip_with_a_single_pair_is_skipped_and_counted(world, tmp_path: Path) -> None:
    frame = pd.read_csv(world["pairs"] / "pairs.csv")
    clip = frame["clip_path"].iloc[0]
    one = frame.drop(frame.index[(frame["clip_path"] == clip)][1:])
    (tmp_path / "pairs").mkdir()
    one.to_csv(tmp_path / "pairs" / "pairs.csv", index=False)
    shutil.copy(world["pairs"] / "dataset.json", tmp_path / "pairs" / "dataset.json")
    res = ok(moodbridge("recommend", "train", "--pairs", tmp_path / "pairs", "--model", "bmf", "--out",
                        tmp_path / "m", "--epochs", "2", "-q", "--json"))
    out = json.loads(res.stdout)
    assert out["skipped_clips"] == 1 and out["evaluated_clips"] == 7 and out["pairs"] == 22
    assert any("1 clip(s) with a single pair cannot be left out: skipped" in n for n in out["notes"])
    text = ok(moodbridge("recommend", "train", "--pairs", tmp_path / "pairs", "--model", "bmf", "--out",
                         tmp_path / "m", "--epochs", "1", "-q"))
    assert "1 single-pair clip(s) skipped" in text.stdout and "note: 1 clip(s) with a single pair" in text.stderr


def test_eval_of_a_folder_that_is_not_a_model(tmp_path: Path) -> None:
    line = one_error_line(moodbridge("recommend", "eval", "--model", tmp_path))
    assert "not a recommender model folder (manifest.json is missing)" in line
    line = one_error_line(moodbridge("recommend", "eval", "--model", tmp_path / "absent"))
    assert "no such recommender model folder" in line


def test_search_with_an_adapter(world, tmp_path: Path) -> None:
    image = library_items(world["lib"], "image")[0]
    out = json.loads(ok(moodbridge("search", world["lib"], image, "--to", "music", "--top", "4", "--scorer",
                                   f"adapter:{world['svdpp']}", "--json")).stdout)
    assert out["method"].startswith("adapter: svdpp adapter") and out["target"] == "audio"
    assert len(out["hits"]) == 4 and {h["path"] for h in out["hits"]} <= set(library_items(world["lib"], "audio"))
    assert all("adapter_score" in h["components"] for h in out["hits"])
    # a photograph that is not in the library: only a content adapter can describe it
    new = skimage_photo("coffee.png")
    out = json.loads(ok(moodbridge("search", world["lib"], new, "--to", "music", "--scorer",
                                   f"adapter:{world['content']}", "--json")).stdout)
    assert out["method"].startswith("adapter: mf --content adapter") and len(out["hits"]) == 8
    line = one_error_line(moodbridge("search", world["lib"], new, "--to", "music", "--scorer",
                                     f"adapter:{world['svdpp']}"))
    assert "an ID adapter has no vector for a new file" in line and "--content" in line
    # music finds images
    clip = library_items(world["lib"], "audio")[2]
    out = json.loads(ok(moodbridge("search", world["lib"], clip, "--to", "image", "-n", "3", "--scorer",
                                   f"adapter:{world['content']}", "--json")).stdout)
    assert out["target"] == "image" and len(out["hits"]) == 3
    line = one_error_line(moodbridge("search", world["lib"], "--text", "calm", "--to", "music", "--scorer",
                                     f"adapter:{world['svdpp']}"))
    assert "an adapter scores music clips against images" in line
    line = one_error_line(moodbridge("search", world["lib"], new, "--to", "music", "--scorer", "joint:x"))
    assert "--scorer must be 'adapter:DIR'" in line


def test_pair_with_an_adapter_replaces_s(world, tmp_path: Path) -> None:
    res = ok(moodbridge("pair", world["lib"], "--out", tmp_path / "p", "--k", "20", "--m", "3", "--no-report",
                        "-q", "--scorer", f"adapter:{world['content']}"))
    assert "its scores replace S" in res.stdout
    meta = json.loads((tmp_path / "p" / "dataset.json").read_text())
    assert meta["parameters"]["space"] == f"adapter:{world['content']}" and "replace S" in meta["semantic_space"]
    frame = pd.read_csv(tmp_path / "p" / "pairs.csv")
    assert len(frame) == 24 and (frame.groupby("clip_path").size() == 3).all()
    # S is the adapter's score: recompute it for the pairs
    from moodbridge.library import Library
    from moodbridge.recommend.adapter import load_adapter

    with Library.open(world["lib"]) as lib:
        adapter = load_adapter(lib, world["content"])
        for row in frame.head(6).itertuples():
            assert adapter.score([row.clip_path], [row.image_path])[0, 0] == pytest.approx(row.S, rel=1e-4, abs=1e-4)
    # an ID adapter cannot pair an image it was not trained on
    lib = tmp_path / "lib"
    shutil.copytree(world["lib"], lib)
    ok(moodbridge("add", lib, write_photos(tmp_path / "new", ("coffee.png",))[0], "-q"))
    line = one_error_line(moodbridge("pair", lib, "--out", tmp_path / "q", "--k", "20", "--no-report", "-q",
                                     "--scorer", f"adapter:{world['svdpp']}"))
    assert "cannot score 1 of the" in line and "--content" in line
    line = one_error_line(moodbridge("pair", world["lib"], "--out", tmp_path / "r", "--space", "bridge-raw",
                                     "--scorer", f"adapter:{world['svdpp']}"))
    assert "replaces S" in line


@pytest.mark.parametrize("content", [False, True], ids=["id", "content"])
@pytest.mark.parametrize("model", ["ncf", "bmf", "svdpp", "mf"])
def test_every_model_through_the_jobs(world, tmp_path: Path, model: str, content: bool) -> None:
    from moodbridge.jobs.recommend import evaluate_recommender, query_recommender, train_recommender

    trained = train_recommender(world["pairs"], tmp_path / "m", model=model, content=content, epochs=2,
                                progress=False)
    assert trained.content is content and trained.n_test == 8 and set(trained.metrics) >= {"full", "sampled"}
    again = evaluate_recommender(tmp_path / "m")
    assert again.metrics["full"]["hr@10"] == pytest.approx(trained.metrics["full"]["hr@10"])
    clip = library_items(world["lib"], "audio")[1]
    hits = query_recommender(world["lib"], clip, model_dir=tmp_path / "m", top=3).hits
    assert len(hits) == 3 and all(h.path in library_items(world["lib"], "image") for h in hits)
