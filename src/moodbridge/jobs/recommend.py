"""Jobs ``recommend train``, ``recommend eval`` and ``recommend query``: EMID's EMI-Adapter recommenders.

:func:`train_recommender` reads a ``pair`` output (``pairs.csv`` and the
``dataset.json`` that names its library), ranks against the pairing's whole
image catalogue (the library's images less those the EMID filters dropped),
cuts a seeded leave-one-out split per clip and a fixed sample of 99
negatives, trains one model (``ncf``, ``bmf``, ``svdpp`` or ``mf``; with
``content``, the content-aware variant, whose inputs — encoder features and
emotion — come from the library), evaluates it on the held-out pairs (full
ranking and sampled-99, beside popularity and random) and saves the model
folder with its split, negatives and training-curve plot.
:func:`evaluate_recommender` re-scores a saved folder on its own split.
:func:`query_recommender` ranks a library's images for one of its clips, or
its clips for one of its images; an item the model was not trained on is
scored by a content model from its features, and refused by an ID model.
The work itself is :mod:`moodbridge.recommend`.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from moodbridge.errors import InvalidValueError, LibraryError
from moodbridge.jobs.base import JobResult, LibraryLike, using_library

__all__ = ["CURVES_FILE", "RecommendEvalResult", "RecommendHit", "RecommendQueryResult", "RecommendTrainResult",
           "evaluate_recommender", "query_recommender", "train_recommender"]

CURVES_FILE = "training-curves.png"
PROTOCOLS = ("full", "sampled", "both")


@dataclass
class RecommendTrainResult(JobResult):
    """What :func:`train_recommender` trained, on what, and how well it does on the held-out pairs."""

    model: str = ""
    content: bool = False
    folder: Path | None = None
    library: str = ""
    n_clips: int = 0
    n_images: int = 0
    n_paired_images: int = 0
    n_pairs: int = 0
    n_duplicates: int = 0
    n_test: int = 0
    n_skipped: int = 0
    epochs: int = 0
    seconds: float = 0.0
    settings: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for ``--json``."""
        return {"model": self.model, "content": self.content, "folder": str(self.folder), "library": self.library,
                "clips": self.n_clips, "images": self.n_images, "paired_images": self.n_paired_images,
                "pairs": self.n_pairs, "duplicates": self.n_duplicates, "evaluated_clips": self.n_test,
                "skipped_clips": self.n_skipped, "epochs": self.epochs, "seconds": self.seconds,
                "settings": self.settings, "metrics": self.metrics,
                "files": {k: str(v) for k, v in self.files.items()}, "notes": self.notes}


@dataclass
class RecommendEvalResult(JobResult):
    """HR@K / NDCG@K of a saved model (and the baselines) on its held-out pairs."""

    model: str = ""
    content: bool = False
    folder: Path | None = None
    n_clips: int = 0
    n_images: int = 0
    n_test: int = 0
    n_skipped: int = 0
    metrics: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "content": self.content, "folder": str(self.folder), "clips": self.n_clips,
                "images": self.n_images, "evaluated_clips": self.n_test, "skipped_clips": self.n_skipped,
                "metrics": self.metrics, "notes": self.notes}


@dataclass
class RecommendHit:
    """One recommended item."""

    rank: int
    id: int
    path: str
    score: float
    valence: float | None = None
    arousal: float | None = None
    quadrant: str | None = None
    seen: bool = True


@dataclass
class RecommendQueryResult(JobResult):
    """The items a model recommends for one library item."""

    query: str = ""
    query_id: int = 0
    query_modality: str = ""
    target: str = ""
    model: str = ""
    content: bool = False
    query_seen: bool = True
    hits: list[RecommendHit] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        return {"query": self.query, "query_id": self.query_id, "query_modality": self.query_modality,
                "target": self.target, "model": self.model, "content": self.content, "query_seen": self.query_seen,
                "hits": [asdict(h) for h in self.hits], "notes": self.notes}


# ----------------------------------------------------------------------------- train
def train_recommender(
    pairs: str | Path,
    out: str | Path,
    *,
    model: str = "svdpp",
    content: bool = False,
    library: LibraryLike | None = None,
    epochs: int | None = None,
    seed: int = 0,
    lr: float | None = None,
    weight_decay: float | None = None,
    dim: int | None = None,
    id_dropout: float | None = None,
    batch_size: int = 1024,
    n_negatives: int = 4,
    eval_every: int = 1,
    device: str = "auto",
    progress: bool = True,
) -> RecommendTrainResult:
    """Train an EMI-Adapter recommender on a ``pair`` output and save it in ``out``.

    Parameters
    ----------
    pairs
        The output folder of ``moodbridge pair`` (or its ``pairs.csv``).
    out
        The model folder (created).
    model
        ``ncf``, ``bmf``, ``svdpp`` or ``mf``.
    content
        The content-aware variant (features + VA from the library; scores unseen items).
    library
        The library the pairs came from; default: the one ``dataset.json`` records.
    epochs, lr, weight_decay
        Training settings; default :mod:`moodbridge.recommend.defaults`.
    dim, id_dropout
        Factor width (``dim`` of MF / BMF / SVD++, ``gmf_dim`` of NCF) and the content
        variant's factor dropout; default the model's own.
    seed
        Seeds the split, the negatives, the initialisation and the training.
    batch_size, n_negatives, eval_every, device, progress
        As :func:`moodbridge.recommend.train.train` (curves are evaluated every ``eval_every`` epochs).

    Raises
    ------
    InvalidValueError
        A bad pairs file (unknown or missing columns, empty, no clip with two pairs),
        an unknown model, pairs that name images the library does not have, bad settings.
    LibraryError
        No library known, or a content model whose items lack features or emotion.
    """
    from moodbridge.fileio import output_folder
    from moodbridge.recommend import (
        BASELINES,
        evaluate,
        evaluation_negatives,
        fit,
        interactions_from_pairs,
        leave_one_out,
        plot_training_curves,
        save_recommender,
    )
    from moodbridge.recommend.adapter import FEATURES, library_side, pairing_catalogue, pairs_source
    from moodbridge.recommend.defaults import DEFAULT_EPOCHS, training_defaults
    from moodbridge.recommend.persist import MANIFEST, save_evaluation
    from moodbridge.recommend.sampling import EVAL_NEGATIVES

    settings = training_defaults(model, content=content)
    default_dropout = settings.pop("id_dropout", None)
    id_dropout = default_dropout if id_dropout is None else id_dropout
    settings.update({k: v for k, v in (("lr", lr), ("weight_decay", weight_decay)) if v is not None})
    epochs = DEFAULT_EPOCHS if epochs is None else int(epochs)
    csv, dataset = pairs_source(pairs)
    if library is None:
        recorded = dataset.get("library")
        if not recorded:
            raise LibraryError(f"{csv}: no dataset.json beside it names the library these pairs came from; "
                               "give the library (--library LIB)")
        library = recorded
    started = time.perf_counter()
    notes: list[str] = []
    with using_library(library) as lib:
        catalogue = pairing_catalogue(lib, dataset)
        try:
            inter = interactions_from_pairs(csv, catalogue=catalogue)
        except InvalidValueError as exc:
            if "not in the catalogue" not in str(exc):
                raise
            raise InvalidValueError(f"{exc} (the images of the library {lib.root} that its pairing kept): the pairs "
                                    "come from another library, or the library changed since 'pair'; give the "
                                    "right one with --library or pair again") from None
        clips_here = {it.path for it in lib.items(modality="audio")}
        absent = [c for c in inter.users if c not in clips_here]
        if absent:
            raise InvalidValueError(f"{csv}: {len(absent)} clip(s) of the pairs are not in the library {lib.root} "
                                    f"(first: {absent[0]}): the pairs come from another library; give it with "
                                    "--library")
        user_side = item_side = None
        if content:
            by_path = {it.path: it for it in lib.items()}
            user_side, _ = library_side(lib, [by_path[p] for p in inter.users])
            item_side, _ = library_side(lib, [by_path[p] for p in inter.items])
        split = leave_one_out(inter, seed=seed)
        if split.n_skipped:
            notes.append(f"{split.n_skipped} clip(s) with a single pair cannot be left out: skipped for evaluation "
                         "and counted (their pair stays in training)")
        if inter.n_duplicates:
            notes.append(f"{inter.n_duplicates} duplicate pair row(s) were counted once")
        try:
            negatives = evaluation_negatives(split, n=EVAL_NEGATIVES, seed=seed)
        except InvalidValueError as exc:
            negatives = None
            notes.append(f"no sampled-{EVAL_NEGATIVES} protocol: {exc}")
        folder = output_folder(out, what="recommender model")
        (folder / MANIFEST).unlink(missing_ok=True)  # an interrupted run leaves no stale complete-looking folder
        options: dict[str, Any] = {"content": ({"id_dropout": id_dropout} if id_dropout is not None else True)
                                   if content else None}
        if dim is not None:
            options["gmf_dim" if model == "ncf" else "dim"] = int(dim)
        fitted = fit(model, split, seed=seed, model_options=options, user_side=user_side, item_side=item_side,
                     epochs=epochs, batch_size=batch_size, n_negatives=n_negatives, device=device,
                     monitor=split, negatives=negatives, eval_every=eval_every, progress=progress, **settings)
        metrics = {p: r.as_dict() for p, r in evaluate(fitted.model, split, negatives=negatives).items()}
        for name in BASELINES:
            base = evaluate(BASELINES[name].build(split.train, seed=seed), split, negatives=negatives)
            metrics.update({f"{name}_{p}": r.as_dict() for p, r in base.items()})
        fitted.metrics = metrics
        fitted.info = {"library": str(lib.root), "library_fingerprint": dataset.get("library_fingerprint"),
                       "pairs": str(csv.resolve()), "pairing": dataset.get("parameters", {}),
                       "catalogue": "the pairing's images (library images less those the EMID filters dropped)",
                       "features": dict(FEATURES) if content else None,
                       "training": {**fitted.history.settings} if fitted.history else {},
                       "split_seed": seed, "n_skipped": split.n_skipped}
        files = dict(save_evaluation(folder, split, negatives))
        label = f"{model}{' --content' if content else ''}"
        files["curves"] = plot_training_curves({label: fitted.history}, folder / CURVES_FILE,
                                               title=f"{label} on {inter.n_users} clips x {inter.n_items} images "
                                                     "(curves on the held-out pairs; solid: full, dashed: sampled)")
        files["model"] = save_recommender(fitted, folder)
    return RecommendTrainResult(
        files=files, notes=notes, model=model, content=content, folder=folder, library=str(lib.root),
        n_clips=inter.n_users, n_images=inter.n_items, n_paired_images=int((inter.item_counts() > 0).sum()),
        n_pairs=inter.n_pairs, n_duplicates=inter.n_duplicates, n_test=split.n_test, n_skipped=split.n_skipped,
        epochs=epochs, seconds=time.perf_counter() - started,
        settings={**settings, "batch_size": batch_size, "n_negatives": n_negatives, "seed": seed,
                  **{k: v for k, v in options.items() if k != "content"},
                  **({"id_dropout": fitted.model.content.id_dropout} if fitted.model.content else {})},
        metrics=metrics)


# ----------------------------------------------------------------------------- eval
def evaluate_recommender(
    model_dir: str | Path,
    *,
    protocol: str = "both",
    library: LibraryLike | None = None,
    k: int = 10,
    ties: str = "expected",
) -> RecommendEvalResult:
    """Score a saved model on its own held-out pairs (``split.json`` in its folder).

    Parameters
    ----------
    model_dir
        A folder written by :func:`train_recommender`.
    protocol
        ``full`` (the headline: every image of the catalogue), ``sampled`` (1 + 99
        fixed negatives, EMID's) or ``both``.
    library
        For a content model, the library to read features from; default the one it was trained on.
    k, ties
        Cut-off and tie policy (:mod:`moodbridge.recommend.metrics`).

    Raises
    ------
    InvalidValueError
        Not a model folder, an altered one, an unknown protocol, or (content models) a
        library that is not the one the model was trained on.
    """
    from moodbridge.recommend import BASELINES, evaluate_full, evaluate_sampled, read_manifest
    from moodbridge.recommend.persist import load_evaluation, load_recommender

    if protocol not in PROTOCOLS:
        raise InvalidValueError(f"unknown protocol {protocol!r}; known: {', '.join(PROTOCOLS)}")
    folder = Path(model_dir)
    manifest = read_manifest(folder)
    split, negatives = load_evaluation(folder)
    notes: list[str] = []
    if manifest.get("uses_content"):
        from moodbridge.recommend.adapter import load_adapter

        lib_ref = library or (manifest.get("info") or {}).get("library")
        if not lib_ref:
            raise LibraryError(f"{folder}: a content model reads features from its library; give it (--library LIB)")
        with using_library(lib_ref) as lib:
            adapter = load_adapter(lib, folder)
            fitted = adapter.fitted
            notes += adapter.notes
    else:
        fitted = load_recommender(folder)
    wanted = ("full", "sampled") if protocol == "both" else (protocol,)
    if "sampled" in wanted and negatives is None:
        notes.append("the model folder has no evaluation negatives (catalogue too small): no sampled protocol")
        wanted = tuple(p for p in wanted if p != "sampled")
    metrics: dict[str, dict[str, Any]] = {}
    entries = [("", fitted.model)] + [(f"{n}_", BASELINES[n].build(split.train, seed=split.seed)) for n in BASELINES]
    for prefix, model in entries:
        if "full" in wanted:
            metrics[f"{prefix}full"] = evaluate_full(model, split, k=k, ties=ties).as_dict()
        if "sampled" in wanted and negatives is not None:
            metrics[f"{prefix}sampled"] = evaluate_sampled(model, split, negatives, k=k, ties=ties).as_dict()
    inter = split.interactions
    return RecommendEvalResult(notes=notes, model=manifest["model"], content=bool(manifest.get("uses_content")),
                               folder=folder, n_clips=inter.n_users, n_images=inter.n_items, n_test=split.n_test,
                               n_skipped=split.n_skipped, metrics=metrics)


# ----------------------------------------------------------------------------- query
def query_recommender(
    library: LibraryLike,
    item: str | int,
    *,
    model_dir: str | Path,
    top: int = 10,
    include_seen: bool = False,
) -> RecommendQueryResult:
    """The ``top`` images for a clip of the library, or the ``top`` clips for one of its images.

    Parameters
    ----------
    library
        An open library or its folder.
    item
        A library item (id, path, file name or content-hash prefix), audio or image.
    model_dir
        A model folder from :func:`train_recommender`.
    top
        How many items.
    include_seen
        Keep the items the query was paired with in training (left out by default).

    Raises
    ------
    InvalidValueError
        ``top`` not positive, a model folder from another library, or an item the
        (ID) model was not trained on (the message says to use a content model).
    MoodbridgeError
        No such item, or an item that is neither a clip nor an image.
    """
    from moodbridge.library.emotion import item_emotions
    from moodbridge.recommend.adapter import load_adapter

    if isinstance(top, bool) or not isinstance(top, int) or top < 1:
        raise InvalidValueError(f"top must be a positive integer, got {top!r}")
    with using_library(library) as lib:
        query = lib.item(item)
        if query.modality not in ("audio", "image"):
            raise InvalidValueError(f"{query.path}: a recommender pairs music clips with images; this item is "
                                    f"{query.modality}")
        adapter = load_adapter(lib, model_dir)
        fitted, notes = adapter.fitted, list(adapter.notes)
        which = "clip" if query.modality == "audio" else "image"
        seen = fitted.is_seen(query.path, which)
        if not seen and not adapter.content:
            raise InvalidValueError(
                f"{query.path} was not in the training data of the {adapter.describe()}: an ID model has no "
                f"vector for a {which} it was not trained on; train with --content to score new clips and images")
        if not seen:
            if query.path not in (adapter.clips if which == "clip" else adapter.images):
                raise LibraryError(f"{query.path}: no stored emotion, so the content model cannot describe it")
            notes.append(f"{query.path} was not in the training data: scored from its features and emotion")
        targets = adapter.scorable("image" if which == "clip" else "clip")
        candidates = [t.path for t in targets]
        if which == "clip":
            ranked = fitted.recommend(query.path, k=top, exclude_seen=not include_seen, candidates=candidates)
        else:
            ranked = fitted.recommend_clips(query.path, k=top, exclude_seen=not include_seen, candidates=candidates)
        by_path = {t.path: t for t in targets}
        chosen = [by_path[p] for p, _ in ranked]
        emotions = item_emotions(lib, chosen)
        hits = []
        for rank, ((path, score), it, emo) in enumerate(zip(ranked, chosen, emotions), 1):
            hits.append(RecommendHit(rank, it.id, path, score, emo.valence if emo else None,
                                     emo.arousal if emo else None, emo.quadrant.label if emo else None,
                                     fitted.is_seen(path, "image" if which == "clip" else "clip")))
        if not include_seen:
            paired = fitted.seen_images(query.path) if which == "clip" else fitted.seen_clips(query.path)
            if paired:
                notes.append(f"{len(paired)} {'image' if which == 'clip' else 'clip'}(s) paired with it in "
                             "training are left out (--include-seen keeps them)")
    return RecommendQueryResult(notes=notes, query=query.path, query_id=query.id, query_modality=query.modality,
                                target="image" if which == "clip" else "audio", model=adapter.name,
                                content=adapter.content, query_seen=seen, hits=hits)
