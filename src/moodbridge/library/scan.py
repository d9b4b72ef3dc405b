"""Finding the media files under the paths a user gives to ``add``.

The walk only ever ``stat``-s what it finds; it opens nothing.  The rules:

* Only regular files are taken.  FIFOs, sockets and devices are refused as
  ``not a regular file`` wherever they appear (argument or folder), so nothing
  ever blocks on a pipe.
* A symbolic link inside a folder is followed only when its target stays inside
  the folder being added; any other link is reported by its own name
  (``x.jpg: link outside folder: points to /etc/passwd``).  ``follow_links=True``
  allows outside targets.  A broken link is reported the same way.
* Each real directory is walked once, keyed by ``(st_dev, st_ino)``, so links
  to an ancestor (or two links to each other) end at once instead of looping.
* A path given on the command line is the user's explicit choice: it is
  resolved and taken as it is (a link there is followed).
* Names are whatever bytes the file system holds; nothing here decodes them.
"""
from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from moodbridge.errors import LinkOutsideError, MediaError, display_path
from moodbridge.media import modality_from_extension
from moodbridge.media.sniff import check_regular, unreadable


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
    refused
        Entries never opened, each with its error: not a regular file, a link
        outside the folder, a broken link, an entry that cannot be stat-ed.
    """

    media: list[tuple[Path, str]]
    unsupported: list[Path]
    missing: list[Path]
    empty_folders: list[Path]
    refused: list[MediaError] = field(default_factory=list)


def scan_paths(paths: Iterable[str | Path], *, exclude: Path | None = None, follow_links: bool = False) -> ScanResult:
    """Walk files and folders (recursively), skipping hidden entries and ``exclude``.

    Parameters
    ----------
    paths
        Files or folders.
    exclude
        A folder never to descend into (the library's own folder).
    follow_links
        Also follow links whose target is outside the folder being added.
    """
    media: dict[Path, str] = {}
    unsupported: set[Path] = set()
    missing: list[Path] = []
    empty: list[Path] = []
    refused: dict[str, MediaError] = {}
    excluded = exclude.resolve() if exclude is not None else None
    for raw in paths:
        path = Path(raw).expanduser()
        try:
            path = path.resolve()
            st = path.stat()
        except FileNotFoundError:
            missing.append(path)
            continue
        except (OSError, RuntimeError) as exc:  # a loop of links, a permission
            why = exc if isinstance(exc, OSError) else OSError(errno.ELOOP, "too many levels of symbolic links")
            refused[str(path)] = unreadable(path, why)
            continue
        if stat.S_ISDIR(st.st_mode):
            walker = _Walker(path, excluded, follow_links)
            files = sorted(walker.walk(path, st))
            refused.update((e.path, e) for e in walker.refused)
            if not files and not walker.refused:
                empty.append(path)
        else:
            try:
                check_regular(path, st)
            except MediaError as exc:
                refused[str(path)] = exc
                continue
            files = [path]
        for f in files:
            modality = modality_from_extension(f)
            if modality is None:
                unsupported.add(f)
            else:
                media[f] = modality
    return ScanResult(media=sorted(media.items()), unsupported=sorted(unsupported), missing=missing,
                      empty_folders=empty, refused=[refused[k] for k in sorted(refused)])


class _Walker:
    """One folder's walk: which real directories were seen, and what was refused."""

    def __init__(self, root: Path, excluded: Path | None, follow_links: bool) -> None:
        self.root = root
        self.excluded = excluded
        self.follow_links = follow_links
        self.seen: set[tuple[int, int]] = set()
        self.refused: list[MediaError] = []

    def _inside(self, target: Path) -> bool:
        return target == self.root or self.root in target.parents

    def walk(self, folder: Path, st: os.stat_result) -> Iterator[Path]:
        """Regular files under ``folder`` (resolved paths), each real directory once."""
        if (st.st_dev, st.st_ino) in self.seen:
            return
        self.seen.add((st.st_dev, st.st_ino))
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            self.refused.append(unreadable(folder, exc))
            return
        for entry in entries:
            if entry.name.startswith("."):
                continue
            yield from self._entry(Path(entry.path), entry.is_symlink())

    def _entry(self, path: Path, is_link: bool) -> Iterator[Path]:
        target = path
        if is_link:
            try:
                target = path.resolve(strict=True)
            except (OSError, RuntimeError):
                self.refused.append(LinkOutsideError(path, f"the link is broken or loops (points to "
                                                           f"{display_path(os.readlink(path))})"))
                return
            if not self.follow_links and not self._inside(target):
                self.refused.append(LinkOutsideError(
                    path, f"points to {display_path(target)}, outside {display_path(self.root)} "
                    "(--follow-links to follow it)"))
                return
        try:
            st = target.stat()
        except OSError as exc:
            self.refused.append(unreadable(path, exc))
            return
        if stat.S_ISDIR(st.st_mode):
            if self.excluded is not None and target == self.excluded:
                return
            yield from self.walk(target, st)
            return
        try:
            check_regular(path, st)
        except MediaError as exc:
            self.refused.append(exc)
            return
        yield target
