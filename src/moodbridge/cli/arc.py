"""Command ``arc``: an emotional arc of (music, image) steps (job :mod:`moodbridge.jobs.arc`)."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from moodbridge.cli._common import JsonOpt, LibArg, echo_json, friendly_errors

__all__ = ["arc", "register"]


@friendly_errors
def arc(
    lib: LibArg,
    start: Annotated[str, typer.Option("--from", help="Start emotion: a word (anxious) or valence,arousal.")],
    end: Annotated[str, typer.Option("--to", help="End emotion: a word (calm) or valence,arousal.")],
    steps: Annotated[int, typer.Option(help="Number of steps (2-64).")] = 6,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Folder for arc.m3u, arc.json and arc.csv.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Music and images whose emotions move step by step from one emotion to another (the iso principle)."""
    from moodbridge.jobs.arc import run_arc

    result = run_arc(lib, start, end, steps=steps, out=out)
    if as_json:
        echo_json(result.to_dict())
        return
    a = result.arc
    assert a is not None
    typer.echo(f"arc {a.start_label} -> {a.end_label} in {len(a.steps)} steps")
    for s in a.steps:
        m, i = s.music or {}, s.image or {}
        typer.echo(f"{s.index + 1:>3}. target {s.target[0]:+.2f},{s.target[1]:+.2f}  music {m.get('name')}"
                   f" ({m.get('valence', 0):+.2f},{m.get('arousal', 0):+.2f})  image {i.get('name')}"
                   f" ({i.get('valence', 0):+.2f},{i.get('arousal', 0):+.2f})")
    for name, path in result.files.items():
        typer.echo(f"wrote {path}")


def register(app: typer.Typer) -> None:
    """Add ``arc`` to ``app``."""
    app.command("arc")(arc)
