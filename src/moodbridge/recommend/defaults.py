"""Default training settings of each recommender (``recommend train`` without ``--lr`` / ``--weight-decay``).

Chosen on a validation split cut from the training part of a real pairing
(480 4Q clips × 1,941 Emotion6 photographs, m = 3, α = 0.6; ``docs/results.md``)
by ``scripts/recommend_experiments.py --tune``: lr × weight decay on one grid
for every model (and the factor dropout of the content variants); the test
pairs never took part.  EMID trains for 50 iterations (Fig. 4), so 50 epochs.
"""
from __future__ import annotations

from typing import Any

__all__ = ["DEFAULT_EPOCHS", "TRAINING", "training_defaults"]

DEFAULT_EPOCHS = 50
#: ``{(model, content): {"lr": …, "weight_decay": …[, "id_dropout": …]}}`` (Adam; weight decay is its L2 term).
TRAINING: dict[tuple[str, bool], dict[str, float]] = {
    ("ncf", False): {"lr": 3e-2, "weight_decay": 1e-4},
    ("bmf", False): {"lr": 3e-2, "weight_decay": 1e-4},
    ("svdpp", False): {"lr": 3e-2, "weight_decay": 1e-3},
    ("mf", False): {"lr": 3e-2, "weight_decay": 1e-3},
    ("ncf", True): {"lr": 3e-3, "weight_decay": 0.0, "id_dropout": 0.5},
    ("bmf", True): {"lr": 1e-2, "weight_decay": 1e-4, "id_dropout": 0.5},
    ("svdpp", True): {"lr": 1e-2, "weight_decay": 1e-4, "id_dropout": 0.75},
    ("mf", True): {"lr": 3e-3, "weight_decay": 1e-3, "id_dropout": 0.5},
}


def training_defaults(name: str, *, content: bool = False) -> dict[str, Any]:
    """The default ``lr`` and ``weight_decay`` (and, with ``content``, ``id_dropout``) of model ``name``."""
    from moodbridge.recommend.registry import model_class

    model_class(name)  # the one unknown-name error
    return dict(TRAINING[(name, bool(content))])
