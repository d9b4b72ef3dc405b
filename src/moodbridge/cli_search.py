"""``moodbridge search`` and ``moodbridge align train``: cross-modal retrieval in a library.

Added to the main app with :func:`register` (``from moodbridge.cli_search import register; register(app)``).
"""
from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, Optional

import numpy as np
import typer

from moodbridge.cli import friendly_errors
from moodbridge.errors import InvalidValueError, LibraryError, MoodbridgeError

__all__ = ["align_app", "register"]

align_app = typer.Typer(no_args_is_help=True, help="Train joint emotion spaces for cross-modal search.")

LibArg = Annotated[Path, typer.Argument(help="The library folder.")]


# ----------------------------------------------------------------------------- search
@friendly_errors
def search_cmd(
    lib: LibArg,
    query: Annotated[Optional[Path], typer.Argument(help="A query file: image, audio, MIDI or .txt.")] = None,
    to: Annotated[str, typer.Option("--to", help="What to find: music, image or midi.")] = "music",
    top: Annotated[int, typer.Option("--top", "-n", help="How many items.")] = 10,
    text: Annotated[Optional[str], typer.Option("--text", "-t", help="A text query instead of a file.")] = None,
    space: Annotated[Optional[str], typer.Option(help="Joint space to use (default: newest that fits).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as one JSON object.")] = False,
) -> None:
    """Find the library items (music, images or MIDI) closest in emotion to a file or a text."""
    from moodbridge.library import Library
    from moodbridge.search.query import search_library

    if query is not None and text is not None:
        raise MoodbridgeError("give either a QUERY file or --text, not both")
    if query is None and text is None:
        raise MoodbridgeError("nothing to search for: give a QUERY file or --text")
    with Library.open(lib) as library:
        result = search_library(library, query if query is not None else text, to=to, top=top, space=space)
    if as_json:
        typer.echo(json.dumps(result.to_dict()))
        return
    label = result.query if result.query_kind == "file" else repr(result.query)
    typer.echo(f"query {label} ({result.query_modality})")
    if result.query_emotion:
        e = result.query_emotion
        typer.echo(f"  emotion: valence {e['valence']:+.2f}, arousal {e['arousal']:+.2f}, {e['quadrant']}")
    typer.echo(f"method: {result.method}")
    for note in result.notes:
        typer.echo(f"note: {note}")
    for h in result.hits:
        emo = (f"valence {h.valence:+.2f}, arousal {h.arousal:+.2f}, {h.quadrant}" if h.valence is not None
               else "no stored emotion")
        typer.echo(f"{h.rank:>3}. {h.score:.3f}  #{h.id} {h.path}  ({emo})")


# ----------------------------------------------------------------------------- align
class _ConcatFeatures:
    """A library view whose ``feature_matrix`` accepts ``"enc-a+enc-b"`` (features concatenated)."""

    def __init__(self, library: Any) -> None:
        self._library = library
        self.root = library.root

    def items(self, *, modality: str | None = None) -> list[Any]:
        return self._library.items(modality=modality)

    def feature_matrix(self, items: Sequence[Any], encoder: str) -> np.ndarray:
        from moodbridge.search.query import library_features

        return library_features(self._library, items, encoder)


def _labels(library: Any, items: Sequence[Any], label: str) -> list[Any]:
    """Label of each item (``None`` when missing): a label column, or the stored emotion's quadrant."""
    if label == "quadrant":
        from moodbridge.search.query import _item_va

        return [_item_va(library, it)[2] for it in items]
    return [it.labels.get(label) or None for it in items]


@align_app.command("train")
@friendly_errors
def align_train(
    lib: LibArg,
    from_: Annotated[str, typer.Option("--from", help="First modality: image, music/audio, midi or text.")] = "image",
    to: Annotated[str, typer.Option("--to", help="Second modality: image, music/audio, midi or text.")] = "audio",
    label: Annotated[str, typer.Option(help="Label column (e.g. mood), or 'quadrant' for the stored emotion's quadrant.")] = "quadrant",
    space: Annotated[str, typer.Option(help="Name of the space (saved under LIB/spaces/NAME).")] = "default",
    epochs: Annotated[int, typer.Option(min=1, help="Training epochs at most.")] = 15,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
) -> None:
    """Train a joint emotion space between two modalities of a library and index both for search."""
    from moodbridge.align import AlignConfig, train_joint_space
    from moodbridge.library import Library
    from moodbridge.search import index_library
    from moodbridge.search.index import _check_name
    from moodbridge.search.query import DEFAULT_FEATURES, SPACE_INFO_FILE, library_features, space_dir

    aliases = {"music": "audio", "audio": "audio", "image": "image", "midi": "midi", "text": "text"}
    mods = []
    for flag, value in (("--from", from_), ("--to", to)):
        if value.lower() not in aliases:
            raise InvalidValueError(f"{flag} must be image, music, midi or text; got {value!r}")
        mods.append(aliases[value.lower()])
    ma, mb = mods
    if ma == mb:
        raise InvalidValueError(f"--from and --to must be different modalities, both are {ma}")
    _check_name(space)
    start = time.perf_counter()
    with Library.open(lib) as library:
        feats, labs, kept = [], [], []
        for m in (ma, mb):
            items = library.items(modality=m)
            if not items:
                raise LibraryError(f"{library.root}: the library has no {m} items to train on")
            y = _labels(library, items, label)
            keep = [i for i, v in enumerate(y) if v is not None]
            if not keep:
                what = "a stored emotion" if label == "quadrant" else f"a {label!r} label"
                raise LibraryError(f"none of the {len(items)} {m} item(s) has {what}")
            if len(keep) < len(items):
                typer.echo(f"note: {len(items) - len(keep)} {m} item(s) without a label left out", err=True)
            items = [items[i] for i in keep]
            feats.append(library_features(library, items, DEFAULT_FEATURES[m]))
            labs.append(np.array([str(y[i]) for i in keep], dtype=object))
            kept.append(len(items))
        config = AlignConfig(modalities=(ma, mb), labels="categorical", max_epochs=epochs, seed=seed,
                             progress=False, device="cpu")
        joint, history = train_joint_space(feats[0], labs[0], feats[1], labs[1], config=config)
        folder = space_dir(library, space)
        joint.save(folder)
        info = {
            "space": space,
            "modalities": [ma, mb],
            "features": {ma: DEFAULT_FEATURES[ma], mb: DEFAULT_FEATURES[mb]},
            "label": label,
            "items": {ma: kept[0], mb: kept[1]},
            "trained_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        (folder / SPACE_INFO_FILE).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
        view = _ConcatFeatures(library)
        counts = []
        for m in (ma, mb):
            index = index_library(view, joint, space=space, modality=m, encoder=DEFAULT_FEATURES[m])
            counts.append(f"{len(index)} {m}")
    hist = history.to_dict()
    typer.echo(f"trained joint space {space!r} ({ma} <-> {mb}, label {label}) on {kept[0]} {ma} and {kept[1]} {mb}"
               f" item(s) in {time.perf_counter() - start:.1f}s; {len(hist.get('train_loss', []) or [])} epoch(s)")
    typer.echo(f"saved {folder}; indexed {', '.join(counts)}")


def register(app: typer.Typer) -> None:
    """Add ``search`` and the ``align`` sub-app to the ``moodbridge`` app."""
    app.command("search")(search_cmd)
    app.add_typer(align_app, name="align")
