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

Measured against one IVF index and exact search in ``benchmarks/search.py
--shards`` (figures in ``docs/scale.md``).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from moodbridge.errors import InvalidValueError
from moodbridge.search.index import VectorIndex, build_index

if TYPE_CHECKING:
    from moodbridge.engine import Engine

__all__ = ["ShardedIndex", "build_sharded", "merge_top"]


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


def _build_shard(task: tuple[np.ndarray, int], options: dict[str, Any]) -> VectorIndex:
    vectors, offset = task
    return build_index(vectors, np.arange(offset, offset + len(vectors), dtype=np.int64), **options)


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

    def search(self, queries: Any, top: int = 10, *, nprobe: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Global row ids and cosine scores ``(Q, top)`` of the best items over every shard."""
        from moodbridge.engine import LocalEngine

        q = np.atleast_2d(np.asarray(queries, dtype=np.float32))
        found = dict((self.engine or LocalEngine()).map_tasks(_search_shard, self.shards, shared=(q, top, nprobe)))
        parts = [found[i] for i in range(len(self.shards))]
        return merge_top([p[0] for p in parts], [p[1] for p in parts], top)


def build_sharded(vectors: Any, *, shards: int, engine: "Engine | None" = None, **options: Any) -> ShardedIndex:
    """Split ``(N, d)`` vectors into ``shards`` consecutive shards and index each (:func:`build_index` options).

    Raises
    ------
    InvalidValueError
        On fewer than one shard or more shards than rows.
    """
    from moodbridge.engine import LocalEngine

    x = np.asarray(vectors, dtype=np.float32)
    if not 1 <= int(shards) <= len(x):
        raise InvalidValueError(f"shards must be between 1 and the {len(x)} rows, got {shards}")
    bounds = np.linspace(0, len(x), int(shards) + 1).astype(int)
    tasks = [(x[a:b], int(a)) for a, b in zip(bounds[:-1], bounds[1:])]
    built = dict((engine or LocalEngine()).map_tasks(_build_shard, tasks, shared=(options,)))
    return ShardedIndex([built[i] for i in range(len(tasks))], engine=engine)
