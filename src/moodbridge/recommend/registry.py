"""The registry of recommender names → classes, and of the non-learned baselines.

Names are those of the command line: ``ncf`` (NeuMF, EMID's "NCF"), ``bmf``,
``svdpp`` and ``mf`` (BPR-MF, the tuned dot-product baseline).  The
content-aware variant of each is the same class built with ``content=``
(:mod:`moodbridge.recommend.models.base`), not another name.  Baselines:
``popularity`` and ``random`` (:mod:`moodbridge.recommend.evaluate`).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from moodbridge.registry import Registry

if TYPE_CHECKING:
    from moodbridge.recommend.data import Interactions
    from moodbridge.recommend.models.base import Recommender

__all__ = ["BASELINES", "MODELS", "build_model", "model_class"]

#: EMID's three EMI-Adapters and the tuned MF baseline (their modules register them on first lookup).
MODELS: Registry[type[Recommender]] = Registry("recommender", builtins="moodbridge.recommend.models")
#: Non-learned baselines, built like models (``cls.build(train, seed=...)``).
BASELINES: Registry[type[Recommender]] = Registry("baseline", builtins="moodbridge.recommend.evaluate")


def model_class(name: str) -> type[Recommender]:
    """The class registered as ``name``; :class:`~moodbridge.errors.UnknownNameError` listing the known names otherwise."""
    return MODELS.get(name)


def build_model(name: str, train: Interactions, *, seed: int = 0, **options: Any) -> Recommender:
    """Build the model ``name`` for the training pairs ``train`` (options go to its ``build``: ``content``, ``dim`` …)."""
    return model_class(name).build(train, seed=seed, **options)
