"""Command ``expand``: new music clips cut from full tracks (EMID Sec. 3.2.2), added to a library (job :mod:`moodbridge.jobs.expand`)."""
from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from moodbridge.cli._common import JsonOpt, QuietOpt, echo_json, friendly_errors, partial_exit, stderr


class ClipFormat(str, Enum):
    flac = "flac"
    wav = "wav"


@friendly_errors
def expand(
    lib: Annotated[Path, typer.Argument(help="The library folder (its audio items are the source clips).")],
    tracks: Annotated[list[Path], typer.Option("--tracks", help="Full tracks: files or folders (repeatable).")],
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Folder for the new clips (default: LIB/expanded).")] = None,
    threshold: Annotated[Optional[float], typer.Option(help="Alignment score separating the same audio (>=) from different (<); default 0.6.")] = None,
    window: Annotated[Optional[float], typer.Option(help="Window length in seconds (EMID: 5).")] = None,
    hop: Annotated[Optional[float], typer.Option(help="Window step in seconds (EMID: 1).")] = None,
    fmt: Annotated[ClipFormat, typer.Option("--format", help="Audio format of the new clips.")] = ClipFormat.flac,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only list the clips that would be cut.")] = False,
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Find clips in full tracks that sound different from the library's clips and inherit their labels."""
    from moodbridge.jobs.expand import run_expand

    result = run_expand(lib, tracks, out, threshold=threshold, window_s=window, hop_s=hop,
                        suffix=f".{fmt.value}", dry_run=dry_run, progress=not quiet and not as_json)
    report = result.report
    assert report is not None
    if as_json:
        echo_json({"tracks": len(report.located) + len(report.unmatched), "sources": result.sources,
                   "located": {str(t): [s.clip for s in v] for t, v in report.located.items()},
                   "candidates": len(report.candidates), "written": [str(w.path) for w in result.written],
                   "added": result.added, "labelled": result.labelled, "errors": result.errors,
                   "dry_run": dry_run, "files": {k: str(v) for k, v in result.files.items()}})
        partial_exit(result.partial)
        return
    typer.echo(f"scanned {len(report.located) + len(report.unmatched)} track(s) against {result.sources} clip(s): "
               f"library clips found in {len(report.located)}, in none of {len(report.unmatched)}")
    for track, located in report.located.items():
        found = ", ".join(f"{Path(s.clip).name} at {s.start_s:.1f}s ({s.score:.2f})" for s in located)
        n = sum(1 for c in report.candidates if c.track == track)
        typer.echo(f"  {track.name}: {found}; {n} new clip(s)")
    if dry_run:
        for c in report.candidates:
            typer.echo(f"  would cut {c.track.name} [{c.start_s:.1f}, {c.end_s:.1f}] s "
                       f"(score {c.score:.2f}, from {Path(c.source_clip).name})")
    else:
        typer.echo(f"cut {len(result.written)} clip(s); {result.added} added to the library, "
                   f"{result.labelled} labelled from their source clips")
    for message in result.errors:
        stderr(f"error: {message}")
    partial_exit(result.partial)


def register(app: typer.Typer) -> None:
    """Add the ``expand`` command to ``app``."""
    app.command("expand")(expand)
