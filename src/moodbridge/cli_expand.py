"""``moodbridge expand``: new music clips cut from full tracks (EMID Sec. 3.2.2), added to a library.

Registered on the main app by :func:`register` (``moodbridge.cli`` calls it).
"""
from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer


class ClipFormat(str, Enum):
    flac = "flac"
    wav = "wav"


def register(app: typer.Typer) -> None:
    """Add the ``expand`` command to ``app``."""
    from moodbridge.cli import EXIT_PARTIAL, friendly_errors

    @app.command("expand")
    @friendly_errors
    def expand_cmd(
        lib: Annotated[Path, typer.Argument(help="The library folder (its audio items are the source clips).")],
        tracks: Annotated[list[Path], typer.Option("--tracks", "-t", help="Full tracks: files or folders (repeatable).")],
        out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Folder for the new clips (default: LIB/expanded).")] = None,
        threshold: Annotated[Optional[float], typer.Option(help="Alignment score separating the same audio (>=) from different (<); default 0.6.")] = None,
        window: Annotated[Optional[float], typer.Option(help="Window length in seconds (EMID: 5).")] = None,
        hop: Annotated[Optional[float], typer.Option(help="Window step in seconds (EMID: 1).")] = None,
        fmt: Annotated[ClipFormat, typer.Option("--format", help="Audio format of the new clips.")] = ClipFormat.flac,
        dry_run: Annotated[bool, typer.Option("--dry-run", help="Only list the clips that would be cut.")] = False,
        quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
    ) -> None:
        """Find clips in full tracks that sound different from the library's clips and inherit their labels."""
        from moodbridge.library import Library
        from moodbridge.pairing.expand_library import expand_library

        with Library.open(lib) as library:
            result = expand_library(library, tracks, out if out is not None else library.root / "expanded",
                                    threshold=threshold, window_s=window, hop_s=hop, suffix=f".{fmt.value}",
                                    dry_run=dry_run, progress=not quiet)
        report = result.report
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
            typer.echo(f"error: {message}", err=True)
        if result.partial:
            raise typer.Exit(EXIT_PARTIAL)
