"""moodbridge: match images and music by the emotion they evoke.

The package implements three research systems in one valence-arousal space:
EMID (emotion-aligned music-image datasets), Emo-CLIM (emotion-supervised
contrastive joint embeddings) and continuous-emotion image-to-music generation.

The entry points a user needs are here, loaded on first use (PEP 562), so
``import moodbridge`` stays cheap (no torch):

>>> import moodbridge
>>> with moodbridge.Library.create("my-lib") as lib:          # doctest: +SKIP
...     lib.add(["photos/", "music/"])
>>> moodbridge.estimate(["photo.jpg"], texts=["a quiet lake"])  # doctest: +SKIP
>>> moodbridge.pair("my-lib", "pairs/")                        # doctest: +SKIP
>>> moodbridge.search("my-lib", "photo.jpg", to="music")       # doctest: +SKIP

========================  ===============================================================================
name                      what it is
========================  ===============================================================================
``Library``               a library folder: catalogue, features, emotions
``VA``                    one point of the valence-arousal space
``estimate``              emotion of files and texts (:mod:`moodbridge.jobs.emotion`)
``pair``                  EMID pairs, dataset.json, report (:mod:`moodbridge.jobs.pair`)
``expand``                EMID music expansion (:mod:`moodbridge.jobs.expand`)
``search``                cross-modal search (:mod:`moodbridge.jobs.search`)
``train_space``           train an Emo-CLIM joint space (:mod:`moodbridge.jobs.align`)
``evaluate_space``        evaluate a joint space (:mod:`moodbridge.jobs.align`)
``train_recommender``     train an EMI-Adapter recommender (:mod:`moodbridge.jobs.recommend`)
``evaluate_recommender``  evaluate a saved recommender (:mod:`moodbridge.jobs.recommend`)
``recommend``             images for a clip, clips for an image (:mod:`moodbridge.jobs.recommend`)
``MoodbridgeError``       the base of every error moodbridge raises
========================  ===============================================================================
"""
from __future__ import annotations

import importlib
import sys
import types
from typing import Any

from moodbridge.errors import MoodbridgeError

__version__ = "0.1.0"

#: public name -> (module, attribute), imported on first access
_LAZY: dict[str, tuple[str, str]] = {
    "Library": ("moodbridge.library", "Library"),
    "VA": ("moodbridge.emotion", "VA"),
    "estimate": ("moodbridge.jobs.emotion", "estimate"),
    "pair": ("moodbridge.jobs.pair", "run_pair"),
    "generate": ("moodbridge.jobs.generate", "run_generate"),
    "slideshow": ("moodbridge.jobs.generate", "run_slideshow"),
    "expand": ("moodbridge.jobs.expand", "run_expand"),
    "search": ("moodbridge.jobs.search", "run_search"),
    "train_space": ("moodbridge.jobs.align", "train_space"),
    "evaluate_space": ("moodbridge.jobs.align", "evaluate_space"),
    "train_recommender": ("moodbridge.jobs.recommend", "train_recommender"),
    "evaluate_recommender": ("moodbridge.jobs.recommend", "evaluate_recommender"),
    "recommend": ("moodbridge.jobs.recommend", "query_recommender"),
}

__all__ = sorted(["MoodbridgeError", "__version__", *_LAZY])


def __getattr__(name: str) -> Any:
    """Load ``name`` from its module on first access (PEP 562)."""
    if name in _LAZY:
        module, attribute = _LAZY[name]
        value = getattr(importlib.import_module(module), attribute)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'moodbridge' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


class _Facade(types.ModuleType):
    """The package module: a subpackage that shares a facade name (``moodbridge.search``) does not replace it.

    Python binds an imported subpackage as an attribute of its parent; here the
    name ``search`` stays the :func:`~moodbridge.jobs.search.run_search` entry
    point, while ``from moodbridge.search import build_index`` and
    ``import moodbridge.search.index`` keep working through ``sys.modules``.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _LAZY and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Facade
