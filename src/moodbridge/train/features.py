"""Encoder outputs for training and evaluating heads, cached in a moodbridge library.

Training sets go through the same pipeline as a user's files: they are added to
a library kept in a cache folder (``$MOODBRIDGE_CACHE`` or
``~/.cache/moodbridge``), so features are computed once per file content and
encoder version, and an interrupted extraction resumes.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from moodbridge.encoders import get_encoder
from moodbridge.errors import MoodbridgeError
from moodbridge.library import Library
from moodbridge.paths import cache_root


def encoder_outputs(
    paths: Sequence[str | Path],
    encoders: Sequence[str],
    *,
    cache_name: str,
    outputs: Sequence[str] | None = None,
    progress: bool = True,
) -> dict[str, dict[str, np.ndarray]]:
    """``encoder name → output name → (len(paths), k)`` for files, in the given order.

    Parameters
    ----------
    paths
        Media files (all must decode: a training set with a bad file is an error).
    encoders
        Encoder names to run.
    cache_name
        Sub-folder of :func:`cache_root` holding the cache library.
    outputs
        Which outputs to return (default: all that the encoders store).
    progress
        Show a progress bar while extracting.

    Raises
    ------
    MoodbridgeError
        If some file could not be encoded (the message lists the first ones).
    """
    resolved = [Path(p).resolve() for p in paths]
    with Library.create(cache_root() / "training" / cache_name) as lib:
        report = lib.add(resolved, encoders=list(encoders), progress=progress, annotate=False)
        if report.failed or report.known_failures:
            bad = (report.failed + report.known_failures)[:3]
            raise MoodbridgeError(
                f"{len(report.failed) + len(report.known_failures)} training file(s) failed: "
                + "; ".join(f.message for f in bad)
            )
        by_path = {it.path: it for it in lib.items()}
        items = [by_path[str(p)] for p in resolved]
        result: dict[str, dict[str, np.ndarray]] = {}
        for name in encoders:
            key = get_encoder(name).key
            sample = lib.catalogue.get_features(items[0].content_hash, key) if items else {}
            wanted = list(outputs) if outputs is not None else list(sample)
            result[name] = {
                out: lib.catalogue.feature_matrix(key, [it.content_hash for it in items], output=out)
                for out in wanted
                if out in sample
            }
    return result
