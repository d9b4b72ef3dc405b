"""A moodbridge library: a folder with a SQLite catalogue of items and their features."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from moodbridge import __version__
from moodbridge.encoders import get_encoder
from moodbridge.errors import LibraryError
from moodbridge.fileio import write_json_atomic
from moodbridge.library.catalogue import Catalogue, ErrorRecord, Item
from moodbridge.library.ingest import AddReport, EncoderChoice, add_paths
from moodbridge.library.labels import LabelImport, import_labels_csv

if TYPE_CHECKING:
    from moodbridge.engine import Engine

CATALOGUE_FILE = "catalogue.sqlite"
MANIFEST_FILE = "moodbridge-library.json"


class Library:
    """A folder holding a catalogue of media items, their labels and features.

    Use :meth:`create` or :meth:`open`; close with :meth:`close` or a ``with`` block.

    Examples
    --------
    >>> lib = Library.create("my-lib")                      # doctest: +SKIP
    >>> report = lib.add(["photos/", "music/"])             # doctest: +SKIP
    >>> [it.name for it in lib.items(modality="audio")]     # doctest: +SKIP
    """

    def __init__(self, root: Path, catalogue: Catalogue) -> None:
        self.root = root
        self.catalogue = catalogue

    # -- lifecycle ----------------------------------------------------------------
    @classmethod
    def create(cls, root: str | Path, *, exist_ok: bool = True) -> "Library":
        """Make ``root`` a library (creating the folder); open it if it already is one."""
        root = Path(root).expanduser().resolve()
        if (root / MANIFEST_FILE).exists():
            if not exist_ok:
                raise LibraryError(f"{root}: already a moodbridge library")
            return cls.open(root)
        if root.exists() and not root.is_dir():
            raise LibraryError(f"{root}: exists and is not a folder")
        root.mkdir(parents=True, exist_ok=True)
        catalogue = Catalogue(root / CATALOGUE_FILE, create=True)
        manifest = {"format": "moodbridge-library", "format_version": 1, "created_by": f"moodbridge {__version__}"}
        write_json_atomic(root / MANIFEST_FILE, manifest, what="library manifest")
        return cls(root, catalogue)

    @classmethod
    def open(cls, root: str | Path) -> "Library":
        """Open an existing library.

        Raises
        ------
        LibraryError
            If ``root`` is not a moodbridge library.
        """
        root = Path(root).expanduser().resolve()
        if not (root / MANIFEST_FILE).exists():
            raise LibraryError(f"{root}: not a moodbridge library (run 'moodbridge init {root}')")
        return cls(root, Catalogue(root / CATALOGUE_FILE))

    def close(self) -> None:
        """Close the catalogue."""
        self.catalogue.close()

    def __enter__(self) -> "Library":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- content ------------------------------------------------------------------
    def add(
        self,
        paths: Iterable[str | Path],
        *,
        encoders: Sequence[str] | None = None,
        batch_size: int = 16,
        progress: bool = True,
        annotate: bool = True,
        follow_links: bool = False,
        accept_damaged: bool = False,
        engine: "Engine | None" = None,
    ) -> AddReport:
        """Add files and folders; incremental and resumable (see :mod:`moodbridge.library.ingest`).

        Parameters
        ----------
        paths
            Files or folders.
        encoders
            Encoder names to run; default: every offline encoder for each modality.
        batch_size
            Files per batch and per committed transaction.
        progress
            Show a progress bar.
        annotate
            Store each new item's emotion from the default head of its modality
            (:mod:`moodbridge.affect`), computed from the stored features.
        follow_links, accept_damaged
            See :func:`moodbridge.library.ingest.add_paths`.
        engine
            Run decoding and encoding on this engine's workers (:mod:`moodbridge.engine`);
            only this process writes the catalogue.
        """
        choice: EncoderChoice | None = None
        if encoders is not None:
            choice = {}
            for name in encoders:
                enc = get_encoder(name)
                choice.setdefault(enc.modality, []).append(enc)
        report = add_paths(self.catalogue, paths, encoders=choice, batch_size=batch_size,
                           progress=progress, exclude=self.root, follow_links=follow_links,
                           accept_damaged=accept_damaged, engine=engine)
        if annotate:
            from moodbridge.library.annotate import annotate_items

            report.annotated = annotate_items(self.catalogue, self.items())
        return report

    def import_labels(self, csv_path: str | Path, *, path_column: str | None = None,
                      columns: Sequence[str] | None = None) -> LabelImport:
        """Attach labels from a CSV file (see :func:`moodbridge.library.labels.import_labels_csv`)."""
        return import_labels_csv(self.catalogue, csv_path, path_column=path_column, columns=columns)

    def set_labels(self, rows: Iterable[tuple[int, dict[str, Any]]], *, source: str) -> None:
        """Store labels for items by id, all in one transaction (same-named labels are replaced)."""
        with self.catalogue.transaction() as conn:
            for item_id, labels in rows:
                self.catalogue.set_labels(conn, item_id, labels, source=source)

    def items(self, *, modality: str | None = None) -> list[Item]:
        """Items ordered by id, optionally of one modality."""
        return self.catalogue.items(modality=modality)

    def item(self, ref: str | int) -> Item:
        """One item by id, path, file name or content-hash prefix."""
        return self.catalogue.item(ref)

    def emotions(self, item: Item | str | int) -> list[dict[str, Any]]:
        """Every stored emotion estimate of an item (one per head)."""
        it = item if isinstance(item, Item) else self.item(item)
        return self.catalogue.emotions_of(it.content_hash)

    def errors(self) -> list[ErrorRecord]:
        """Files that could not be added."""
        return self.catalogue.errors()

    def features(self, item: Item | str | int, encoder: str) -> dict[str, np.ndarray]:
        """Every stored output of ``encoder`` (a name) for one item."""
        it = item if isinstance(item, Item) else self.item(item)
        return self.catalogue.get_features(it.content_hash, get_encoder(encoder).key)

    def feature_matrix(self, items: Sequence[Item], encoder: str, *, output: str = "features") -> np.ndarray:
        """``(len(items), dim)`` matrix of one encoder output, in item order."""
        return self.catalogue.feature_matrix(get_encoder(encoder).key, [it.content_hash for it in items], output=output)

    def summary(self) -> dict[str, Any]:
        """Counts by modality and of errors, for ``ls`` and the demo."""
        return {
            "path": str(self.root),
            "items": self.catalogue.count(),
            "by_modality": self.catalogue.counts_by_modality(),
            "errors": len(self.catalogue.errors()),
        }
