"""A trained recommender bound to a library: its features, its emotion, its catalogue, checked.

The rest of :mod:`moodbridge.recommend` works on paths and arrays.  This
module is where a recommender meets a :class:`~moodbridge.library.Library`:

* :func:`pairs_source` — a ``pair`` output folder (or its ``pairs.csv``) and its
  ``dataset.json``, which records the library the pairs came from;
* :func:`pairing_catalogue` — the images that pairing ranked: the library's
  images less those its EMID filters dropped (recorded in ``dataset.json``);
  full-catalogue evaluation ranks all of them, paired or not;
* :func:`library_side` — side information of items for the content-aware
  option: the stored encoder features (:data:`FEATURES`, the joint spaces'
  defaults: EfficientNet-Lite0 for images, musicnn MSD + MTT for clips) followed
  by the item's valence–arousal from the one rule of
  :func:`moodbridge.library.emotion.item_emotions`;
* :class:`Adapter` / :func:`load_adapter` — a saved model folder opened against a
  library, for ``recommend query``, ``search --scorer adapter:DIR`` and
  ``pair --scorer adapter:DIR``.  A folder trained on another library (none of
  its clips or images is in this one) is refused with a message saying so; a
  content model gets the side information of every clip and image of the
  library, so items added after training are scored too.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from moodbridge.errors import InvalidValueError, LibraryError
from moodbridge.library.emotion import item_emotions
from moodbridge.library.spaces import DEFAULT_FEATURES, library_features
from moodbridge.recommend.content import SideInfo, side_info
from moodbridge.recommend.persist import load_recommender, read_catalogue, read_manifest
from moodbridge.recommend.recommender import FittedRecommender

if TYPE_CHECKING:
    from moodbridge.library import Item, Library

__all__ = ["ADAPTER_PREFIX", "FEATURES", "Adapter", "library_side", "load_adapter", "pairing_catalogue",
           "pairs_source", "parse_scorer"]

#: Encoder features a content model reads, per library modality ("a+b": concatenated).
FEATURES: dict[str, str] = {"audio": DEFAULT_FEATURES["audio"], "image": DEFAULT_FEATURES["image"]}
#: ``--scorer adapter:DIR``.
ADAPTER_PREFIX = "adapter:"
PAIRS_CSV, DATASET_JSON = "pairs.csv", "dataset.json"
_WHAT = {"audio": "clip", "image": "image"}


def parse_scorer(value: str | None) -> Path | None:
    """The model folder of ``adapter:DIR``; ``None`` for no scorer (or ``"default"``).

    Raises
    ------
    InvalidValueError
        Any other value, or ``adapter:`` without a folder.
    """
    if value is None or str(value).strip() in ("", "default"):
        return None
    text = str(value).strip()
    if not text.startswith(ADAPTER_PREFIX) or not text[len(ADAPTER_PREFIX):].strip():
        raise InvalidValueError(f"--scorer must be 'adapter:DIR' (a model folder from 'moodbridge recommend "
                                f"train'), got {value!r}")
    return Path(text[len(ADAPTER_PREFIX):].strip())


def pairs_source(pairs: str | Path) -> tuple[Path, dict[str, Any]]:
    """``(pairs.csv, dataset.json contents or {})`` of a ``pair`` output folder or of a ``pairs.csv`` file.

    Raises
    ------
    InvalidValueError
        If there is no such folder or file, or the folder has no ``pairs.csv``.
    """
    path = Path(pairs)
    if path.is_dir():
        csv = path / PAIRS_CSV
        if not csv.is_file():
            raise InvalidValueError(f"{path}: no {PAIRS_CSV} in this folder; give the output folder of "
                                    "'moodbridge pair' (or a pairs.csv)")
    elif path.is_file():
        csv = path
    else:
        raise InvalidValueError(f"{path}: no such pairs folder or file")
    meta_path = csv.parent / DATASET_JSON
    meta: dict[str, Any] = {}
    if meta_path.is_file():
        try:
            loaded = json.loads(meta_path.read_text(encoding="utf-8"))
            meta = loaded if isinstance(loaded, dict) else {}
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            meta = {}
    return csv, meta


def pairing_catalogue(library: Library, dataset: dict[str, Any]) -> list[str]:
    """Image paths the pairing ranked: the library's images less those its filters dropped (sorted)."""
    dropped = {d["path"] for f in dataset.get("filters", []) if f.get("modality") == "image"
               for d in f.get("dropped_items", [])}
    return sorted(it.path for it in library.items(modality="image") if it.path not in dropped)


def library_side(library: Library, items: Sequence[Item], *, spec: str | None = None,
                 strict: bool = True) -> tuple[SideInfo, list[Item]]:
    """Side information of ``items`` (one modality): stored features of ``spec`` and the item's VA.

    Returns ``(side information, items left out)``; an item is left out when it has no
    emotion (with ``strict``, that is an error instead).

    Raises
    ------
    LibraryError
        An item without the features (re-add it with the encoder), or, with ``strict``,
        without an emotion.
    """
    items = list(items)
    modalities = {it.modality for it in items}
    if len(modalities) > 1:
        raise InvalidValueError(f"library_side: items of one modality expected, got {', '.join(sorted(modalities))}")
    modality = modalities.pop() if modalities else "image"
    spec = spec or FEATURES.get(modality, "")
    what = _WHAT.get(modality, modality)
    emotions = item_emotions(library, items)
    missing = [it for it, e in zip(items, emotions) if e is None]
    if missing and strict:
        raise LibraryError(f"{len(missing)} {what}(s) have no stored emotion (first: {missing[0].path}); a content "
                           "model reads each item's VA: re-add them with emotion annotation or attach labels")
    kept = [(it, e) for it, e in zip(items, emotions) if e is not None]
    if not kept:
        return side_info(([], np.zeros((0, 1), np.float32)), np.zeros((0, 2), np.float32), what=what), missing
    try:
        features = library_features(library, [it for it, _ in kept], spec)
    except LibraryError as exc:
        raise LibraryError(f"{what} features {spec}: {exc}; re-add the files with these encoders") from None
    va = np.array([[e.valence, e.arousal] for _, e in kept], dtype=np.float32)
    return side_info(([it.path for it, _ in kept], features), va, what=what), missing


@dataclass(eq=False)
class Adapter:
    """A saved recommender opened against a library.

    Attributes
    ----------
    folder
        The model folder.
    fitted
        The model with its catalogue (and, for a content model, the side information of
        every clip and image of the library that has features and an emotion).
    clips, images
        The library's audio and image items the adapter can score, by path.
    notes
        What the user should know (catalogue items no longer in the library …).
    """

    folder: Path
    fitted: FittedRecommender
    clips: dict[str, Item]
    images: dict[str, Item]
    notes: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.fitted.model.name

    @property
    def content(self) -> bool:
        return self.fitted.model.uses_content

    def describe(self) -> str:
        """``"svdpp --content adapter at DIR"``."""
        return f"{self.name}{' --content' if self.content else ''} adapter at {self.folder}"

    def score(self, clips: Sequence[str], images: Sequence[str], *, block: int = 1024) -> np.ndarray:
        """``(len(clips), len(images))`` scores by path, computed in blocks of clips."""
        clips, images = list(clips), list(images)
        parts = [self.fitted.score(clips[s:s + block], images) for s in range(0, len(clips), block)]
        return np.concatenate(parts) if parts else np.zeros((0, len(images)), dtype=np.float32)

    def score_query(self, which: str, inputs: np.ndarray, candidates: Sequence[str]) -> np.ndarray:
        """Scores of a new clip (``which="clip"``) or image described by ``inputs`` (features, then VA) against ``candidates``.

        Raises
        ------
        InvalidValueError
            For an ID model (it only knows its catalogue), or inputs of the wrong width.
        """
        if not self.content:
            raise InvalidValueError(f"the {self.describe()} is an ID model: it only scores the clips and images it "
                                    "was trained on; train it with --content to score new files")
        key = "<query>"
        side = self.fitted.user_side if which == "clip" else self.fitted.item_side
        assert side is not None
        extended = side.plus([key], inputs)
        fitted = replace(self.fitted, **{"user_side" if which == "clip" else "item_side": extended})
        if which == "clip":
            return fitted.score([key], list(candidates))[0]
        return fitted.score(list(candidates), [key])[:, 0]

    def scorable(self, which: str) -> list[Item]:
        """Library items of ``which`` (``"clip"`` / ``"image"``) the adapter can score, in library order."""
        return list((self.clips if which == "clip" else self.images).values())


def load_adapter(library: Library, folder: str | Path, *, device: str = "cpu") -> Adapter:
    """Open the model folder ``folder`` against ``library``.

    Raises
    ------
    InvalidValueError
        Not a model folder, or one trained on another library (none of its clips and
        images are in this one), or content features whose width differs from the model's.
    LibraryError
        A content model whose training clips or images are gone from the library or
        lack features / an emotion.
    """
    folder = Path(folder)
    manifest = read_manifest(folder)
    info = manifest.get("info") or {}
    clips, images = read_catalogue(folder)
    audio_items = {it.path: it for it in library.items(modality="audio")}
    image_items = {it.path: it for it in library.items(modality="image")}
    clips_here = [c for c in clips if c in audio_items]
    images_here = [i for i in images if i in image_items]
    if not clips_here and not images_here:
        trained_on = info.get("library") or "another library"
        raise InvalidValueError(
            f"{folder}: this model was trained on the library at {trained_on} ({len(clips)} clips, {len(images)} "
            f"images) and none of them is in {library.root}: a model folder from another library; train one on "
            f"this library with 'moodbridge recommend train'")
    notes: list[str] = []
    content = bool(manifest.get("uses_content"))
    if not content:
        gone = (len(clips) - len(clips_here), len(images) - len(images_here))
        if any(gone):
            notes.append(f"{gone[0]} clip(s) and {gone[1]} image(s) the model was trained on are no longer in the "
                         "library; they are left out")
        fitted = load_recommender(folder, device=device)
        return Adapter(folder, fitted, {p: audio_items[p] for p in clips_here},
                       {p: image_items[p] for p in images_here}, notes)
    missing = [p for p in (*clips, *images) if p not in audio_items and p not in image_items]
    if missing:
        raise LibraryError(f"{folder}: {len(missing)} clip(s) or image(s) this content model was trained on are no "
                           f"longer in {library.root} (first: {missing[0]}); it needs their features: retrain it")
    features = info.get("features") or FEATURES
    user_side, left_clips = library_side(library, list(audio_items.values()), spec=features.get("audio"), strict=False)
    item_side, left_images = library_side(library, list(image_items.values()), spec=features.get("image"),
                                          strict=False)
    for what, left in (("clip", left_clips), ("image", left_images)):
        if left:
            notes.append(f"{len(left)} {what}(s) of the library have no stored emotion and cannot be scored")
    config = manifest.get("config", {}).get("content") or {}
    for what, side, key in (("clip", user_side, "user_dim"), ("image", item_side, "item_dim")):
        if len(side) and config.get(key) not in (None, side.dim):
            raise InvalidValueError(f"{folder}: the model reads {config.get(key)} inputs per {what} but the library's "
                                    f"{what} features ({features.get('audio' if what == 'clip' else 'image')}) + VA "
                                    f"have {side.dim}; retrain it on this library")
    fitted = load_recommender(folder, user_side=user_side, item_side=item_side, device=device)
    return Adapter(folder, fitted, {p: audio_items[p] for p in user_side.paths},
                   {p: image_items[p] for p in item_side.paths}, notes)
