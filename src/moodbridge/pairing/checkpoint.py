"""Resumable pairing: finished shards of music clips saved in a folder (EMID pairing at scale).

A long pairing (:func:`moodbridge.pairing.pair` with ``checkpoint=``) runs over
shards of consecutive music clips; each finished shard is written here as one
``.npz`` file, atomically (temporary name, then rename), so a run that is
killed loses at most the shard in progress, and the next run with the same
inputs and parameters loads the finished shards instead of recomputing them.

The image-sharded layout (:mod:`moodbridge.pairing.sharded`) also keeps
each finished task — the partial top-K of one shard of clips over one shard
of images — as a ``part-<clips>-<images>.npz`` file, so a lost worker or
driver costs only the tasks in flight; a shard's parts are deleted once the
shard itself is saved.

A run key — a BLAKE2b hash of the embeddings, VA points and parameters — is
stored in ``checkpoint.json``; shards of another key (other inputs, other
parameters) are discarded rather than mixed in.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from moodbridge.errors import InvalidValueError
from moodbridge.fileio import atomic_path, write_json_atomic
from moodbridge.pairing.pairs import Pairing
from moodbridge.pairing.topk import Candidates

MANIFEST = "checkpoint.json"
_ARRAYS = ("clip", "image", "rank", "semantic", "emotional", "semantic_norm", "emotional_norm", "total")


def run_key(arrays: Mapping[str, np.ndarray], params: Mapping[str, Any]) -> str:
    """BLAKE2b hex digest of named arrays (shape, dtype, bytes) and JSON-able parameters."""
    h = hashlib.blake2b(digest_size=20)
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}:{a.dtype.str}:{a.shape}".encode())
        h.update(memoryview(a).cast("B"))
    h.update(json.dumps(dict(params), sort_keys=True, default=str).encode())
    return h.hexdigest()


class ShardCheckpoint:
    """Finished pairing shards of one run, in ``folder``.

    Parameters
    ----------
    folder
        Created if missing.  Shards of a different run key found there are deleted.
    key
        The run key (:func:`run_key`).
    """

    def __init__(self, folder: str | Path, key: str) -> None:
        self.folder = Path(folder).expanduser()
        if self.folder.exists() and not self.folder.is_dir():
            raise InvalidValueError(f"{self.folder}: exists and is not a folder (pairing checkpoint)")
        self.folder.mkdir(parents=True, exist_ok=True)
        self.key = key
        manifest = self.folder / MANIFEST
        old = None
        if manifest.exists():
            try:
                old = json.loads(manifest.read_text(encoding="utf-8")).get("key")
            except (OSError, ValueError):
                old = None
        if old != key:
            self.clear()
            write_json_atomic(manifest, {"format": "moodbridge-pairing-checkpoint", "key": key},
                              what="pairing checkpoint")

    def _path(self, shard: int) -> Path:
        return self.folder / f"shard-{shard:06d}.npz"

    def load(self, shard: int) -> list[Pairing] | None:
        """The saved pairings of a shard (one per α), or ``None`` if missing or unreadable."""
        path = self._path(shard)
        if not path.exists():
            return None
        try:
            with np.load(path, allow_pickle=False) as data:
                metas = json.loads(str(data["meta"]))
                return [
                    Pairing(alpha=meta["alpha"], normalisation=meta["normalisation"], metric=meta["metric"],
                            **{name: data[f"{j}_{name}"] for name in _ARRAYS})
                    for j, meta in enumerate(metas)
                ]
        except (OSError, ValueError, KeyError, TypeError):
            return None  # a damaged shard is recomputed

    def save(self, shard: int, pairings: Sequence[Pairing]) -> None:
        """Write a shard's pairings (one per α) atomically."""
        metas = json.dumps([{"alpha": p.alpha, "normalisation": p.normalisation, "metric": p.metric}
                            for p in pairings])
        arrays = {f"{j}_{name}": getattr(p, name) for j, p in enumerate(pairings) for name in _ARRAYS}
        with atomic_path(self._path(shard), what="pairing checkpoint") as tmp:
            np.savez(tmp, meta=np.array(metas), **arrays)

    def _part(self, shard: int, piece: int) -> Path:
        return self.folder / f"part-{shard:06d}-{piece:06d}.npz"

    def load_part(self, shard: int, piece: int) -> Candidates | None:
        """The saved partial top-K of clip shard ``shard`` over image shard ``piece``, or ``None``."""
        path = self._part(shard, piece)
        if not path.exists():
            return None
        try:
            with np.load(path, allow_pickle=False) as data:
                return Candidates(indices=data["indices"], scores=data["scores"], backend=str(data["backend"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None  # a damaged part is recomputed

    def save_part(self, shard: int, piece: int, candidates: Candidates) -> None:
        """Write one task's partial top-K atomically."""
        with atomic_path(self._part(shard, piece), what="pairing checkpoint") as tmp:
            np.savez(tmp, indices=candidates.indices, scores=candidates.scores, backend=np.array(candidates.backend))

    def drop_parts(self, shard: int) -> None:
        """Delete the partial top-K files of a clip shard (once the shard is saved)."""
        for p in self.folder.glob(f"part-{shard:06d}-*.npz"):
            p.unlink(missing_ok=True)

    def done(self) -> list[int]:
        """Indices of the saved shards."""
        return sorted(int(p.stem.split("-")[1]) for p in self.folder.glob("shard-*.npz"))

    def clear(self) -> None:
        """Delete every shard and the manifest (the folder stays)."""
        for p in [*self.folder.glob("shard-*.npz"), *self.folder.glob("part-*.npz"), *self.folder.glob(".shard-*"),
                  *self.folder.glob(".part-*")]:
            p.unlink(missing_ok=True)
        (self.folder / MANIFEST).unlink(missing_ok=True)
