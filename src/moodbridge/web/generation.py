"""The hook for generated music (the generation issue): a button appears once ``moodbridge.jobs.generate`` exists.

Until that job is installed the image page says "generation not installed"
and offers nothing.  The job is expected to provide
``run_generate(library, image, *, out) -> result`` with ``result.files``
holding ``"midi"`` and ``"wav"`` paths; the page then plays the WAV and
links both files.
"""
from __future__ import annotations

import importlib.util

__all__ = ["GENERATE_JOB", "generation_available"]

GENERATE_JOB = "moodbridge.jobs.generate"


def generation_available() -> bool:
    """Whether the generation job is installed."""
    try:
        return importlib.util.find_spec(GENERATE_JOB) is not None
    except (ImportError, ValueError):
        return False
