"""Image-sharded pairing: the top-K of EMID's pairing when the images do not fit one worker.

EMID's candidate search (Sec. 3.1.2, Eq. 1: per clip, the K images of highest
cosine ``S = X · Yᵀ``) is split both ways: the images into shards of whole
blocks of the single-machine search (:func:`~moodbridge.pairing.topk.image_shards`),
each sent once to the engine's object store, and the clips into the usual
shards of consecutive clips, streamed to every image shard.  One task computes
the partial top-K of one clip shard over one image shard
(:func:`~moodbridge.pairing.topk.partial_top_k`); the partial lists of a clip
shard are merged per clip in the search's key order (score descending, lower
image index first: :func:`moodbridge.search.sharded.merge_top`), which gives
**bit for bit** the candidates of the single-machine torch search: the same
blocks, the same matmuls, the same scores.

Every finished task is kept in the pairing checkpoint
(:meth:`~moodbridge.pairing.checkpoint.ShardCheckpoint.save_part`), so a lost
worker costs only its task and a re-run driver only the tasks in flight.

The layout is chosen by ``image_shards`` (:func:`moodbridge.pairing.pair_alphas`,
``pair --image-shards``) or, with an engine, automatically when the image
embeddings exceed :data:`IMAGE_SHARD_BYTES` (:func:`auto_image_shards`).
"""
from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

import numpy as np

from moodbridge.pairing.topk import Candidates, image_shards, partial_top_k

if TYPE_CHECKING:
    from moodbridge.engine import Engine
    from moodbridge.pairing.checkpoint import ShardCheckpoint

__all__ = ["IMAGE_SHARD_BYTES", "auto_image_shards", "sharded_candidates"]

#: Image embeddings (bytes) that one worker holds at most before the images are sharded automatically.
IMAGE_SHARD_BYTES = 2 * 2**30


def auto_image_shards(images: np.ndarray, budget: int | None = None) -> int:
    """Image shards that keep each worker's image embeddings within ``budget`` bytes
    (default :data:`IMAGE_SHARD_BYTES`; 1: no sharding)."""
    return max(1, math.ceil(images.nbytes / max(1, int(IMAGE_SHARD_BYTES if budget is None else budget))))


def _partial_task(task: tuple[int, np.ndarray], piece: tuple[np.ndarray, list[tuple[int, int]]],
                  k: int, n_images: int, memory_budget: int) -> Candidates:
    """One task: the partial top-K of one shard of clips over one shard of images."""
    _, music = task
    shard, spans = piece
    return partial_top_k(music, shard, spans, k=k, n_images=n_images, memory_budget=memory_budget)


def sharded_candidates(music: np.ndarray, images: np.ndarray, starts: Mapping[int, int], clip_shard: int, *,
                       k: int, shards: int, memory_budget: int, engine: "Engine",
                       store: "ShardCheckpoint | None" = None) -> Iterator[tuple[int, Candidates]]:
    """``(i, candidates)`` of each clip shard ``i`` of ``starts`` (its first row; ``clip_shard`` clips) as it completes.

    ``music`` and ``images`` are validated unit rows, ``k`` already checked
    against the images.  Finished tasks found in ``store`` are not rerun; a
    shard's parts are deleted from it once the caller has taken the shard.
    """
    from moodbridge.search.sharded import merge_top

    groups = image_shards(min(clip_shard, music.shape[0]), images.shape[0], k, shards, memory_budget)
    pieces = [(images[g[0][0] : g[-1][1]], g) for g in groups]
    parts: dict[int, dict[int, Candidates]] = {i: {} for i in starts}
    if store is not None:
        for i in parts:
            for j in range(len(groups)):
                found = store.load_part(i, j)
                if found is not None:
                    parts[i][j] = found
    tasks = [(i, j) for i in parts for j in range(len(groups)) if j not in parts[i]]
    items = [(j, (i, music[starts[i] : starts[i] + clip_shard])) for i, j in tasks]

    def merged(i: int) -> Candidates:
        found = [parts[i][j] for j in range(len(groups))]
        ids, scores = merge_top([c.indices for c in found], [c.scores for c in found], k)
        return Candidates(indices=ids, scores=scores, backend="torch")

    for i in [i for i in parts if len(parts[i]) == len(groups)]:  # every task of it done before a restart
        yield i, merged(i)
        if store is not None:
            store.drop_parts(i)
        del parts[i]
    for t, found in engine.map_tasks(_partial_task, items, shared=(k, images.shape[0], memory_budget),
                                     pieces=pieces):
        i, j = tasks[t]
        if store is not None:
            store.save_part(i, j, found)
        parts[i][j] = found
        if len(parts[i]) == len(groups):
            yield i, merged(i)
            if store is not None:
                store.drop_parts(i)
            del parts[i]
