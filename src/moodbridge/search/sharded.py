"""Search at scale: one FAISS index per shard of the items, partial top-k lists merged.

A collection too large for one machine's memory (100M images × 128-d float32
is 51 GB) is split into shards of consecutive rows; each shard gets its own
:func:`~moodbridge.search.index.build_index` (IVF per shard at that scale, on
its own worker), a query goes to every shard, and the shards' top-k lists are
merged by score (ties: lower global row first) — the scatter-gather of
distributed vector search (Johnson, Douze, Jégou, IEEE Trans. Big Data 2019,
Sec. 6; the same merge as :mod:`moodbridge.pairing.topk`).  Shards are built
and searched through an engine (:mod:`moodbridge.engine`): in this process, or
one Ray task per shard with the queries in the object store.

Saved (:meth:`ShardedIndex.save`) as one manifest ``<modality>.json`` of
format :data:`SHARDED_FORMAT` naming its shards, each an ordinary saved index
``<modality>.<build>-<j>``; the manifest's rename commits a new build, then
the files of older builds are deleted.  A library's ``search`` loads either
kind (:func:`moodbridge.search.library_index.open_index`).

Measured against one IVF index and exact search in ``benchmarks/search_sharded.py``
(figures in ``docs/scale.md``).
"""
from __future__ import annotations

import contextlib
import json
import os
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from moodbridge.errors import InvalidValueError, LibraryError
from moodbridge.fileio import write_json_atomic
from moodbridge.search.index import VectorIndex, build_index, load_index

if TYPE_CHECKING:
    from moodbridge.engine import Engine

__all__ = ["SHARDED_FORMAT", "ShardedIndex", "build_sharded", "merge_top"]

#: ``format`` of a sharded index's manifest.
SHARDED_FORMAT = "moodbridge-sharded-index"


def merge_top(ids: Sequence[np.ndarray], scores: Sequence[np.ndarray], top: int) -> tuple[np.ndarray, np.ndarray]:
    """Merge per-shard ``(Q, k_s)`` id/score lists into the global top ``top`` per query.

    Missing entries (FAISS's ``-1`` ids) are dropped; among equal scores the
    lower id comes first (a stable sort on ids, then on scores).
    """
    all_ids, all_scores = np.concatenate(ids, axis=1), np.concatenate(scores, axis=1).astype(np.float32)
    all_scores = np.where(all_ids < 0, -np.inf, all_scores)
    order = np.argsort(all_ids, axis=1, kind="stable")
    all_ids, all_scores = np.take_along_axis(all_ids, order, 1), np.take_along_axis(all_scores, order, 1)
    order = np.argsort(-all_scores, axis=1, kind="stable")[:, :top]
    return np.take_along_axis(all_ids, order, 1), np.take_along_axis(all_scores, order, 1)


def _build_shard(task: tuple[np.ndarray, np.ndarray], options: dict[str, Any]) -> VectorIndex:
    vectors, ids = task
    return build_index(vectors, ids, **options)


def _search_shard(index: VectorIndex, queries: np.ndarray, top: int, nprobe: int | None) -> tuple[np.ndarray, np.ndarray]:
    return index.search(queries, top, nprobe=nprobe)


class ShardedIndex:
    """Indexes over shards of one collection, searched together (see the module docstring)."""

    def __init__(self, shards: list[VectorIndex], engine: "Engine | None" = None) -> None:
        if not shards:
            raise InvalidValueError("a sharded index needs at least one shard")
        self.shards = shards
        self.engine = engine

    def __len__(self) -> int:
        return sum(len(s) for s in self.shards)

    def __repr__(self) -> str:
        return f"ShardedIndex({len(self.shards)} shards, {len(self)} items, kind={self.shards[0].kind!r})"

    @property
    def dim(self) -> int:
        """Vector dimension."""
        return self.shards[0].dim

    @property
    def kind(self) -> str:
        """``"sharded-<kind of the shards>"`` (e.g. ``sharded-ivf``)."""
        return f"sharded-{self.shards[0].kind}"

    @property
    def modality(self) -> str:
        """Modality name (of the whole index)."""
        return str(self.shards[0].meta.get("sharded_modality", self.shards[0].modality))

    @property
    def space(self) -> str | None:
        """Joint space name, if any."""
        return self.shards[0].space

    @property
    def ids(self) -> np.ndarray:
        """Item ids of every shard, in shard order."""
        return np.concatenate([s.ids for s in self.shards])

    def search(self, queries: Any, top: int = 10, *, nprobe: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Ids and cosine scores of the best ``top`` items over every shard (as :meth:`VectorIndex.search`).

        ``(Q, k)`` for a batch, ``(k,)`` for one ``(dim,)`` query, ``k = min(top, len(self))``.
        """
        from moodbridge.engine import LocalEngine

        single = np.ndim(queries) == 1
        q = np.atleast_2d(np.asarray(queries, dtype=np.float32))
        found = dict((self.engine or LocalEngine()).map_tasks(_search_shard, self.shards, shared=(q, top, nprobe)))
        parts = [found[i] for i in range(len(self.shards))]
        ids, scores = merge_top([p[0] for p in parts], [p[1] for p in parts], min(int(top), len(self)))
        return (ids[0], scores[0]) if single else (ids, scores)

    def save(self, directory: str | Path) -> Path:
        """Write every shard, then ``<directory>/<modality>.json`` (the commit), then delete older builds' files.

        Raises
        ------
        LibraryError
            If the files cannot be written; the index saved there before stays usable.
        """
        directory = Path(directory)
        modality, build = self.modality, uuid.uuid4().hex[:8]
        names = [f"{modality}.{build}-{j:03d}" for j in range(len(self.shards))]
        saved = [VectorIndex(shard.index, shard.ids, {**shard.meta, "modality": name, "sharded_modality": modality})
                 for name, shard in zip(names, self.shards)]
        for shard in saved:
            shard.save(directory)
        manifest = directory / f"{modality}.json"
        write_json_atomic(manifest, {"format": SHARDED_FORMAT, "version": 1, "modality": modality,
                                     "space": self.space, "dim": self.dim, "count": len(self), "kind": self.kind,
                                     "shards": names}, what=f"{modality} index")
        keep = {manifest.name} | {f"{n}.json" for n in names} | {
            str(s.meta["data_file"]) for s in saved}
        for path in directory.glob(f"{modality}.*"):
            if path.name not in keep and path.suffix in (".json", ".faiss"):
                with contextlib.suppress(OSError):
                    os.unlink(path)
        return manifest

    @classmethod
    def load(cls, directory: str | Path, modality: str, *, engine: "Engine | None" = None,
             **load_kwargs: Any) -> ShardedIndex:
        """Read a sharded index saved by :meth:`save` (``load_kwargs``: as :func:`load_index`, per shard).

        Raises
        ------
        LibraryError
            If the manifest or a shard is missing or damaged.
        """
        manifest = Path(directory) / f"{modality}.json"
        try:
            meta = json.loads(manifest.read_text(encoding="utf-8"))
            names = [str(n) for n in meta["shards"]]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise LibraryError(f"{manifest}: unreadable sharded index manifest: {exc}") from None
        if meta.get("format") != SHARDED_FORMAT or not names:
            raise LibraryError(f"{manifest}: not a moodbridge sharded index manifest")
        shards = [load_index(directory, name, **load_kwargs) for name in names]
        if sum(len(s) for s in shards) != meta.get("count"):
            raise LibraryError(f"{manifest}: its shards hold {sum(len(s) for s in shards)} items, the manifest says"
                               f" {meta.get('count')}; rebuild the index")
        return cls(shards, engine=engine)


def build_sharded(vectors: Any, ids: Sequence[int] | None = None, *, shards: int, engine: "Engine | None" = None,
                  **options: Any) -> ShardedIndex:
    """Split ``(N, d)`` vectors into ``shards`` consecutive shards and index each (:func:`build_index` options).

    ``ids``: integer item id of each row (default ``0 … N-1``); results are
    merged by score, ties to the lower id.

    Raises
    ------
    InvalidValueError
        On fewer than one shard or more shards than rows, or ids that are not
        one integer per row.
    """
    from moodbridge.engine import LocalEngine

    x = np.asarray(vectors, dtype=np.float32)
    if not 1 <= int(shards) <= len(x):
        raise InvalidValueError(f"shards must be between 1 and the {len(x)} rows, got {shards}")
    all_ids = np.arange(len(x), dtype=np.int64) if ids is None else np.asarray(ids)
    if all_ids.shape != (len(x),) or not np.issubdtype(all_ids.dtype, np.integer):
        raise InvalidValueError(f"a sharded index needs one integer id per row ({len(x)} rows)")
    bounds = np.linspace(0, len(x), int(shards) + 1).astype(int)
    tasks = [(x[a:b], all_ids[a:b].astype(np.int64)) for a, b in zip(bounds[:-1], bounds[1:])]
    built = dict((engine or LocalEngine()).map_tasks(_build_shard, tasks, shared=(options,)))
    return ShardedIndex([built[i] for i in range(len(tasks))], engine=engine)
