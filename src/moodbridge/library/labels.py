"""Importing labels for library items from a CSV file.

Rows are matched to items by path: first relative to the CSV's folder, then by
file name, then by file stem (so ``Song,Quadrant`` tables keyed by track id
work), each only when the match is unique.
"""
from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from moodbridge.errors import LibraryError
from moodbridge.library.catalogue import Catalogue, Item


@dataclass
class LabelImport:
    """Outcome of a label import: how many rows matched, and the rows that did not."""

    matched: int = 0
    unmatched: list[str] = field(default_factory=list)
    ambiguous: list[str] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)


def import_labels_csv(
    catalogue: Catalogue,
    csv_path: str | Path,
    *,
    path_column: str | None = None,
    columns: Sequence[str] | None = None,
) -> LabelImport:
    """Attach the columns of a CSV file as labels of the matching items.

    Parameters
    ----------
    catalogue
        The library's catalogue.
    csv_path
        A CSV file with a header row.
    path_column
        The column holding file paths, names or stems; default: the first column.
    columns
        The label columns to import; default: every other column.

    Raises
    ------
    LibraryError
        If the file cannot be read or a named column does not exist.
    """
    csv_path = Path(csv_path)
    try:
        with csv_path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            header = list(reader.fieldnames or [])
            rows = list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise LibraryError(f"{csv_path}: cannot read labels: {exc}") from exc
    if not header:
        raise LibraryError(f"{csv_path}: empty labels file (no header row)")
    key_col = path_column or header[0]
    wanted = list(columns) if columns else [c for c in header if c != key_col]
    for col in [key_col, *wanted]:
        if col not in header:
            raise LibraryError(f"{csv_path}: no column {col!r} (columns: {', '.join(header)})")

    items = catalogue.items()
    by_path = {it.path: it for it in items}
    by_name: dict[str, list[Item]] = defaultdict(list)
    by_stem: dict[str, list[Item]] = defaultdict(list)
    for it in items:
        by_name[Path(it.path).name].append(it)
        by_stem[Path(it.path).stem].append(it)

    result = LabelImport(columns=wanted)
    with catalogue.transaction() as conn:
        for row in rows:
            key = (row.get(key_col) or "").strip()
            if not key:
                continue
            candidates = _match(key, csv_path.parent, by_path, by_name, by_stem)
            if not candidates:
                result.unmatched.append(key)
                continue
            if len(candidates) > 1:
                result.ambiguous.append(key)
                continue
            labels = {c: row[c] for c in wanted if row.get(c) not in (None, "")}
            catalogue.set_labels(conn, candidates[0].id, labels, source=f"csv:{csv_path.name}")
            result.matched += 1
    return result


def _match(
    key: str,
    base: Path,
    by_path: dict[str, Item],
    by_name: dict[str, list[Item]],
    by_stem: dict[str, list[Item]],
) -> list[Item]:
    full = str((base / key).resolve())
    if full in by_path:
        return [by_path[full]]
    name = Path(key).name
    if name in by_name:
        return by_name[name]
    return by_stem.get(Path(key).stem, [])
