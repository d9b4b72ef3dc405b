"""Job ``add``: decode, validate and embed media into a library, then attach labels from a CSV."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from moodbridge.jobs.base import JobResult, LibraryLike, using_library
from moodbridge.library import AddReport, LabelImport

__all__ = ["AddResult", "add_media", "attach_labels"]


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
    engine, address
        ``"local"`` (this process) or ``"ray"`` (a Ray Data pipeline on the cluster at
        ``address``, ``RAY_ADDRESS`` or a new local one; :mod:`moodbridge.engine`).
    """
    from moodbridge.engine import get_engine

    runner = None if engine == "local" else get_engine(engine, address=address)
    with using_library(library) as lib:
        report = lib.add(list(paths), encoders=list(encoders) if encoders else None, batch_size=batch_size,
                         progress=progress, engine=runner)
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
