"""Save and load a trained recommender as a folder.

Layout (each file written atomically through :mod:`moodbridge.fileio`;
``manifest.json`` last, so its presence marks a complete folder):

* ``weights.pt`` — ``torch.save`` of the model's ``state_dict`` (loaded with ``weights_only=True``);
* ``catalogue.json`` — the clip and image paths in index order;
* ``train_pairs.npz`` — each clip's training images (CSR), for excluding them from recommendations;
* ``split.json``, ``negatives.npz`` — the leave-one-out split and the fixed 99 negatives
  (:func:`save_evaluation`), when the model was trained by ``recommend train``;
* ``manifest.json`` — format, model name and constructor config, counts, the
  **fingerprints** of the clip and image ids, training history and metrics.

Loading against a library checks the image fingerprint: a model trained on
another catalogue fails with a message saying how the catalogues differ.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from moodbridge.errors import InvalidValueError
from moodbridge.fileio import atomic_path, output_folder, write_json_atomic
from moodbridge.recommend.content import SideInfo
from moodbridge.recommend.data import Interactions, fingerprint
from moodbridge.recommend.recommender import FittedRecommender
from moodbridge.recommend.registry import model_class
from moodbridge.recommend.sampling import EvalNegatives, load_negatives, save_negatives
from moodbridge.recommend.split import Split, load_split, save_split
from moodbridge.recommend.train import History

__all__ = ["MODEL_FORMAT", "NEGATIVES_FILE", "SPLIT_FILE", "load_evaluation", "load_recommender", "read_catalogue",
           "read_manifest", "save_evaluation", "save_recommender"]

MODEL_FORMAT = "moodbridge-recommender"
MANIFEST, WEIGHTS, CATALOGUE, TRAIN_PAIRS = "manifest.json", "weights.pt", "catalogue.json", "train_pairs.npz"


def save_recommender(fitted: FittedRecommender, folder: str | Path) -> Path:
    """Write ``fitted`` into ``folder`` (created if needed); returns the folder."""
    out = output_folder(folder, what="recommender model")
    model = fitted.model
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    with atomic_path(out / WEIGHTS, what="model weights") as tmp:
        torch.save(state, tmp)
    write_json_atomic(out / CATALOGUE, {"clips": list(fitted.users), "images": list(fitted.items)}, what="catalogue")
    with atomic_path(out / TRAIN_PAIRS, what="training pairs") as tmp, open(tmp, "wb") as handle:
        np.savez(handle, indptr=fitted.train_indptr, indices=fitted.train_indices)
    manifest = {
        "format": MODEL_FORMAT, "format_version": 1, "model": model.name, "config": model.config(),
        "uses_content": model.uses_content, "n_clips": len(fitted.users), "n_images": len(fitted.items),
        "clip_fingerprint": fingerprint(fitted.users), "image_fingerprint": fingerprint(fitted.items),
        "history": fitted.history.as_dict() if fitted.history else None, "metrics": fitted.metrics,
        "info": fitted.info,
    }
    write_json_atomic(out / MANIFEST, manifest, what="model manifest")
    return out


def _read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidValueError(f"{path.parent}: not a recommender model folder ({path.name} is missing)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidValueError(f"{path}: unreadable {what} ({exc})") from None


def _compare(folder: Path, what: str, saved: Sequence[str], saved_fp: str, given: Sequence[str]) -> None:
    given_fp = fingerprint(list(given))
    if given_fp == saved_fp:
        return
    saved_set, given_set = set(saved), set(given)
    raise InvalidValueError(
        f"{folder}: this model was trained on another catalogue of {what}s ({len(saved)} {what}s, fingerprint "
        f"{saved_fp}) than the one given ({len(given)} {what}s, fingerprint {given_fp}): "
        f"{len(given_set - saved_set)} {what}(s) are new and {len(saved_set - given_set)} missing"
        + ("" if given_set != saved_set else " (same paths, other order)") + "; retrain on this library")


def read_manifest(folder: str | Path) -> dict[str, Any]:
    """The manifest of a model folder (checked to be one).

    Raises
    ------
    InvalidValueError
        If the folder is missing, has no manifest, or the manifest is not a recommender's.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InvalidValueError(f"{folder}: no such recommender model folder")
    manifest = _read_json(folder / MANIFEST, "model manifest")
    if not isinstance(manifest, dict) or manifest.get("format") != MODEL_FORMAT:
        raise InvalidValueError(f"{folder}: {MANIFEST} is not a moodbridge recommender manifest")
    return manifest


def read_catalogue(folder: str | Path) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``(clips, images)`` of a model folder, in index order."""
    catalogue = _read_json(Path(folder) / CATALOGUE, "catalogue")
    return tuple(catalogue["clips"]), tuple(catalogue["images"])


def load_recommender(folder: str | Path, *, images: Sequence[str] | None = None, clips: Sequence[str] | None = None,
                     user_side: SideInfo | None = None, item_side: SideInfo | None = None,
                     device: str | torch.device = "cpu") -> FittedRecommender:
    """Load a folder written by :func:`save_recommender`.

    Parameters
    ----------
    folder
        The model folder.
    images, clips
        The current library's image (and clip) paths in index order (sorted, as
        :func:`~moodbridge.recommend.data.interactions_from_pairs` makes them); when
        given, they must be the model's catalogue.
    user_side, item_side
        Side information; required for a content model (its inputs are not saved).
    device
        Where to put the model.

    Raises
    ------
    InvalidValueError
        If the folder is missing or incomplete, of an unknown format or model, the
        catalogue differs from the one given, or a content model lacks its side information.
    """
    folder = Path(folder)
    manifest = read_manifest(folder)
    try:
        cls = model_class(manifest["model"])
    except InvalidValueError as exc:
        raise InvalidValueError(f"{folder}: {exc}") from None
    users, items = read_catalogue(folder)
    for what, ids, key in (("clip", users, "clip_fingerprint"), ("image", items, "image_fingerprint")):
        if fingerprint(ids) != manifest[key]:
            raise InvalidValueError(f"{folder}: {CATALOGUE} does not match the {what} fingerprint in {MANIFEST} "
                                    "(the folder was altered)")
    if images is not None:
        _compare(folder, "image", items, manifest["image_fingerprint"], images)
    if clips is not None:
        _compare(folder, "clip", users, manifest["clip_fingerprint"], clips)
    try:
        state = torch.load(folder / WEIGHTS, map_location="cpu", weights_only=True)
        with np.load(folder / TRAIN_PAIRS, allow_pickle=False) as data:
            indptr, indices = data["indptr"], data["indices"]
    except FileNotFoundError as exc:
        raise InvalidValueError(f"{folder}: not a complete model folder ({Path(exc.filename).name} is missing)") from None
    except (OSError, RuntimeError, KeyError, ValueError) as exc:
        raise InvalidValueError(f"{folder}: unreadable model files ({str(exc).splitlines()[0]})") from None
    try:
        model = cls.from_checkpoint(manifest["config"], state)
    except (RuntimeError, TypeError, ValueError) as exc:
        raise InvalidValueError(f"{folder}: the weights do not fit the {manifest['model']!r} model of the manifest "
                                f"({str(exc).splitlines()[0]})") from None
    if model.uses_content:
        if user_side is None or item_side is None:
            raise InvalidValueError(f"{folder}: a content model needs the clips' and images' features and VA "
                                    "(user_side=, item_side=) to score; they are kept in the library, not the model")
        model.attach(user_side.matrix(users), item_side.matrix(items))
    model.to(torch.device(device))
    history = History.from_dict(manifest["history"]) if manifest.get("history") else None
    return FittedRecommender(model, users, items, indptr, indices, history, manifest.get("metrics") or {},
                             user_side, item_side, manifest.get("info") or {})


#: The leave-one-out split and the sampled-99 negatives the model was evaluated with, kept in its folder.
SPLIT_FILE, NEGATIVES_FILE = "split.json", "negatives.npz"


def save_evaluation(folder: str | Path, split: Split, negatives: EvalNegatives | None) -> dict[str, Path]:
    """Write the split (and the fixed negatives) into a model folder; returns ``{"split": …, "negatives": …}``."""
    out = output_folder(folder, what="recommender model")
    files = {"split": save_split(split, out / SPLIT_FILE)}
    if negatives is not None:
        files["negatives"] = save_negatives(negatives, out / NEGATIVES_FILE)
    return files


def load_evaluation(folder: str | Path) -> tuple[Split, EvalNegatives | None]:
    """The split and negatives saved in a model folder, on the pairs rebuilt from the folder itself.

    The pairs are the training pairs (``train_pairs.npz``) plus the held-out pairs of
    ``split.json``; :func:`~moodbridge.recommend.split.load_split` then checks the clip,
    image and pair fingerprints, so an altered folder is refused.

    Raises
    ------
    InvalidValueError
        If the folder has no split (a model trained outside ``recommend train``) or it does not fit.
    """
    folder = Path(folder)
    users, items = read_catalogue(folder)
    path = folder / SPLIT_FILE
    if not path.is_file():
        raise InvalidValueError(f"{folder}: no {SPLIT_FILE} in the model folder, so there is no held-out pair to "
                                "evaluate on; train it with 'moodbridge recommend train'")
    try:
        held_out = json.loads(path.read_text(encoding="utf-8"))["test"]
        with np.load(folder / TRAIN_PAIRS, allow_pickle=False) as data:
            indptr, indices = data["indptr"], data["indices"]
    except (OSError, KeyError, ValueError, TypeError) as exc:
        raise InvalidValueError(f"{folder}: unreadable split or training pairs ({exc})") from None
    user_row = {p: r for r, p in enumerate(users)}
    item_row = {p: r for r, p in enumerate(items)}
    try:
        test_u = np.array([user_row[c] for c, _ in held_out], dtype=np.int64)
        test_i = np.array([item_row[i] for _, i in held_out], dtype=np.int64)
    except KeyError as exc:
        raise InvalidValueError(f"{folder}: {SPLIT_FILE} names {exc.args[0]!r}, which is not in the model's "
                                "catalogue (the folder was altered)") from None
    train_u = np.repeat(np.arange(len(users), dtype=np.int64), np.diff(indptr))
    keys = np.unique(np.concatenate([train_u * len(items) + indices, test_u * len(items) + test_i]))
    inter = Interactions(users, items, keys // len(items), keys % len(items), source=str(folder))
    split = load_split(path, inter)
    negatives = load_negatives(folder / NEGATIVES_FILE, split) if (folder / NEGATIVES_FILE).is_file() else None
    return split, negatives
