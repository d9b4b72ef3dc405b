"""Commands ``recommend train``, ``recommend eval`` and ``recommend query``: EMID's EMI-Adapters (jobs :mod:`moodbridge.jobs.recommend`)."""
from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from moodbridge.cli._common import JsonOpt, LibArg, QuietOpt, echo_json, friendly_errors, stderr

__all__ = ["recommend_app", "register"]

recommend_app = typer.Typer(no_args_is_help=True, help="EMID's EMI-Adapter recommenders: clips as users, images as "
                                                       "items, trained on a pairing.")


class ModelChoice(str, Enum):
    """``--model``: ncf = NeuMF (GMF + MLP), bmf = biased MF, svdpp = SVD++, mf = BPR-MF (the tuned baseline)."""

    ncf = "ncf"
    bmf = "bmf"
    svdpp = "svdpp"
    mf = "mf"


class Protocol(str, Enum):
    full = "full"
    sampled = "sampled"
    both = "both"


def _metric_line(label: str, m: dict, k: int = 10) -> str:
    return (f"  {label:<22} HR@{k} {m[f'hr@{k}']:.4f}  NDCG@{k} {m[f'ndcg@{k}']:.4f}  "
            f"({m['n_users']} clips, {m['n_candidates']} candidates each)")


def _print_metrics(metrics: dict, model_label: str) -> None:
    for protocol, title in (("full", "full ranking (headline)"), ("sampled", "sampled: 1 held-out + 99 negatives")):
        if protocol not in metrics:
            continue
        typer.echo(f"{title}:")
        typer.echo(_metric_line(model_label, metrics[protocol]))
        for base in ("popularity", "random"):
            if f"{base}_{protocol}" in metrics:
                typer.echo(_metric_line(base, metrics[f"{base}_{protocol}"]))


@recommend_app.command("train")
@friendly_errors
def recommend_train(
    pairs: Annotated[Path, typer.Option("--pairs", help="Output folder of 'moodbridge pair' (or its pairs.csv).")],
    model: Annotated[ModelChoice, typer.Option("--model", "-m", help="ncf (NeuMF), bmf, svdpp or mf (BPR-MF).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the model, its split, negatives and training curves.")],
    content: Annotated[bool, typer.Option("--content", help="Content-aware variant: factors plus a tower over each item's encoder features and VA, so new clips and images are scored without retraining.")] = False,
    library: Annotated[Optional[Path], typer.Option("--library", help="The library the pairs came from (default: the one their dataset.json records).")] = None,
    epochs: Annotated[Optional[int], typer.Option(min=0, help="Training epochs (default 50, as EMID).")] = None,
    seed: Annotated[int, typer.Option(help="Seeds the split, the negatives, the initialisation and the training.")] = 0,
    lr: Annotated[Optional[float], typer.Option(help="Adam learning rate (default: the model's tuned one).")] = None,
    weight_decay: Annotated[Optional[float], typer.Option(help="L2 weight decay (default: the model's tuned one).")] = None,
    dim: Annotated[Optional[int], typer.Option(min=1, help="Factors per vector (ncf: GMF factors).")] = None,
    id_dropout: Annotated[Optional[float], typer.Option(help="--content: share of rows per batch trained without their factors (1: towers only).")] = None,
    eval_every: Annotated[int, typer.Option(min=1, help="Evaluate on the held-out pairs every N epochs, for the curves.")] = 1,
    device: Annotated[str, typer.Option(help="auto (a GPU when there is one), cpu or cuda.")] = "auto",
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Train a recommender on a pairing, evaluate it on held-out pairs and save it."""
    from moodbridge.jobs.recommend import train_recommender

    result = train_recommender(pairs, out, model=model.value, content=content, library=library, epochs=epochs,
                               seed=seed, lr=lr, weight_decay=weight_decay, dim=dim, id_dropout=id_dropout,
                               eval_every=eval_every, device=device, progress=not quiet and not as_json)
    if as_json:
        echo_json(result.to_dict())
        return
    for note in result.notes:
        stderr(f"note: {note}")
    label = f"{result.model}{' --content' if result.content else ''}"
    typer.echo(f"trained {label} on {result.n_pairs} pairs of {result.n_clips} clips x {result.n_images} images "
               f"({result.n_paired_images} of them paired) from {result.library}: {result.epochs} epochs in "
               f"{result.seconds:.1f}s")
    typer.echo(f"held out one pair of each of {result.n_test} clips; {result.n_skipped} single-pair clip(s) skipped")
    _print_metrics(result.metrics, label)
    typer.echo(f"saved {result.folder} (training curves: {result.files['curves'].name})")


@recommend_app.command("eval")
@friendly_errors
def recommend_eval(
    model: Annotated[Path, typer.Option("--model", "-m", help="A model folder from 'recommend train'.")],
    protocol: Annotated[Protocol, typer.Option(help="full: rank among every image (headline); sampled: among 99 fixed negatives (EMID's); both.")] = Protocol.both,
    library: Annotated[Optional[Path], typer.Option("--library", help="Content models: the library to read features from (default: the one it was trained on).")] = None,
    top: Annotated[int, typer.Option("--top", "-n", min=1, help="The cut-off K of HR@K and NDCG@K.")] = 10,
    as_json: JsonOpt = False,
) -> None:
    """Evaluate a saved recommender on its own held-out pairs, beside popularity and random."""
    from moodbridge.jobs.recommend import evaluate_recommender

    result = evaluate_recommender(model, protocol=protocol.value, library=library, k=top)
    if as_json:
        echo_json(result.to_dict())
        return
    for note in result.notes:
        stderr(f"note: {note}")
    label = f"{result.model}{' --content' if result.content else ''}"
    typer.echo(f"{label} at {result.folder}: {result.n_test} held-out pairs of {result.n_clips} clips x "
               f"{result.n_images} images; {result.n_skipped} single-pair clip(s) skipped")
    for protocol_name, title in (("full", "full ranking (headline)"), ("sampled", "sampled: 1 held-out + 99 negatives")):
        if protocol_name not in result.metrics:
            continue
        typer.echo(f"{title}:")
        for prefix, name in (("", label), ("popularity_", "popularity"), ("random_", "random")):
            m = result.metrics.get(f"{prefix}{protocol_name}")
            if m:
                typer.echo(_metric_line(name, m, top))


@recommend_app.command("query")
@friendly_errors
def recommend_query(
    lib: LibArg,
    item: Annotated[str, typer.Argument(help="A library item (id, path, file name or hash prefix): a clip gives images, an image gives clips.")],
    model: Annotated[Path, typer.Option("--model", "-m", help="A model folder from 'recommend train'.")],
    top: Annotated[int, typer.Option("--top", "-n", help="How many items.")] = 10,
    include_seen: Annotated[bool, typer.Option("--include-seen", help="Keep the items it was paired with in training.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Recommend images for a clip of a library, or clips for one of its images."""
    from moodbridge.jobs.recommend import query_recommender

    result = query_recommender(lib, item, model_dir=model, top=top, include_seen=include_seen)
    if as_json:
        echo_json(result.to_dict())
        return
    label = f"{result.model}{' --content' if result.content else ''}"
    seen = "" if result.query_seen else ", not in the training data"
    typer.echo(f"query #{result.query_id} {result.query} ({result.query_modality}{seen}); {label} recommends "
               f"{'images' if result.target == 'image' else 'clips'}:")
    for note in result.notes:
        typer.echo(f"note: {note}")
    for h in result.hits:
        emo = (f"valence {h.valence:+.2f}, arousal {h.arousal:+.2f}, {h.quadrant}" if h.valence is not None
               else "no stored emotion")
        typer.echo(f"{h.rank:>3}. {h.score:+.3f}  #{h.id} {h.path}  ({emo}{'' if h.seen else '; new'})")


def register(app: typer.Typer) -> None:
    """Add the ``recommend`` group to ``app``."""
    app.add_typer(recommend_app, name="recommend")
