"""Commands ``emotion`` (rate files and texts) and ``affect train|eval`` (the emotion heads)."""
from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from moodbridge.cli._common import JsonOpt, QuietOpt, echo_json, friendly_errors, partial_exit, stderr
from moodbridge.errors import display_path
from moodbridge.jobs.affect import TASK_NAMES

__all__ = ["affect_app", "register"]

affect_app = typer.Typer(no_args_is_help=True, help="Train and evaluate the emotion heads.")

Task = Enum("Task", {name: name for name in TASK_NAMES}, type=str)  # type: ignore[misc]
TASK_HELP = ", ".join(TASK_NAMES)


@friendly_errors
def emotion(
    paths: Annotated[Optional[list[Path]], typer.Argument(help="Images, audio, MIDI or .txt files.")] = None,
    text: Annotated[Optional[list[str]], typer.Option("--text", "-t", help="A text to rate (repeatable).")] = None,
    text_file: Annotated[Optional[Path], typer.Option(help="A file with one text per line.")] = None,
    caption: Annotated[Optional[list[str]], typer.Option(
        "--caption", "-c", help="A caption of an image, combined with its pixels (one per image, in order).")] = None,
    head: Annotated[Optional[list[str]], typer.Option(
        "--head", help="Use this head (name or name@version, e.g. image-va@1) for its modality (repeatable).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """Valence, arousal, quadrant and category distribution of files and texts; which head version answered."""
    from moodbridge.jobs.emotion import estimate, heads_by_modality

    result = estimate(paths or [], texts=text or [], text_file=text_file, captions=caption or [],
                      heads=heads_by_modality(head or []))
    for r in result.results:
        if as_json:
            echo_json(r.to_dict())
            continue
        if r.estimate is None:
            stderr(f"error: {r.error}")
            continue
        est = r.estimate
        top = sorted(est.distribution.items(), key=lambda kv: -kv[1])[:3]
        source = str(r.source)
        label = display_path(source) if r.kind == "path" else repr(source if len(source) < 60 else source[:57] + "...")
        typer.echo(f"{label}\n  {r.modality}: valence {est.valence:+.2f}, arousal {est.arousal:+.2f}, "
                   f"{est.quadrant}; {est.taxonomy}: " + ", ".join(f"{n} {p:.2f}" for n, p in top)
                   + f"\n  head {est.head} on {', '.join(est.features)}")
        if r.pixels is not None:
            typer.echo(f"  caption {r.caption!r}; pixels alone: valence {r.pixels.valence:+.2f}, "
                       f"arousal {r.pixels.arousal:+.2f} ({r.pixels.head})")
    partial_exit(result.failed > 0)


def _print_metrics(metrics: dict, as_json: bool) -> None:
    if as_json:
        echo_json(metrics)
        return
    for key in sorted(metrics):
        value = metrics[key]
        typer.echo(f"{key}: {value:.4g}" if isinstance(value, float) else f"{key}: {value}")


@affect_app.command("train")
@friendly_errors
def affect_train(
    task: Annotated[Task, typer.Option(help=f"The head's task: {TASK_HELP}.")],
    data: Annotated[Path, typer.Option(help="A folder laid out like ../shared/data/<task>.")],
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Folder for the new weight file (written under the shipped file name).")] = None,
    replace_shipped: Annotated[bool, typer.Option("--replace-shipped", help="Write over the head shipped inside the installed package instead of --out.")] = False,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same weights).")] = 0,
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Retrain a head on real data; prints its cross-validated metrics."""
    from moodbridge.jobs.affect import train_head

    metrics = train_head(task.value, data, out=out, replace_shipped=replace_shipped, seed=seed, progress=not quiet)
    _print_metrics(metrics, as_json)


@affect_app.command("eval")
@friendly_errors
def affect_eval(
    task: Annotated[Task, typer.Option(help=f"The head's task: {TASK_HELP}.")],
    data: Annotated[Path, typer.Option(help="A folder laid out like ../shared/data/<task>.")],
    weights: Annotated[Optional[Path], typer.Option(help="Weight file (default: the shipped one).")] = None,
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Evaluate a head on a labelled folder (flat metrics: n, head, version …)."""
    from moodbridge.jobs.affect import evaluate_head

    _print_metrics(evaluate_head(task.value, data, weights=weights, progress=not quiet), as_json)


def register(app: typer.Typer) -> None:
    """Add ``emotion`` and the ``affect`` group to ``app``."""
    app.command()(emotion)
    app.add_typer(affect_app, name="affect")
