"""Commands ``study create|report|export``: EMID's matching study (job :mod:`moodbridge.jobs.study`)."""
from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from moodbridge.cli._common import JsonOpt, echo_json, friendly_errors

__all__ = ["register"]

study_app = typer.Typer(no_args_is_help=True, help="EMID's 4-choice matching study with real participants.")
StudyArg = Annotated[Path, typer.Argument(help="The study folder.")]


class Direction(str, Enum):
    """Trial directions (``--direction``)."""

    music_to_image = "music-to-image"
    image_to_music = "image-to-music"
    both = "both"


@study_app.command("create")
@friendly_errors
def create(
    pairs: Annotated[Path, typer.Option("--pairs", help="A 'moodbridge pair' output: the aligned condition.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="The study folder to create (must be new or empty).")],
    baseline_pairs: Annotated[Optional[Path], typer.Option("--baseline-pairs", help="A pair output made with --alpha 1: the baseline condition.")] = None,
    direction: Annotated[Direction, typer.Option(help="Which trials.")] = Direction.both,
    trials_per_category: Annotated[int, typer.Option(help="Clips per music emotion category (EMID: 7).")] = 7,
    catch_trials: Annotated[int, typer.Option(help="Attention checks: the identical image among the options.")] = 2,
    clip_seconds: Annotated[float, typer.Option(help="Length of each audio excerpt.")] = 10.0,
    catch_pass: Annotated[float, typer.Option(help="Share of catch trials a participant must pass to be kept.")] = 1.0,
    seed: Annotated[int, typer.Option(help="Seed of the trial set.")] = 0,
    as_json: JsonOpt = False,
) -> None:
    """Build the trials (EMID Sec. 4.1.2) and the audio excerpts into a study folder."""
    from moodbridge.jobs.study import create_study

    result = create_study(pairs, out, baseline_pairs=baseline_pairs, direction=direction.value,
                          trials_per_category=trials_per_category, catch_trials=catch_trials,
                          clip_seconds=clip_seconds, catch_pass=catch_pass, seed=seed)
    info = result.to_dict()
    if as_json:
        echo_json(info)
        return
    typer.echo(f"study {info['id']}: {info['trials']} trials in {info['study']}")
    for group, n in info["by_group"].items():
        typer.echo(f"  {group:<32} {n}")
    typer.echo(f"run it: moodbridge serve {info['library']} --study {info['study']}")


@study_app.command("report")
@friendly_errors
def report(
    study: StudyArg,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Folder for report.json and the plots (default STUDY/report).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Accuracy per direction, condition and category (EMID Table 3, Fig. 6), intervals, tests, exclusions."""
    from moodbridge.jobs.study import report_study

    result = report_study(study, out)
    rep = result.report
    assert rep is not None
    if as_json:
        echo_json({**rep.to_dict(), "files": {k: str(v) for k, v in result.files.items()}})
        return
    typer.echo(f"study {rep.study}: {rep.participants} participant(s), {rep.finished} finished, {rep.answers} answers")
    typer.echo(f"{'group':<34} {'n':>5} {'acc':>6} {'wilson 95%':>14} {'p>0.25':>8} {'mean':>6} {'min':>6} {'max':>6} {'var':>7}")
    for c in rep.table:
        f = (lambda x, fmt="{:.3f}": "–" if x != x else fmt.format(x))
        typer.echo(f"{c.group:<34} {c.answers:>5} {f(c.accuracy):>6} {f(c.wilson_low) + '-' + f(c.wilson_high):>14}"
                   f" {f(c.p_value, '{:.3g}'):>8} {f(c.mean):>6} {f(c.min):>6} {f(c.max):>6} {f(c.variance, '{:.4f}'):>7}")
    if rep.paired:
        p = rep.paired
        typer.echo(f"aligned vs baseline over {p['participants']} participant(s): difference {p['mean_difference']:.3f},"
                   f" Wilcoxon p {p['wilcoxon_p']:.3g}, paired t p {p['ttest_p']:.3g}")
    typer.echo(rep.exclusion_rule)
    for e in rep.excluded:
        typer.echo(f"  excluded {e['participant']}: {e['catch_passed']} of {e['catch_answered']} catch trials passed")
    for name, path in result.files.items():
        typer.echo(f"wrote {path}")


@study_app.command("export")
@friendly_errors
def export(
    study: StudyArg,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder that receives answers.csv.")],
) -> None:
    """Every answer in long format (one row per answer): answers.csv."""
    from moodbridge.jobs.study import export_answers

    result = export_answers(study, out)
    typer.echo(f"wrote {result.files['csv']}")


def register(app: typer.Typer) -> None:
    """Add the ``study`` group to ``app``."""
    app.add_typer(study_app, name="study")
