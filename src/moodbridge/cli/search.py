"""Command ``search``: library items that match a file or a text (job :mod:`moodbridge.jobs.search`)."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from moodbridge.cli._common import JsonOpt, LibArg, Target, echo_json, friendly_errors

__all__ = ["register", "search"]


@friendly_errors
def search(
    lib: LibArg,
    query: Annotated[Optional[Path], typer.Argument(help="A query file: image, audio, MIDI or .txt.")] = None,
    to: Annotated[Target, typer.Option("--to", help="What to find.")] = Target.music,
    top: Annotated[int, typer.Option("--top", "-n", help="How many items.")] = 10,
    text: Annotated[Optional[str], typer.Option("--text", "-t", help="A text query instead of a file.")] = None,
    space: Annotated[Optional[str], typer.Option(help="joint:NAME (or NAME) of a joint space, or 'bridge' for the emotion heads + semantic bridge (default: newest joint space that fits, else the bridge).")] = None,
    scorer: Annotated[Optional[str], typer.Option(help="adapter:DIR: rank with a recommender from 'recommend train' (an image finds music, music finds images; a new file needs a --content adapter).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Find the library items (music, images or MIDI) closest in emotion to a file or a text."""
    from moodbridge.jobs.search import run_search

    result = run_search(lib, query, text=text, to=to.value, top=top, space=space, scorer=scorer)
    if as_json:
        echo_json(result.to_dict())
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


def register(app: typer.Typer) -> None:
    """Add ``search`` to ``app``."""
    app.command("search")(search)
