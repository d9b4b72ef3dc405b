"""``moodbridge search``, ``moodbridge align train`` and ``align eval``: cross-modal retrieval in a library.

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
from moodbridge.fileio import write_json_atomic

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


def _labelled(library: Any, modality: str, label: str, notes: list[str]) -> tuple[list[Any], np.ndarray]:
    """The ``modality`` items that have a ``label`` and their labels (as strings); a note counts the others.

    Raises
    ------
    LibraryError
        If the library has no item of ``modality``, or none of them has the label.
    """
    items = library.items(modality=modality)
    if not items:
        raise LibraryError(f"{library.root}: the library has no {modality} items")
    y = _labels(library, items, label)
    keep = [i for i, v in enumerate(y) if v is not None]
    if not keep:
        what = "a stored emotion" if label == "quadrant" else f"a {label!r} label"
        raise LibraryError(f"none of the {len(items)} {modality} item(s) has {what}")
    if len(keep) < len(items):
        notes.append(f"{len(items) - len(keep)} {modality} item(s) without a label left out")
    return [items[i] for i in keep], np.array([str(y[i]) for i in keep], dtype=object)


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
    holdout: Annotated[float, typer.Option(help="Share of each label's items held out of training for 'align eval'"
                                                " (labels with 3+ items; 0: none).")] = 0.25,
) -> None:
    """Train a joint emotion space between two modalities of a library and index both for search."""
    from moodbridge.align import AlignConfig, train_joint_space
    from moodbridge.align.samplers import stratified_split
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
    if not 0.0 <= holdout < 1.0:
        raise InvalidValueError(f"--holdout must be a fraction in [0, 1), got {holdout!r}")
    _check_name(space)
    start = time.perf_counter()
    rng = np.random.default_rng(seed)
    with Library.open(lib) as library:
        feats, labs, train_ids, held_ids = [], [], {}, {}
        for m in (ma, mb):
            notes: list[str] = []
            items, y = _labelled(library, m, label, notes)
            for note in notes:
                typer.echo(f"note: {note}", err=True)
            tr, held = stratified_split(y, holdout, rng, min_held=1, min_train=2)  # the trainer needs 2 per label
            train_ids[m] = [int(items[i].id) for i in tr]
            held_ids[m] = [int(items[i].id) for i in held]
            feats.append(library_features(library, [items[i] for i in tr], DEFAULT_FEATURES[m]))
            labs.append(y[tr])
        config = AlignConfig(modalities=(ma, mb), labels="categorical", max_epochs=epochs, seed=seed,
                             progress=False, device="cpu")
        try:
            joint, history = train_joint_space(feats[0], labs[0], feats[1], labs[1], config=config)
        except InvalidValueError as exc:
            if holdout <= 0:
                raise
            raise InvalidValueError(f"{exc} (after holding out {len(held_ids[ma])} {ma} and {len(held_ids[mb])} {mb}"
                                    f" item(s); try a smaller --holdout)") from None
        folder = space_dir(library, space)
        joint.save(folder)
        info = {
            "space": space,
            "modalities": [ma, mb],
            "features": {ma: DEFAULT_FEATURES[ma], mb: DEFAULT_FEATURES[mb]},
            "label": label,
            "items": {ma: len(train_ids[ma]), mb: len(train_ids[mb])},
            "holdout": {"fraction": holdout, "seed": seed, "train_ids": train_ids, "held_out_ids": held_ids},
            "trained_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        write_json_atomic(folder / SPACE_INFO_FILE, info, what="space description")
        view = _ConcatFeatures(library)
        counts = []
        for m in (ma, mb):
            index = index_library(view, joint, space=space, modality=m, encoder=DEFAULT_FEATURES[m])
            counts.append(f"{len(index)} {m}")
    hist = history.to_dict()
    n_a, n_b = len(train_ids[ma]), len(train_ids[mb])
    typer.echo(f"trained joint space {space!r} ({ma} <-> {mb}, label {label}) on {n_a} {ma} and {n_b} {mb}"
               f" item(s) in {time.perf_counter() - start:.1f}s; {len(hist.get('epochs', []) or [])} epoch(s)")
    if holdout > 0:
        typer.echo(f"held out {len(held_ids[ma])} {ma} and {len(held_ids[mb])} {mb} item(s)"
                   f" ({holdout:g} of each label) for 'moodbridge align eval'")
    typer.echo(f"saved {folder}; indexed {', '.join(counts)}")


# ----------------------------------------------------------------------------- align eval
#: library modalities whose embeddings the linear probe scores (Emo-CLIM probes its music embeddings)
PROBE_MODALITIES = ("audio", "midi")


def _eval_sets(library: Any, space: str, info: dict[str, Any], label: str, use_all: bool,
               notes: list[str]) -> dict[str, dict[str, Any]]:
    """Per modality of the space: the evaluated items, their labels, raw features and joint embeddings."""
    from moodbridge.align import JointSpace
    from moodbridge.search.query import _check_dim, library_features, space_dir, space_heads

    heads, specs = space_heads(library, space)
    modalities = [m for m in info.get("modalities", heads) if m in heads] or list(heads)
    held = (info.get("holdout") or {}).get("held_out_ids") or {}
    if not use_all and not any(held.get(m) for m in modalities):
        raise LibraryError(f"joint space {space!r} records no held-out items (trained with --holdout 0 or before"
                           f" --holdout existed); evaluate on every labelled item with --all")
    have = library.summary()["by_modality"]
    for m in modalities:
        if not have.get(m):
            raise LibraryError(f"{library.root}: the library has no {m} items; joint space {space!r} is"
                               f" {' <-> '.join(modalities)}")
    joint = JointSpace.load(space_dir(library, space), device="cpu")
    sets: dict[str, dict[str, Any]] = {}
    for m in modalities:
        items, y = _labelled(library, m, label, notes)
        if not use_all:
            wanted = {int(i) for i in held.get(m, [])}
            keep = [i for i, it in enumerate(items) if it.id in wanted]
            gone = len(wanted) - len(keep)
            if gone:
                notes.append(f"{gone} held-out {m} item(s) are no longer in the library or have no label")
            items, y = [items[i] for i in keep], y[keep]
        sets[m] = {"items": items, "labels": y, "spec": specs[m]}
    counts = {m: len(s["items"]) for m, s in sets.items()}
    if min(counts.values()) < 2:
        which = "labelled" if use_all else "labelled held-out"
        have_txt = ", ".join(f"{n} {m}" for m, n in counts.items())
        hint = "" if use_all else "; use --all to include training items or retrain with a larger --holdout"
        raise LibraryError(f"too few {which} items to evaluate joint space {space!r}: {have_txt}"
                           f" (need at least 2 of each){hint}")
    for m, s in sets.items():
        x = library_features(library, s["items"], s["spec"])
        _check_dim(space, m, s["spec"], int(heads[m]["in_dim"]), x.shape[1], "library")
        s["features"], s["embeddings"] = x, joint.embed(m, x)
    return sets


def _one_modality_classes(sets: dict[str, dict[str, Any]]) -> list[str]:
    """One line per class that only one modality has (its cross-modal queries cannot succeed)."""
    (a, sa), (b, sb) = sets.items()
    ca, cb = set(sa["labels"].tolist()), set(sb["labels"].tolist())
    lines = []
    for c in sorted(ca ^ cb):
        has, lacks = (a, b) if c in ca else (b, a)
        n = int(np.sum(sets[has]["labels"] == c))
        lines.append(f"class {c!r} is present only in {has} ({n} item(s)), no {lacks} item has it: its"
                     f" {has} -> {lacks} queries score 0 and still count in the macro average")
    return lines


def _probe(sets: dict[str, dict[str, Any]], seed: int, notes: list[str]) -> dict[str, Any] | None:
    """Cross-validated linear probe of the music embeddings and of the same items' raw features (Emo-CLIM Sec. 5.2)."""
    from moodbridge.evaluate import cross_validated_probe

    m = next((m for m in sets if m in PROBE_MODALITIES), list(sets)[-1])
    s = sets[m]
    classes, counts = np.unique(s["labels"], return_counts=True)
    keep = np.isin(s["labels"], classes[counts >= 2])
    if not keep.all():
        notes.append(f"linear probe: class(es) {', '.join(map(repr, classes[counts < 2]))} with a single {m}"
                     f" item left out of the probe")
    if len(classes[counts >= 2]) < 2:
        notes.append(f"linear probe skipped: it needs 2 classes with at least 2 {m} items each"
                     f" (have {', '.join(f'{c} {n}' for c, n in zip(classes, counts))})")
        return None
    y = s["labels"][keep]
    emb = cross_validated_probe(s["embeddings"][keep], y, seed=seed)
    raw = cross_validated_probe(s["features"][keep], y, seed=seed)
    return {"modality": m, "items": int(keep.sum()),
            "embeddings": {"dim": int(s["embeddings"].shape[1]), **emb.to_dict()},
            "raw_features": {"features": s["spec"], "dim": int(s["features"].shape[1]), **raw.to_dict()}}


def _per_class_table(results: dict[str, Any], sets: dict[str, dict[str, Any]], metric: str) -> Any:
    """Per-class ``metric`` of every direction plus the item count per modality (Emo-CLIM Table 5)."""
    from moodbridge.evaluate import retrieval_table

    table = retrieval_table(results, metric=metric)
    for m, s in sets.items():
        table[f"# {m}"] = [int(np.sum(s["labels"] == c)) if c != "macro" else len(s["labels"]) for c in table.index]
    return table


def _print_eval(report: dict[str, Any], results: dict[str, Any], sets: dict[str, dict[str, Any]]) -> None:
    from moodbridge.evaluate import retrieval_table

    fmt = "{:.3f}".format
    mods = report["modalities"]
    typer.echo(f"joint space {report['space']!r} ({' <-> '.join(mods)}), label {report['label']}")
    counts = ", ".join(f"{n} {m}" for m, n in report["items"].items())
    which = ("every labelled item (training items included)" if report["all_items"]
             else "the held-out items (not used in training)")
    typer.echo(f"evaluated on {which}: {counts}")
    macro = retrieval_table(results).rename(columns={"p@1": "P@1", "p@5": "P@5", "mrr": "MRR"})
    macro["queries"] = [len(sets[report["retrieval"][d]["query"]]["labels"]) for d in macro.index]
    typer.echo("\nretrieval, macro average over classes (Emo-CLIM Table 1):")
    typer.echo(macro.to_string(float_format=fmt))
    for metric in ("p@1", "p@5"):
        typer.echo(f"\nper-class {metric.upper()} (Emo-CLIM Table 5):")
        typer.echo(_per_class_table(results, sets, metric).to_string(float_format=fmt, na_rep="-"))
    probe = report["probe"]
    if probe is not None:
        emb, raw = probe["embeddings"], probe["raw_features"]
        typer.echo(f"\nlinear probe of the {probe['modality']} embeddings (logistic regression, {emb['folds']}-fold"
                   f" cross-validation, {probe['items']} items, {len(emb['classes'])} classes):")
        typer.echo(f"  joint-space embeddings ({emb['dim']}-d): macro-F1 {emb['macro_f1']:.3f},"
                   f" accuracy {emb['accuracy']:.3f}")
        typer.echo(f"  raw features {raw['features']} ({raw['dim']}-d): macro-F1 {raw['macro_f1']:.3f},"
                   f" accuracy {raw['accuracy']:.3f}")
        ch = emb["chance"]
        typer.echo(f"  chance: majority class macro-F1 {ch['majority']['macro_f1']:.3f}, accuracy"
                   f" {ch['majority']['accuracy']:.3f}; uniform guess macro-F1 {ch['uniform']['macro_f1']:.3f},"
                   f" accuracy {ch['uniform']['accuracy']:.3f}")
    if report["plot"]:
        typer.echo(f"\nwrote plot {report['plot']}")


@align_app.command("eval")
@friendly_errors
def align_eval(
    lib: LibArg,
    space: Annotated[str, typer.Option(help="Name of the joint space (LIB/spaces/NAME).")] = "default",
    label: Annotated[Optional[str], typer.Option(help="Label column, or 'quadrant' (default: the space's"
                                                      " training label).")] = None,
    plot: Annotated[Optional[Path], typer.Option(help="Write a t-SNE map of the joint space to this PNG.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print everything as one JSON object.")] = False,
    use_all: Annotated[bool, typer.Option("--all", help="Evaluate on every labelled item, training items"
                                                        " included.")] = False,
    seed: Annotated[int, typer.Option(help="Seed of the probe's folds and of the t-SNE.")] = 0,
) -> None:
    """Evaluate a joint space: retrieval P@1/P@5/MRR both ways and within each modality, a linear probe, a plot.

    Like Emo-CLIM's evaluation (Sec. 5.1 Tables 1 and 5, Sec. 5.2, Fig. 2), on the
    items held out by 'align train --holdout' unless --all is given.
    """
    from moodbridge.evaluate import plot_joint_space, retrieval_metrics
    from moodbridge.library import Library
    from moodbridge.search.query import require_space, space_info

    notes: list[str] = []
    with Library.open(lib) as library:
        require_space(library, space)
        info = space_info(library, space)
        label = label or info.get("label") or "quadrant"
        sets = _eval_sets(library, space, info, label, use_all, notes)
    warns = _one_modality_classes(sets)
    if use_all:
        warns.insert(0, "--all: the items the space was trained on are included, so the scores are optimistic")
    a, b = sets
    results = {}
    retrieval = {}
    for q, g in ((a, b), (b, a), (a, a), (b, b)):
        name = f"{q} -> {g}"
        res = retrieval_metrics(sets[q]["embeddings"], sets[q]["labels"], sets[g]["embeddings"], sets[g]["labels"],
                                exclude_self=q == g)
        results[name] = res
        retrieval[name] = {"query": q, "gallery": g, "macro": res.macro, "micro": res.micro,
                           "per_class": res.per_class}
    probe = _probe(sets, seed, notes)
    written = None
    if plot is not None:
        which = "all labelled" if use_all else "held-out"
        written = plot_joint_space({m: s["embeddings"] for m, s in sets.items()},
                                   {m: s["labels"] for m, s in sets.items()}, plot, seed=seed,
                                   title=f"joint space {space!r}, {which} items, t-SNE ({label})")
    report = {
        "space": space,
        "modalities": [a, b],
        "label": label,
        "all_items": use_all,
        "items": {m: len(s["items"]) for m, s in sets.items()},
        "item_ids": {m: [int(it.id) for it in s["items"]] for m, s in sets.items()},
        "retrieval": retrieval,
        "probe": probe,
        "plot": str(written) if written else None,
        "warnings": warns,
        "notes": notes,
    }
    for line in warns:
        typer.echo(f"warning: {line}", err=True)
    for line in notes:
        typer.echo(f"note: {line}", err=True)
    if as_json:
        typer.echo(json.dumps(report))
    else:
        _print_eval(report, results, sets)


def register(app: typer.Typer) -> None:
    """Add ``search`` and the ``align`` sub-app to the ``moodbridge`` app."""
    app.command("search")(search_cmd)
    app.add_typer(align_app, name="align")
