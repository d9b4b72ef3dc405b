"""Job ``add``: decode, validate and embed media into a library, then attach labels from a CSV."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from moodbridge.errors import (
    BadNameError,
    CorruptMediaError,
    MediaError,
    MislabelledMediaError,
    UnexpectedMediaError,
    UnsupportedMediaError,
    display_path,
)
from moodbridge.jobs.base import JobResult, LibraryLike, using_library
from moodbridge.library import AddReport, LabelImport

__all__ = ["AddResult", "UploadCheck", "add_media", "attach_labels", "check_upload"]

#: the decoded form an upload is checked in, per modality (what ``add`` decodes for the default encoders)
_UPLOAD_RATES = {"audio": 16000}


@dataclass
class AddResult(JobResult):
    """What :func:`add_media` did: the add report and, when a CSV was given, the label import."""

    report: AddReport | None = None
    labels: LabelImport | None = None

    @property
    def partial(self) -> bool:
        """True when some file could not be added (the others were)."""
        return bool(self.report is not None and self.report.partial)


def add_media(
    library: LibraryLike,
    paths: Sequence[str | Path],
    *,
    encoders: Sequence[str] | None = None,
    labels: str | Path | None = None,
    path_column: str | None = None,
    label_columns: Sequence[str] | None = None,
    batch_size: int = 16,
    progress: bool = True,
    follow_links: bool = False,
    accept_damaged: bool = False,
    engine: str = "local",
    address: str | None = None,
) -> AddResult:
    """Add files and folders to a library (incremental, resumable) and optionally import labels.

    Parameters
    ----------
    library
        An open library or its folder.
    paths
        Files or folders (recursively).
    encoders
        Encoder names to run; default: every offline encoder of each item's modality.
    labels, path_column, label_columns
        A labels CSV attached after the add (see :func:`attach_labels`).
    batch_size
        Files per batch and per committed transaction.
    progress
        Show a progress bar.
    follow_links
        Follow symbolic links whose target is outside the folder being added.
    accept_damaged
        Add audio whose checksums show damage, knowingly.
    engine, address
        ``"local"`` (this process) or ``"ray"`` (a Ray Data pipeline on the cluster at
        ``address``, ``RAY_ADDRESS`` or a new local one; :mod:`moodbridge.engine`).
    """
    from moodbridge.engine import get_engine

    runner = None if engine == "local" else get_engine(engine, address=address)
    with using_library(library) as lib:
        report = lib.add(list(paths), encoders=list(encoders) if encoders else None, batch_size=batch_size,
                         progress=progress, follow_links=follow_links, accept_damaged=accept_damaged, engine=runner)
        imported = None
        if labels is not None:
            imported = lib.import_labels(labels, path_column=path_column,
                                         columns=list(label_columns) if label_columns else None)
    return AddResult(report=report, labels=imported)


def attach_labels(library: LibraryLike, csv_file: str | Path, *, path_column: str | None = None,
                  columns: Sequence[str] | None = None) -> LabelImport:
    """Attach the label columns of a CSV to the items its path column names (paths, names or stems)."""
    with using_library(library) as lib:
        return lib.import_labels(csv_file, path_column=path_column, columns=list(columns) if columns else None)


@dataclass
class UploadCheck(JobResult):
    """An upload that passed :func:`check_upload`: its name, modality, format and decoded content."""

    name: str = ""
    modality: str = ""
    format: str = ""
    path: Path | None = None
    decoded: Any = None


def _upload_name(name: str | None) -> str:
    """The client's file name as messages show it; :class:`BadNameError` for one that cannot be a file name."""
    name = name or ""
    if not name.strip() or name in (".", "..") or "/" in name or "\0" in name or len(name.encode("utf-8", "surrogateescape")) > 255:
        raise BadNameError(display_path(name) or "(no name)",
                           "an upload's name must be a non-empty file name of at most 255 bytes, without '/' or NUL")
    return name


def check_upload(path: str | Path, *, name: str | None, modality: str | None = None) -> UploadCheck:
    """Check an uploaded file as ``add`` checks a file, by content; errors name the client's ``name``.

    Parameters
    ----------
    path
        Where the server saved the upload (any name; it is renamed to the extension its content has).
    name
        The file name the client gave (only for messages; its extension is ignored).
    modality
        The modality the page takes (``"image"`` …), or ``None`` for any.

    Returns
    -------
    UploadCheck
        With ``path`` the renamed file and ``decoded`` what :func:`moodbridge.media.decode` gave.

    Raises
    ------
    MediaError
        With a ``kind`` of :data:`moodbridge.errors.REASONS`, naming ``name``.
    """
    from moodbridge.media import decode
    from moodbridge.media.sniff import detect_format, suffix_for
    from moodbridge.media.spec import InputSpec

    shown = _upload_name(name)
    path = Path(path)
    try:
        fmt = detect_format(path)
        if fmt is None:
            raise CorruptMediaError(path, "the content is not recognisable as any format moodbridge reads")
        if fmt.modality is None:
            raise MislabelledMediaError(path, f"the content is {fmt.label}, not media")
        suffix = suffix_for(fmt) if fmt.decodable else None
        if suffix is None:
            raise UnsupportedMediaError(path, f"the content is {fmt.label}, which cannot be decoded here")
        if modality is not None and fmt.modality != modality:
            raise UnsupportedMediaError(path, f"the content is {fmt.label}; this page takes {modality} files")
        renamed = path.with_suffix(suffix)
        path = path.rename(renamed)
        decoded = decode(path, InputSpec(fmt.modality, _UPLOAD_RATES.get(fmt.modality)))
    except MediaError as exc:
        raise type(exc)(shown, exc.reason) from None
    except Exception as exc:  # noqa: BLE001 - one upload never crashes the server
        raise UnexpectedMediaError(shown, f"{type(exc).__name__}: {exc} (please report this)") from exc
    return UploadCheck(name=shown, modality=fmt.modality, format=fmt.name, path=path, decoded=decoded)
