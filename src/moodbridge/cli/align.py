"""Commands ``align train`` and ``align eval``: Emo-CLIM joint spaces (jobs :mod:`moodbridge.jobs.align`)."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from moodbridge.cli._common import JsonOpt, LibArg, ModalityChoice, QuietOpt, echo_json, friendly_errors, stderr
from moodbridge.jobs.align import AlignEvalResult

__all__ = ["align_app", "register"]

align_app = typer.Typer(no_args_is_help=True, help="Train joint emotion spaces for cross-modal search.")


@align_app.command("train")
@friendly_errors
def align_train(
    lib: LibArg,
    from_: Annotated[ModalityChoice, typer.Option("--from", help="First modality.")] = ModalityChoice.image,
    to: Annotated[ModalityChoice, typer.Option("--to", help="Second modality.")] = ModalityChoice.audio,
    label: Annotated[str, typer.Option(help="Label column (e.g. mood), or 'quadrant' for the quadrant of each item's emotion.")] = "quadrant",
    space: Annotated[str, typer.Option(help="Name of the space (NAME or joint:NAME; saved under LIB/spaces/NAME).")] = "default",
    epochs: Annotated[int, typer.Option(min=1, help="Training epochs at most.")] = 15,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    holdout: Annotated[float, typer.Option(help="Share of each label's items held out of training for 'align eval'"
                                                " (labels with 3+ items; 0: none).")] = 0.25,
    index_shards: Annotated[Optional[int], typer.Option("--index-shards", min=1, help="Shards of each modality's search index (one FAISS index per shard, results merged; 'search' reads either). Default: 1, or one per 2 GiB of vectors.")] = None,
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Train a joint emotion space between two modalities of a library and index both for search."""
    from moodbridge.jobs.align import train_space

    result = train_space(lib, modalities=(from_.value, to.value), label=label, space=space, epochs=epochs,
                         seed=seed, holdout=holdout, index_shards=index_shards)
    if as_json:
        echo_json(result.to_dict())
        return
    for note in result.notes:
        stderr(f"note: {note}")
    ma, mb = result.modalities
    n_a, n_b = len(result.train_ids[ma]), len(result.train_ids[mb])
    typer.echo(f"trained joint space {result.space!r} ({ma} <-> {mb}, label {label}) on {n_a} {ma} and {n_b} {mb}"
               f" item(s) in {result.seconds:.1f}s; {result.epochs} epoch(s)")
    if holdout > 0:
        typer.echo(f"held out {len(result.held_out_ids[ma])} {ma} and {len(result.held_out_ids[mb])} {mb} item(s)"
                   f" ({holdout:g} of each label) for 'moodbridge align eval'")
    counts = ", ".join(f"{n} {m}" for m, n in result.indexed.items())
    typer.echo(f"saved {result.files['space']}; indexed {counts}")


def _print_eval(result: AlignEvalResult) -> None:
    from moodbridge.evaluate import retrieval_table

    report, results = result.report, result.results

    fmt = "{:.3f}".format
    mods = report["modalities"]
    typer.echo(f"joint space {report['space']!r} ({' <-> '.join(mods)}), label {report['label']}")
    counts = ", ".join(f"{n} {m}" for m, n in report["items"].items())
    which = ("every labelled item (training items included)" if report["all_items"]
             else "the held-out items (not used in training)")
    typer.echo(f"evaluated on {which}: {counts}")
    macro = retrieval_table(results).rename(columns={"p@1": "P@1", "p@5": "P@5", "mrr": "MRR"})
    macro["queries"] = [report["items"][report["retrieval"][d]["query"]] for d in macro.index]
    typer.echo("\nretrieval, macro average over classes (Emo-CLIM Table 1):")
    typer.echo(macro.to_string(float_format=fmt))
    for metric in ("p@1", "p@5"):
        typer.echo(f"\nper-class {metric.upper()} (Emo-CLIM Table 5):")
        typer.echo(result.per_class_table(metric).to_string(float_format=fmt, na_rep="-"))
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
    space: Annotated[str, typer.Option(help="Name of the joint space (NAME or joint:NAME).")] = "default",
    label: Annotated[Optional[str], typer.Option(help="Label column, or 'quadrant' (default: the space's"
                                                      " training label).")] = None,
    plot: Annotated[Optional[Path], typer.Option(help="Write a t-SNE map of the joint space to this PNG.")] = None,
    as_json: JsonOpt = False,
    use_all: Annotated[bool, typer.Option("--all", help="Evaluate on every labelled item, training items"
                                                        " included.")] = False,
    seed: Annotated[int, typer.Option(help="Seed of the probe's folds and of the t-SNE.")] = 0,
) -> None:
    """Evaluate a joint space: retrieval P@1/P@5/MRR both ways and within each modality, a linear probe, a plot.

    Like Emo-CLIM's evaluation (Sec. 5.1 Tables 1 and 5, Sec. 5.2, Fig. 2), on the
    items held out by 'align train --holdout' unless --all is given.
    """
    from moodbridge.jobs.align import evaluate_space

    result = evaluate_space(lib, space=space, label=label, plot=plot, use_all=use_all, seed=seed)
    for line in result.warnings:
        stderr(f"warning: {line}")
    for line in result.notes:
        stderr(f"note: {line}")
    if as_json:
        echo_json(result.report)
    else:
        _print_eval(result)


def register(app: typer.Typer) -> None:
    """Add the ``align`` group to ``app``."""
    app.add_typer(align_app, name="align")
