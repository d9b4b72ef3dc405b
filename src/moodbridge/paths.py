"""Where moodbridge keeps files that are not part of a library: the per-user cache."""
from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    """The cache folder: ``$MOODBRIDGE_CACHE``, else ``~/.cache/moodbridge``.

    It holds embeddings of fixed texts (class and tag names, lexicon words) and
    the libraries in which training sets are encoded once per file content.
    """
    return Path(os.environ.get("MOODBRIDGE_CACHE", Path.home() / ".cache" / "moodbridge")).expanduser()
