"""The one registry of recommender names → classes."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from moodbridge.errors import InvalidValueError
from moodbridge.recommend.content import ContentTowers
from moodbridge.recommend.models import BPRMF, BiasedMF, NeuMF, Recommender, SVDpp

if TYPE_CHECKING:
    from moodbridge.recommend.data import Interactions

__all__ = ["MODELS", "build_model", "model_class"]

#: Registry name → class.  EMID's three EMI-Adapters (NCF = NeuMF, BMF, SVD++), the tuned
#: BPR-MF baseline and the content-aware towers.
MODELS: dict[str, type[Recommender]] = {cls.name: cls for cls in (NeuMF, BiasedMF, SVDpp, BPRMF, ContentTowers)}


def model_class(name: str) -> type[Recommender]:
    """The class registered as ``name``; :class:`InvalidValueError` listing the known names otherwise."""
    try:
        return MODELS[name]
    except KeyError:
        raise InvalidValueError(f"unknown recommender {name!r}; known: {', '.join(MODELS)}") from None


def build_model(name: str, train: Interactions, *, seed: int = 0, **options: Any) -> Recommender:
    """Build the model ``name`` for the training pairs ``train`` (options go to its constructor)."""
    return model_class(name).build(train, seed=seed, **options)
