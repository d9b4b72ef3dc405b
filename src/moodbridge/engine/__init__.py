"""Executors behind the jobs: where the per-batch and per-shard work of a job runs.

``local`` (the default) runs everything in this process, as before; ``ray``
(:mod:`moodbridge.engine.ray_engine`, the optional ``moodbridge[ray]`` extra)
spreads it over a Ray cluster, local or existing (``address`` or
``RAY_ADDRESS``).  Ray is imported only when the ``ray`` engine is asked for.
"""
from __future__ import annotations

from moodbridge.engine.base import ENGINES, Engine, LocalEngine, get_engine

__all__ = ["ENGINES", "Engine", "LocalEngine", "get_engine"]
