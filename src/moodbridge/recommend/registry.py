"""The one registry of recommender names → classes."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from moodbridge.registry import Registry
from moodbridge.recommend.content import ContentTowers
from moodbridge.recommend.models import BPRMF, BiasedMF, NeuMF, Recommender, SVDpp

if TYPE_CHECKING:
    from moodbridge.recommend.data import Interactions

__all__ = ["MODELS", "build_model", "model_class"]

#: Registry name → class.  EMID's three EMI-Adapters (NCF = NeuMF, BMF, SVD++), the tuned
#: BPR-MF baseline and the content-aware towers.
MODELS: Registry[type[Recommender]] = Registry("recommender")
for _cls in (NeuMF, BiasedMF, SVDpp, BPRMF, ContentTowers):
    MODELS.register(_cls.name, _cls)


def model_class(name: str) -> type[Recommender]:
    """The class registered as ``name``; :class:`~moodbridge.errors.UnknownNameError` listing the known names otherwise."""
    return MODELS.get(name)


def build_model(name: str, train: Interactions, *, seed: int = 0, **options: Any) -> Recommender:
    """Build the model ``name`` for the training pairs ``train`` (options go to its constructor)."""
    return model_class(name).build(train, seed=seed, **options)
