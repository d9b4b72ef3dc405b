"""Job ``arc``: an emotional arc of (music, image) steps from one emotion to another, and its playlist files.

The work is :func:`moodbridge.search.arc.build_arc`; this job opens the library
and, given an output folder, writes ``arc.m3u``, ``arc.json`` and ``arc.csv``.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from moodbridge.fileio import output_folder, write_text_atomic
from moodbridge.jobs.base import JobResult, LibraryLike, using_library
from moodbridge.search.arc import Arc, build_arc

__all__ = ["ArcResult", "run_arc"]


@dataclass
class ArcResult(JobResult):
    """The arc and the files written."""

    arc: Arc | None = None

    def to_dict(self) -> dict[str, Any]:
        assert self.arc is not None
        return {**self.arc.to_dict(), "files": {k: str(v) for k, v in self.files.items()}}


def run_arc(library: LibraryLike, start: str, end: str, *, steps: int = 6, out: str | Path | None = None) -> ArcResult:
    """Build an arc (see :mod:`moodbridge.search.arc`) and, with ``out``, write its M3U, JSON and CSV files."""
    with using_library(library) as lib:
        arc = build_arc(lib, start, end, steps=steps)
    result = ArcResult(arc=arc)
    if out is not None:
        folder = output_folder(out, what="arc files")
        result.files = {
            "m3u": write_text_atomic(folder / "arc.m3u", arc.to_m3u(), what="arc playlist"),
            "json": write_text_atomic(folder / "arc.json", arc.to_json(), what="arc list"),
            "csv": write_text_atomic(folder / "arc.csv", arc.to_csv(), what="arc list"),
        }
    return result
