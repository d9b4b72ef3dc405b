"""Finding the media files under the paths a user gives to ``add``."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from moodbridge.media import modality_from_extension


@dataclass(frozen=True)
class ScanResult:
    """Files found under the given paths.

    Attributes
    ----------
    media
        ``(path, modality)`` of each file whose extension moodbridge reads, sorted, unique.
    unsupported
        Files whose extension moodbridge does not read.
    missing
        Given paths that do not exist.
    empty_folders
        Given folders with no file in them at all.
    """

    media: list[tuple[Path, str]]
    unsupported: list[Path]
    missing: list[Path]
    empty_folders: list[Path]


def scan_paths(paths: Iterable[str | Path], *, exclude: Path | None = None) -> ScanResult:
    """Walk files and folders (recursively), skipping hidden entries and ``exclude``.

    Parameters
    ----------
    paths
        Files or folders.
    exclude
        A folder never to descend into (the library's own folder).
    """
    media: dict[Path, str] = {}
    unsupported: list[Path] = []
    missing: list[Path] = []
    empty: list[Path] = []
    excluded = exclude.resolve() if exclude is not None else None
    for raw in paths:
        path = Path(raw).expanduser().resolve()
        if not path.exists():
            missing.append(path)
            continue
        files = [path] if path.is_file() else sorted(_walk(path, excluded))
        if not files:
            empty.append(path)
        for f in files:
            modality = modality_from_extension(f)
            if modality is None:
                unsupported.append(f)
            else:
                media[f] = modality
    return ScanResult(media=sorted(media.items()), unsupported=sorted(set(unsupported)), missing=missing, empty_folders=empty)


def _walk(folder: Path, excluded: Path | None) -> Iterable[Path]:
    for entry in folder.iterdir():
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            if excluded is not None and entry.resolve() == excluded:
                continue
            yield from _walk(entry, excluded)
        elif entry.is_file():
            yield entry.resolve()
