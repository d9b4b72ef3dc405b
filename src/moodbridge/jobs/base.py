"""What every job shares: opening a library given as a folder, and the shape of a result."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from moodbridge.library import Library

__all__ = ["JobResult", "LibraryLike", "using_library"]

#: A library argument: an open library, or its folder.
LibraryLike = Library | str | Path


@contextmanager
def using_library(library: LibraryLike) -> Iterator[Library]:
    """The library itself when it is open, else the library at that folder, closed after the block."""
    if isinstance(library, Library):
        yield library
        return
    with Library.open(library) as lib:
        yield lib


@dataclass
class JobResult:
    """The files a job wrote (name → path) and notes for the user; jobs add their own fields."""

    files: dict[str, Path] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
