"""A library's per-modality search indexes: one FAISS index, or shards of one for large libraries.

``align train`` embeds every item of each modality of a joint space and
indexes it (:func:`index_library`, ``LIB/indexes/<space>/<modality>.json``);
``search`` loads it (:func:`open_library_index`).  Above
:data:`INDEX_SHARD_BYTES` of vectors (or when asked: ``align train
--index-shards N``) the index is a :class:`~moodbridge.search.sharded.ShardedIndex`:
one index (IVF at that scale) per shard of the items, built on the engine's
workers, queried shard by shard and merged (``docs/scale.md``).  Its
manifest takes the place of the single index's, so ``search`` finds either.
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from moodbridge.search.index import VectorIndex, build_index, index_dir, load_index
from moodbridge.search.sharded import SHARDED_FORMAT, ShardedIndex, build_sharded

if TYPE_CHECKING:
    from moodbridge.engine import Engine

__all__ = ["INDEX_SHARD_BYTES", "auto_index_shards", "index_library", "open_index", "open_library_index"]

#: Vectors (float32 bytes) of one modality above which its index is sharded automatically, one shard per this much.
INDEX_SHARD_BYTES = 2 * 2**30


def auto_index_shards(n: int, dim: int, budget: int | None = None) -> int:
    """Shards that keep each shard's float32 vectors within ``budget`` bytes (default :data:`INDEX_SHARD_BYTES`)."""
    return max(1, math.ceil(4 * int(n) * int(dim) / max(1, int(INDEX_SHARD_BYTES if budget is None else budget))))


def index_library(
    library: Any,
    joint_space: Any,
    *,
    space: str,
    modality: str,
    encoder: str,
    head: str | None = None,
    shards: int | None = None,
    engine: "Engine | None" = None,
    **build_kwargs: Any,
) -> VectorIndex | ShardedIndex:
    """Embed every ``modality`` item of a library into a joint space, index and save them.

    Parameters
    ----------
    library
        An open :class:`~moodbridge.library.Library`.
    joint_space
        A trained :class:`~moodbridge.align.JointSpace`.
    space
        Name under which the indexes are stored (``LIB/indexes/<space>/``).
    modality
        Library modality of the items (``"image"``, ``"audio"`` …).
    encoder
        Encoder whose stored features feed the projection head.
    head
        The joint space's modality name of that head, when it differs from
        ``modality``.
    shards
        Index shards: ``None`` (default) automatic (:func:`auto_index_shards`;
        1 below :data:`INDEX_SHARD_BYTES`), 1 for one index.
    engine
        Where a sharded index's shards are built and searched (default: this process).
    **build_kwargs
        Passed to :func:`~moodbridge.search.index.build_index` (per shard).

    Returns
    -------
    VectorIndex or ShardedIndex
        The saved index; its ids are the library item ids.
    """
    items = library.items(modality=modality)
    if items:
        features = library.feature_matrix(items, encoder)
        vectors = joint_space.embed(head or modality, features)
    else:
        vectors = np.zeros((0, int(getattr(joint_space.config, "embed_dim", 128))), dtype=np.float32)
    ids = [it.id for it in items]
    count = auto_index_shards(*vectors.shape) if shards is None else int(shards)
    index: VectorIndex | ShardedIndex
    if count > 1 and len(items) >= count:
        index = build_sharded(vectors, ids, shards=count, engine=engine, modality=modality, space=space,
                              **build_kwargs)
    else:
        index = build_index(vectors, ids, modality=modality, space=space, **build_kwargs)
    index.save(index_dir(library, space))
    return index


def open_index(directory: str | Path, modality: str, **load_kwargs: Any) -> VectorIndex | ShardedIndex:
    """The ``modality`` index saved in ``directory``: a single index or a sharded one (by its manifest).

    Raises
    ------
    LibraryError
        As :func:`~moodbridge.search.index.load_index` (for each shard).
    """
    manifest = Path(directory) / f"{modality}.json"
    try:
        sharded = json.loads(manifest.read_text(encoding="utf-8")).get("format") == SHARDED_FORMAT
    except (OSError, ValueError, AttributeError):
        sharded = False  # load_index names the problem
    if sharded:
        return ShardedIndex.load(directory, modality, **load_kwargs)
    return load_index(directory, modality, **load_kwargs)


def open_library_index(library: Any, space: str, modality: str, **load_kwargs: Any) -> VectorIndex | ShardedIndex:
    """Load the ``modality`` index of joint space ``space`` from a library (see :func:`open_index`)."""
    return open_index(index_dir(library, space), modality, **load_kwargs)
