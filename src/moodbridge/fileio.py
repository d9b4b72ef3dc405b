"""Atomic file writes and output folders: a reader never sees a half-written file.

Every writer in moodbridge goes through :func:`atomic_path`: the content is
written to a hidden temporary sibling (same folder, so the final rename is
atomic on POSIX) which replaces the target only when the writer succeeded;
a failed or interrupted write leaves the old file untouched and no debris.
"""
from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from moodbridge.errors import InvalidValueError


@contextmanager
def atomic_path(path: str | Path, *, what: str = "file") -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it over ``path`` when the block succeeds.

    The temporary name keeps the suffix (``.npz``, ``.png`` …) so writers that
    look at it behave.  An ``OSError`` becomes an :class:`InvalidValueError`
    naming ``path`` and ``what`` was being written.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")
    try:
        yield tmp
        tmp.replace(path)
    except OSError as exc:
        raise InvalidValueError(f"{path}: cannot write the {what} ({exc.strerror or exc})") from None
    finally:
        tmp.unlink(missing_ok=True)


#: how moodbridge's text files carry a path whose bytes are not UTF-8 (Python holds them as surrogate escapes):
#: as those exact bytes, so that a reader using the same error handler gets the same path back
PATH_ERRORS = "surrogateescape"


def write_text_atomic(path: str | Path, text: str, *, what: str = "file") -> Path:
    """Write UTF-8 text atomically (non-UTF-8 path bytes kept as they are, :data:`PATH_ERRORS`); returns ``path``."""
    with atomic_path(path, what=what) as tmp:
        tmp.write_text(text, encoding="utf-8", errors=PATH_ERRORS)
    return Path(path)


#: the path columns of moodbridge's tables (pairs, arcs): read as Python objects, since pandas' Arrow-backed
#: strings cannot hold the surrogate escapes of non-UTF-8 bytes
PATH_COLUMNS = ("clip_path", "image_path", "path")


def read_csv_frame(path: str | Path, **kwargs: Any) -> Any:
    """A CSV that moodbridge wrote, as a pandas DataFrame, with non-UTF-8 path bytes restored exactly.

    ``kwargs`` go to :func:`pandas.read_csv`; the :data:`PATH_COLUMNS` are read as ``object`` whatever
    ``dtype`` says.
    """
    import pandas as pd

    dtype = {**dict(kwargs.pop("dtype", None) or {}), **{c: object for c in PATH_COLUMNS}}
    return pd.read_csv(path, encoding="utf-8", encoding_errors=PATH_ERRORS, dtype=dtype, **kwargs)


def write_json_atomic(path: str | Path, data: Any, *, what: str = "file") -> Path:
    """Write ``data`` as indented JSON atomically; returns ``path``."""
    return write_text_atomic(path, json.dumps(data, indent=2) + "\n", what=what)


def output_folder(path: str | Path, *, what: str = "output") -> Path:
    """Create ``path`` as a folder (with parents) or fail with one clear line if it cannot be one."""
    out = Path(path).expanduser()
    if out.exists() and not out.is_dir():
        raise InvalidValueError(f"{out}: exists and is not a folder; give a folder for the {what}")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InvalidValueError(f"{out}: cannot create the {what} folder ({exc.strerror})") from None
    return out


@contextmanager
def atomic_folder(path: str | Path, *, what: str = "folder", replace_if: Any = None) -> Iterator[Path]:
    """Yield a staging folder beside ``path``; it replaces ``path`` whole when the block succeeds.

    Parameters
    ----------
    path
        The folder to write.
    what
        What it holds, for messages.
    replace_if
        A predicate ``(Path) -> bool``: an existing ``path`` is replaced only when
        it returns true (e.g. "is a saved model"); otherwise nothing is touched and
        :class:`InvalidValueError` is raised.  ``None`` replaces any folder.

    A failed or interrupted block leaves the old folder as it was and no debris.
    """
    import shutil
    import uuid

    path = Path(path)
    if path.exists() and (not path.is_dir() or (replace_if is not None and not replace_if(path))):
        raise InvalidValueError(f"{path}: exists and is not a {what}; refusing to overwrite it")
    tag = uuid.uuid4().hex[:8]
    staging = path.with_name(f".{path.name}.tmp-{tag}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        staging.mkdir()
    except OSError as exc:
        raise InvalidValueError(f"{path}: cannot write the {what} ({exc.strerror or exc})") from None
    try:
        yield staging
        old = path.with_name(f".{path.name}.old-{tag}")
        if path.exists():
            path.rename(old)
        staging.rename(path)
        shutil.rmtree(old, ignore_errors=True)
    except OSError as exc:
        raise InvalidValueError(f"{path}: cannot write the {what} ({exc.strerror or exc})") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
