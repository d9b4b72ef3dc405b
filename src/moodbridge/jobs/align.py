"""Jobs ``align train`` and ``align eval``: Emo-CLIM joint spaces of a library, trained and evaluated.

:func:`train_space` fits a joint space between two modalities of a library
on a label (a label column, or ``quadrant``: the quadrant of each item's
emotion by the one rule of :mod:`moodbridge.library.emotion`), holding out a
share of each label for evaluation, saves it under ``LIB/spaces/NAME`` and
indexes both modalities for search.  :func:`evaluate_space` scores a saved
space on its held-out items like Emo-CLIM's evaluation (Sec. 5.1 Tables 1 and
5, Sec. 5.2, Fig. 2): retrieval P@1/P@5/MRR both ways and within each
modality, a linear probe of the music embeddings against the raw features,
and a t-SNE plot.
"""
from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from moodbridge.errors import InvalidValueError, LibraryError
from moodbridge.fileio import write_json_atomic
from moodbridge.jobs.base import JobResult, LibraryLike, using_library
from moodbridge.library.emotion import item_emotions
from moodbridge.library.spaces import (
    DEFAULT_FEATURES,
    SPACE_INFO_FILE,
    check_feature_dim,
    library_features,
    parse_space,
    require_space,
    space_dir,
    space_heads,
    space_info,
)
from moodbridge.media.spec import parse_modality

__all__ = ["PROBE_MODALITIES", "AlignEvalResult", "AlignTrainResult", "evaluate_space", "train_space"]

#: library modalities whose embeddings the linear probe scores (Emo-CLIM probes its music embeddings)
PROBE_MODALITIES = ("audio", "midi")


@dataclass
class AlignTrainResult(JobResult):
    """What :func:`train_space` trained and saved."""

    space: str = ""
    modalities: tuple[str, str] = ("", "")
    label: str = ""
    train_ids: dict[str, list[int]] = field(default_factory=dict)
    held_out_ids: dict[str, list[int]] = field(default_factory=dict)
    indexed: dict[str, int] = field(default_factory=dict)
    epochs: int = 0
    seconds: float = 0.0
    holdout: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """Plain data for ``--json``."""
        return {"space": self.space, "modalities": list(self.modalities), "label": self.label,
                "items": {m: len(v) for m, v in self.train_ids.items()},
                "held_out": {m: len(v) for m, v in self.held_out_ids.items()}, "holdout": self.holdout,
                "indexed": self.indexed, "epochs": self.epochs, "seconds": self.seconds,
                "files": {k: str(v) for k, v in self.files.items()}, "notes": self.notes}


@dataclass
class AlignEvalResult(JobResult):
    """Scores of a joint space: :attr:`report` is JSON-able; :attr:`results` keeps the metric objects."""

    report: dict[str, Any] = field(default_factory=dict)
    results: dict[str, Any] = field(default_factory=dict)
    class_counts: dict[str, dict[str, int]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def per_class_table(self, metric: str) -> Any:
        """Per-class ``metric`` of every direction plus the item count per modality (Emo-CLIM Table 5)."""
        from moodbridge.evaluate import retrieval_table

        table = retrieval_table(self.results, metric=metric)
        for m, counts in self.class_counts.items():
            table[f"# {m}"] = [counts.get(c, 0) if c != "macro" else sum(counts.values()) for c in table.index]
        return table


# ----------------------------------------------------------------------------- labels
class _ConcatFeatures:
    """A library view whose ``feature_matrix`` accepts ``"enc-a+enc-b"`` (features concatenated)."""

    def __init__(self, library: Any) -> None:
        self._library = library
        self.root = library.root

    def items(self, *, modality: str | None = None) -> list[Any]:
        return self._library.items(modality=modality)

    def feature_matrix(self, items: Sequence[Any], encoder: str) -> np.ndarray:
        return library_features(self._library, items, encoder)


def _labels(library: Any, items: Sequence[Any], label: str) -> list[Any]:
    """Label of each item (``None`` when missing): a label column, or the quadrant of the item's emotion."""
    if label == "quadrant":
        return [e.quadrant.label if e is not None else None for e in item_emotions(library, items)]
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
        what = "an emotion" if label == "quadrant" else f"a {label!r} label"
        raise LibraryError(f"none of the {len(items)} {modality} item(s) has {what}")
    if len(keep) < len(items):
        notes.append(f"{len(items) - len(keep)} {modality} item(s) without a label left out")
    return [items[i] for i in keep], np.array([str(y[i]) for i in keep], dtype=object)


# ----------------------------------------------------------------------------- train
def train_space(
    library: LibraryLike,
    *,
    modalities: tuple[str, str] = ("image", "audio"),
    label: str = "quadrant",
    space: str = "default",
    epochs: int = 15,
    seed: int = 0,
    holdout: float = 0.25,
    index_shards: int | None = None,
) -> AlignTrainResult:
    """Train a joint emotion space between two modalities of a library and index both for search.

    Parameters
    ----------
    library
        An open library or its folder.
    modalities
        Two different modalities (``image``, ``music``/``audio``, ``midi``, ``text``).
    label
        Label column (e.g. ``mood``), or ``quadrant`` for the quadrant of each item's emotion.
    space
        Name of the space (saved under ``LIB/spaces/NAME``; ``joint:NAME`` also accepted).
    epochs
        Training epochs at most.
    seed
        Random seed (split and training).
    holdout
        Share of each label's items held out of training for :func:`evaluate_space`
        (labels with 3+ items; 0: none).
    index_shards
        Shards of each modality's search index (:mod:`moodbridge.search.library_index`):
        ``None`` automatic (sharded above 2 GiB of vectors), 1: one index.

    Raises
    ------
    InvalidValueError
        Bad modalities, holdout or name, or too few items per label after the hold-out.
    LibraryError
        A modality the library lacks, or no item with the label.
    """
    from moodbridge.align import AlignConfig, train_joint_space
    from moodbridge.align.samplers import stratified_split
    from moodbridge.search import index_library

    ma, mb = (parse_modality(m, what=flag) for m, flag in zip(modalities, ("--from", "--to")))
    if ma == mb:
        raise InvalidValueError(f"--from and --to must be different modalities, both are {ma}")
    if not 0.0 <= holdout < 1.0:
        raise InvalidValueError(f"--holdout must be a fraction in [0, 1), got {holdout!r}")
    name = parse_space(space, joint_only=True)
    start = time.perf_counter()
    rng = np.random.default_rng(seed)
    result = AlignTrainResult(space=name, modalities=(ma, mb), label=label, holdout=holdout)
    with using_library(library) as lib:
        feats, labs = [], []
        for m in (ma, mb):
            items, y = _labelled(lib, m, label, result.notes)
            tr, held = stratified_split(y, holdout, rng, min_held=1, min_train=2)  # the trainer needs 2 per label
            result.train_ids[m] = [int(items[i].id) for i in tr]
            result.held_out_ids[m] = [int(items[i].id) for i in held]
            feats.append(library_features(lib, [items[i] for i in tr], DEFAULT_FEATURES[m]))
            labs.append(y[tr])
        config = AlignConfig(modalities=(ma, mb), labels="categorical", max_epochs=epochs, seed=seed,
                             progress=False, device="cpu")
        try:
            joint, history = train_joint_space(feats[0], labs[0], feats[1], labs[1], config=config)
        except InvalidValueError as exc:
            if holdout <= 0:
                raise
            raise InvalidValueError(f"{exc} (after holding out {len(result.held_out_ids[ma])} {ma} and"
                                    f" {len(result.held_out_ids[mb])} {mb} item(s); try a smaller --holdout)") from None
        folder = space_dir(lib, name)
        joint.save(folder)
        info = {
            "space": name,
            "modalities": [ma, mb],
            "features": {ma: DEFAULT_FEATURES[ma], mb: DEFAULT_FEATURES[mb]},
            "label": label,
            "items": {ma: len(result.train_ids[ma]), mb: len(result.train_ids[mb])},
            "holdout": {"fraction": holdout, "seed": seed, "train_ids": result.train_ids,
                        "held_out_ids": result.held_out_ids},
            "trained_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        write_json_atomic(folder / SPACE_INFO_FILE, info, what="space description")
        view = _ConcatFeatures(lib)
        for m in (ma, mb):
            index = index_library(view, joint, space=name, modality=m, encoder=DEFAULT_FEATURES[m],
                                  shards=index_shards)
            result.indexed[m] = len(index)
    result.files["space"] = folder
    result.epochs = len(history.to_dict().get("epochs", []) or [])
    result.seconds = round(time.perf_counter() - start, 1)
    return result


# ----------------------------------------------------------------------------- evaluate
def _eval_sets(library: Any, space: str, info: dict[str, Any], label: str, use_all: bool,
               notes: list[str]) -> dict[str, dict[str, Any]]:
    """Per modality of the space: the evaluated items, their labels, raw features and joint embeddings."""
    from moodbridge.align.space import JointSpace

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
        check_feature_dim(space, m, s["spec"], int(heads[m]["in_dim"]), x.shape[1], "library")
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


def evaluate_space(
    library: LibraryLike,
    *,
    space: str = "default",
    label: str | None = None,
    plot: str | Path | None = None,
    use_all: bool = False,
    seed: int = 0,
) -> AlignEvalResult:
    """Evaluate a joint space: retrieval both ways and within each modality, a linear probe, a plot.

    Parameters
    ----------
    library
        An open library or its folder.
    space
        Name of the joint space (``LIB/spaces/NAME``; ``joint:NAME`` also accepted).
    label
        Label column, or ``quadrant``; default: the space's training label.
    plot
        Write a t-SNE map of the joint space to this PNG.
    use_all
        Evaluate on every labelled item, training items included (optimistic).
    seed
        Seed of the probe's folds and of the t-SNE.

    Raises
    ------
    LibraryError
        No such space, no held-out items, too few items, or a dimension mismatch.
    """
    from moodbridge.evaluate import plot_joint_space
    from moodbridge.evaluate.retrieval import embedding_directions

    name = parse_space(space, joint_only=True)
    notes: list[str] = []
    with using_library(library) as lib:
        require_space(lib, name)
        info = space_info(lib, name)
        label = label or info.get("label") or "quadrant"
        sets = _eval_sets(lib, name, info, label, use_all, notes)
    warns = _one_modality_classes(sets)
    if use_all:
        warns.insert(0, "--all: the items the space was trained on are included, so the scores are optimistic")
    a, b = sets
    results = embedding_directions({m: s["embeddings"] for m, s in sets.items()},
                                   {m: s["labels"] for m, s in sets.items()})
    retrieval = {}
    for direction, res in results.items():
        q, g = direction.split(" -> ")
        retrieval[direction] = {"query": q, "gallery": g, "macro": res.macro, "micro": res.micro,
                                "per_class": res.per_class}
    probe = _probe(sets, seed, notes)
    out = AlignEvalResult(results=results, warnings=warns, notes=notes)
    if plot is not None:
        which = "all labelled" if use_all else "held-out"
        out.files["plot"] = plot_joint_space({m: s["embeddings"] for m, s in sets.items()},
                                             {m: s["labels"] for m, s in sets.items()}, plot, seed=seed,
                                             title=f"joint space {name!r}, {which} items, t-SNE ({label})")
    out.class_counts = {m: {str(c): int(n) for c, n in zip(*np.unique(s["labels"], return_counts=True))}
                        for m, s in sets.items()}
    out.report = {
        "space": name,
        "modalities": [a, b],
        "label": label,
        "all_items": use_all,
        "items": {m: len(s["items"]) for m, s in sets.items()},
        "item_ids": {m: [int(it.id) for it in s["items"]] for m, s in sets.items()},
        "retrieval": retrieval,
        "probe": probe,
        "plot": str(out.files["plot"]) if out.files.get("plot") else None,
        "warnings": warns,
        "notes": notes,
    }
    return out
