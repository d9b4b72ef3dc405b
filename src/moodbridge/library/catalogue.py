"""The SQLite catalogue of a library: items, labels, errors and features.

One SQLite file (``catalogue.sqlite``, WAL journal) holds everything, so a batch
of items and their features is committed in one transaction: a run killed at
any moment leaves the catalogue as it was after the last committed batch.
Features are keyed by content hash and ``encoder@version``, so identical files
share them and a new encoder version never mixes with an old one.

Paths are stored losslessly (schema 2): as the raw bytes the file system
holds (``os.fsencode``, a BLOB), so a name that is not UTF-8 (``caf\\xe9.jpg``
made on a Latin-1 system) is stored and found again exactly; the API
speaks ``str`` paths (``os.fsdecode``, surrogate escapes for such bytes) and
messages show :func:`moodbridge.errors.display_path`.  A schema-1 catalogue
(UTF-8 TEXT paths) is migrated in place, in one transaction, when opened.
"""
from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from moodbridge.errors import ItemNotFoundError, LibraryError, display_path

SCHEMA_VERSION = 2

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS items (
    id INTEGER PRIMARY KEY,
    path BLOB NOT NULL UNIQUE,
    modality TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    added_at REAL NOT NULL,
    metadata TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS items_hash ON items(content_hash);
CREATE INDEX IF NOT EXISTS items_modality ON items(modality);
CREATE TABLE IF NOT EXISTS labels (
    item_id INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    source TEXT NOT NULL,
    PRIMARY KEY (item_id, name)
);
CREATE TABLE IF NOT EXISTS errors (
    path BLOB PRIMARY KEY,
    kind TEXT NOT NULL,
    message TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS features (
    content_hash TEXT NOT NULL,
    encoder TEXT NOT NULL,
    output TEXT NOT NULL,
    dtype TEXT NOT NULL,
    shape TEXT NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (content_hash, encoder, output)
);
CREATE TABLE IF NOT EXISTS emotions (
    content_hash TEXT NOT NULL,
    head TEXT NOT NULL,
    valence REAL NOT NULL,
    arousal REAL NOT NULL,
    quadrant TEXT NOT NULL,
    taxonomy TEXT NOT NULL,
    distribution TEXT NOT NULL,
    features TEXT NOT NULL,
    PRIMARY KEY (content_hash, head)
);
"""


def path_key(path: str | os.PathLike[str]) -> bytes:
    """How a path is stored: its raw file-system bytes."""
    return os.fsencode(path)


def path_of(key: bytes | str) -> str:
    """A stored path back as ``str`` (surrogate escapes for bytes that are not UTF-8)."""
    return os.fsdecode(key) if isinstance(key, bytes) else key


@dataclass(frozen=True)
class Item:
    """One media item of a library.

    Attributes
    ----------
    id
        Stable integer id within the library.
    path
        Absolute path of the file.
    modality
        ``"image"``, ``"audio"``, ``"midi"`` or ``"text"``.
    content_hash
        SHA-256 of the file's bytes (the feature store's key).
    labels
        Imported or stored labels, name → value.
    metadata
        Free-form metadata recorded at ingestion (duration, size in pixels …).
    """

    id: int
    path: str
    modality: str
    content_hash: str
    size: int
    mtime_ns: int
    added_at: float
    metadata: dict[str, Any] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The file name."""
        return Path(self.path).name


@dataclass(frozen=True)
class ErrorRecord:
    """A file that could not be added, with the reason."""

    path: str
    kind: str
    message: str
    size: int
    mtime_ns: int


class Catalogue:
    """Access to one library's SQLite catalogue.

    Parameters
    ----------
    path
        The ``catalogue.sqlite`` file.
    create
        Create the schema if the file is new.
    """

    def __init__(self, path: str | Path, *, create: bool = False) -> None:
        self.path = Path(path)
        if not create and not self.path.exists():
            raise LibraryError(f"{self.path}: no catalogue here (run 'moodbridge init' first)")
        try:
            self._conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.execute("PRAGMA foreign_keys=ON")
            if create or self._meta("schema_version") is not None:
                self._conn.executescript(_SCHEMA)  # idempotent: adds tables newer versions introduced
            if create:
                self._conn.execute(
                    "INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', ?)",
                    (str(SCHEMA_VERSION),),
                )
            version = self._meta("schema_version")
        except sqlite3.DatabaseError as exc:
            raise LibraryError(f"{self.path}: not a moodbridge catalogue ({exc})") from exc
        if version is None:
            raise LibraryError(f"{self.path}: not a moodbridge catalogue (no schema version)")
        if int(version) > SCHEMA_VERSION:
            raise LibraryError(
                f"{self.path}: catalogue schema {version} is newer than this moodbridge ({SCHEMA_VERSION})"
            )
        if int(version) < SCHEMA_VERSION:
            self._migrate(int(version))

    def _migrate(self, version: int) -> None:
        """Bring an older catalogue to :data:`SCHEMA_VERSION` in one transaction.

        1 → 2: paths from UTF-8 TEXT to their raw bytes (``CAST(path AS BLOB)``
        is exactly ``os.fsencode`` of a UTF-8 path, the only kind schema 1 could hold).
        """
        try:
            with self.transaction() as conn:
                if version < 2:
                    conn.execute("UPDATE items SET path = CAST(path AS BLOB) WHERE typeof(path) = 'text'")
                    conn.execute("UPDATE errors SET path = CAST(path AS BLOB) WHERE typeof(path) = 'text'")
                conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION),))
        except sqlite3.DatabaseError as exc:
            raise LibraryError(f"{self.path}: cannot migrate the catalogue from schema {version} ({exc})") from exc

    # -- plumbing -----------------------------------------------------------------
    def close(self) -> None:
        """Close the connection."""
        self._conn.close()

    def _meta(self, key: str) -> str | None:
        try:
            row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        except sqlite3.OperationalError:
            return None
        return None if row is None else row[0]

    def set_meta(self, key: str, value: str) -> None:
        """Store a library-level setting."""
        self._conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    def get_meta(self, key: str) -> str | None:
        """Read a library-level setting."""
        return self._meta(key)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic write: everything inside commits together or not at all."""
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield self._conn
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    # -- items --------------------------------------------------------------------
    def upsert_item(
        self,
        conn: sqlite3.Connection,
        *,
        path: str,
        modality: str,
        content_hash: str,
        size: int,
        mtime_ns: int,
        metadata: dict[str, Any],
    ) -> int:
        """Insert or update the item at ``path`` inside an open transaction; returns its id."""
        key = path_key(path)
        conn.execute("DELETE FROM errors WHERE path = ?", (key,))
        row = conn.execute("SELECT id FROM items WHERE path = ?", (key,)).fetchone()
        meta = json.dumps(metadata, sort_keys=True)
        if row is None:
            cur = conn.execute(
                "INSERT INTO items(path, modality, content_hash, size, mtime_ns, added_at, metadata)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (key, modality, content_hash, size, mtime_ns, time.time(), meta),
            )
            return int(cur.lastrowid)
        conn.execute(
            "UPDATE items SET modality = ?, content_hash = ?, size = ?, mtime_ns = ?, metadata = ? WHERE id = ?",
            (modality, content_hash, size, mtime_ns, meta, row[0]),
        )
        return int(row[0])

    def remove_item(self, conn: sqlite3.Connection, item_id: int) -> None:
        """Delete an item and its labels inside an open transaction (features stay, keyed by hash)."""
        conn.execute("DELETE FROM labels WHERE item_id = ?", (item_id,))
        conn.execute("DELETE FROM items WHERE id = ?", (item_id,))

    def state_by_path(self, paths: Sequence[str]) -> dict[str, tuple[int, str, int, int]]:
        """``path → (id, content_hash, size, mtime_ns)`` for the paths already in the catalogue."""
        out: dict[str, tuple[int, str, int, int]] = {}
        for chunk in _chunks([path_key(p) for p in paths], 500):
            marks = ",".join("?" * len(chunk))
            for row in self._conn.execute(
                f"SELECT path, id, content_hash, size, mtime_ns FROM items WHERE path IN ({marks})", chunk
            ):
                out[path_of(row[0])] = (row[1], row[2], row[3], row[4])
        return out

    def items(self, *, modality: str | None = None) -> list[Item]:
        """All items, ordered by id, optionally of one modality."""
        sql = "SELECT id, path, modality, content_hash, size, mtime_ns, added_at, metadata FROM items"
        args: tuple[Any, ...] = ()
        if modality is not None:
            sql += " WHERE modality = ?"
            args = (modality,)
        rows = self._conn.execute(sql + " ORDER BY id", args).fetchall()
        labels = self._labels_for([r[0] for r in rows])
        return [_item_from_row(r, labels.get(r[0], {})) for r in rows]

    def item(self, ref: str | int) -> Item:
        """Find one item by id, path, file name or content-hash prefix.

        Raises
        ------
        ItemNotFoundError
            If nothing matches, or a file name / hash prefix matches several items.
        """
        sql = "SELECT id, path, modality, content_hash, size, mtime_ns, added_at, metadata FROM items"
        ref_s = str(ref)
        rows: list[Any] = []
        if ref_s.isdigit():
            rows = self._conn.execute(sql + " WHERE id = ?", (int(ref_s),)).fetchall()
        if not rows:
            rows = self._conn.execute(sql + " WHERE path = ?", (path_key(Path(ref_s).resolve()),)).fetchall()
        if not rows:  # by file name: compare the stored bytes' tail (LIKE would see text, not bytes)
            tail = path_key("/" + ref_s)
            rows = self._conn.execute(sql + " WHERE substr(path, -?) = ?", (len(tail), tail)).fetchall()
        if not rows and len(ref_s) >= 6:
            rows = self._conn.execute(sql + " WHERE content_hash LIKE ?", (f"{ref_s}%",)).fetchall()
        if not rows:
            raise ItemNotFoundError(f"no item matches '{display_path(ref_s)}'")
        if len(rows) > 1:
            names = ", ".join(display_path(path_of(r[1])) for r in rows[:5])
            raise ItemNotFoundError(f"'{display_path(ref_s)}' matches {len(rows)} items ({names} …); give the id or full path")
        return _item_from_row(rows[0], self._labels_for([rows[0][0]]).get(rows[0][0], {}))

    def count(self, *, modality: str | None = None) -> int:
        """Number of items, optionally of one modality."""
        if modality is None:
            return int(self._conn.execute("SELECT COUNT(*) FROM items").fetchone()[0])
        return int(self._conn.execute("SELECT COUNT(*) FROM items WHERE modality = ?", (modality,)).fetchone()[0])

    def counts_by_modality(self) -> dict[str, int]:
        """``modality → number of items``."""
        return dict(self._conn.execute("SELECT modality, COUNT(*) FROM items GROUP BY modality").fetchall())

    # -- labels -------------------------------------------------------------------
    def set_labels(self, conn: sqlite3.Connection, item_id: int, labels: dict[str, Any], *, source: str) -> None:
        """Store labels for an item inside an open transaction (replacing same-named ones)."""
        conn.executemany(
            "INSERT OR REPLACE INTO labels(item_id, name, value, source) VALUES (?, ?, ?, ?)",
            [(item_id, name, str(value), source) for name, value in labels.items()],
        )

    def _labels_for(self, ids: Sequence[int]) -> dict[int, dict[str, str]]:
        out: dict[int, dict[str, str]] = {}
        for chunk in _chunks(list(ids), 500):
            marks = ",".join("?" * len(chunk))
            for item_id, name, value in self._conn.execute(
                f"SELECT item_id, name, value FROM labels WHERE item_id IN ({marks})", chunk
            ):
                out.setdefault(item_id, {})[name] = value
        return out

    # -- errors -------------------------------------------------------------------
    def record_error(self, conn: sqlite3.Connection, *, path: str, kind: str, message: str, size: int, mtime_ns: int) -> None:
        """Remember that ``path`` could not be added, inside an open transaction."""
        conn.execute(
            "INSERT OR REPLACE INTO errors(path, kind, message, size, mtime_ns, at) VALUES (?, ?, ?, ?, ?, ?)",
            (path_key(path), kind, message, size, mtime_ns, time.time()),
        )

    def errors(self) -> list[ErrorRecord]:
        """Every file that failed and has not been added since."""
        rows = self._conn.execute("SELECT path, kind, message, size, mtime_ns FROM errors ORDER BY path")
        return [ErrorRecord(path_of(r[0]), *r[1:]) for r in rows]

    def error_state(self, paths: Sequence[str]) -> dict[str, ErrorRecord]:
        """Recorded errors for the given paths."""
        out: dict[str, ErrorRecord] = {}
        for chunk in _chunks([path_key(p) for p in paths], 500):
            marks = ",".join("?" * len(chunk))
            for r in self._conn.execute(
                f"SELECT path, kind, message, size, mtime_ns FROM errors WHERE path IN ({marks})", chunk
            ):
                out[path_of(r[0])] = ErrorRecord(path_of(r[0]), *r[1:])
        return out

    # -- features -----------------------------------------------------------------
    def put_features(self, conn: sqlite3.Connection, content_hash: str, encoder_key: str, outputs: dict[str, np.ndarray]) -> None:
        """Store every output of one encoder for one content hash, inside an open transaction."""
        rows = []
        for name, arr in outputs.items():
            a = np.ascontiguousarray(arr)
            rows.append((content_hash, encoder_key, name, a.dtype.str, json.dumps(list(a.shape)), a.tobytes()))
        conn.executemany(
            "INSERT OR REPLACE INTO features(content_hash, encoder, output, dtype, shape, data) VALUES (?, ?, ?, ?, ?, ?)",
            rows,
        )

    def encoded_hashes(self, encoder_key: str, hashes: Iterable[str]) -> set[str]:
        """Which of ``hashes`` already have features from ``encoder_key``."""
        found: set[str] = set()
        for chunk in _chunks(list(hashes), 500):
            marks = ",".join("?" * len(chunk))
            found.update(
                r[0]
                for r in self._conn.execute(
                    f"SELECT content_hash FROM features WHERE encoder = ? AND output = 'features'"
                    f" AND content_hash IN ({marks})",
                    (encoder_key, *chunk),
                )
            )
        return found

    def get_features(self, content_hash: str, encoder_key: str) -> dict[str, np.ndarray]:
        """All stored outputs of ``encoder_key`` for one content hash (empty if none)."""
        rows = self._conn.execute(
            "SELECT output, dtype, shape, data FROM features WHERE content_hash = ? AND encoder = ?",
            (content_hash, encoder_key),
        ).fetchall()
        return {name: _decode_array(dtype, shape, data) for name, dtype, shape, data in rows}

    def feature_matrix(self, encoder_key: str, hashes: Sequence[str], *, output: str = "features") -> np.ndarray:
        """Stack one output of ``encoder_key`` for ``hashes`` in order, ``(len(hashes), dim)``.

        Raises
        ------
        LibraryError
            If an item has no such features.
        """
        by_hash: dict[str, np.ndarray] = {}
        for chunk in _chunks(list(dict.fromkeys(hashes)), 500):
            marks = ",".join("?" * len(chunk))
            for h, dtype, shape, data in self._conn.execute(
                f"SELECT content_hash, dtype, shape, data FROM features WHERE encoder = ? AND output = ?"
                f" AND content_hash IN ({marks})",
                (encoder_key, output, *chunk),
            ):
                by_hash[h] = _decode_array(dtype, shape, data)
        missing = [h for h in hashes if h not in by_hash]
        if missing:
            raise LibraryError(f"{len(missing)} item(s) have no {output!r} from {encoder_key} (first: {missing[0][:12]})")
        if not hashes:
            return np.zeros((0, 0), dtype=np.float32)
        return np.stack([by_hash[h] for h in hashes])

    def encoders_of(self, content_hash: str) -> list[str]:
        """The encoder keys that have features for a content hash."""
        rows = self._conn.execute(
            "SELECT DISTINCT encoder FROM features WHERE content_hash = ? ORDER BY encoder", (content_hash,)
        )
        return [r[0] for r in rows]

    # -- emotions -----------------------------------------------------------------
    def put_emotion(self, conn: sqlite3.Connection, content_hash: str, estimate: Any) -> None:
        """Store an :class:`~moodbridge.affect.EmotionEstimate` for a content hash, inside a transaction."""
        conn.execute(
            "INSERT OR REPLACE INTO emotions(content_hash, head, valence, arousal, quadrant, taxonomy,"
            " distribution, features) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (content_hash, estimate.head, estimate.valence, estimate.arousal, estimate.quadrant,
             estimate.taxonomy, json.dumps(estimate.distribution), json.dumps(list(estimate.features))),
        )

    def emotion_hashes(self, head_key: str, hashes: Iterable[str]) -> set[str]:
        """Which of ``hashes`` already have an emotion from ``head_key``."""
        found: set[str] = set()
        for chunk in _chunks(list(hashes), 500):
            marks = ",".join("?" * len(chunk))
            found.update(r[0] for r in self._conn.execute(
                f"SELECT content_hash FROM emotions WHERE head = ? AND content_hash IN ({marks})", (head_key, *chunk)))
        return found

    def emotions_of(self, content_hash: str) -> list[dict[str, Any]]:
        """Every stored emotion estimate of a content hash, as plain data."""
        rows = self._conn.execute(
            "SELECT head, valence, arousal, quadrant, taxonomy, distribution, features FROM emotions"
            " WHERE content_hash = ? ORDER BY head", (content_hash,)).fetchall()
        return [{"head": h, "valence": v, "arousal": a, "quadrant": q, "taxonomy": t,
                 "distribution": json.loads(d), "features": json.loads(f)} for h, v, a, q, t, d, f in rows]

    def integrity_problems(self) -> list[str]:
        """SQLite's own integrity check plus orphan checks; empty when consistent."""
        problems = [r[0] for r in self._conn.execute("PRAGMA integrity_check") if r[0] != "ok"]
        dup = self._conn.execute("SELECT path, COUNT(*) FROM items GROUP BY path HAVING COUNT(*) > 1").fetchall()
        problems += [f"duplicate item {display_path(path_of(p))}" for p, _ in dup]
        no_feat = self._conn.execute(
            "SELECT path FROM items WHERE content_hash NOT IN (SELECT content_hash FROM features)"
        ).fetchall()
        problems += [f"item without features {display_path(path_of(p))}" for (p,) in no_feat]
        return problems


def _decode_array(dtype: str, shape: str, data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype=np.dtype(dtype)).reshape(json.loads(shape)).copy()


def _item_from_row(row: Sequence[Any], labels: dict[str, str]) -> Item:
    return Item(
        id=row[0],
        path=path_of(row[1]),
        modality=row[2],
        content_hash=row[3],
        size=row[4],
        mtime_ns=row[5],
        added_at=row[6],
        metadata=json.loads(row[7]),
        labels=labels,
    )


def _chunks(seq: list[Any], size: int) -> Iterator[list[Any]]:
    for i in range(0, len(seq), size):
        yield seq[i : i + size]
