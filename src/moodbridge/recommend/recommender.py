"""A trained model with its catalogue: score and recommend by path, seen vs unseen.

:class:`FittedRecommender` ties a model to the clip and image paths of its
rows.  ID models (NeuMF, BMF, SVD++, BPR-MF) have a vector only for what they
were trained on, so they **refuse** an unseen clip or image with a message
saying so; the content model (:mod:`~moodbridge.recommend.content`) scores any
clip or image whose side information is given.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from moodbridge.errors import InvalidValueError
from moodbridge.recommend.content import ContentTowers, SideInfo
from moodbridge.recommend.models.base import Recommender
from moodbridge.recommend.registry import build_model
from moodbridge.recommend.split import Split
from moodbridge.recommend.train import History, train

__all__ = ["FittedRecommender", "fit"]


@dataclass(eq=False)
class FittedRecommender:
    """A trained model, the paths of its rows and its training pairs.

    Attributes
    ----------
    model
        The trained model.
    users, items
        Clip and image paths in the model's index order.
    train_indptr, train_indices
        The training images of each clip (CSR), excluded by :meth:`recommend`.
    history
        The training history, if known.
    metrics
        Evaluation results to keep with the model (e.g. ``{"full": {...}}``).
    user_side, item_side
        Side information for content models (features + VA by path), possibly covering
        clips and images beyond the training catalogue.
    """

    model: Recommender
    users: tuple[str, ...]
    items: tuple[str, ...]
    train_indptr: np.ndarray
    train_indices: np.ndarray
    history: History | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    user_side: SideInfo | None = None
    item_side: SideInfo | None = None

    def __post_init__(self) -> None:
        self._user_row = {p: r for r, p in enumerate(self.users)}
        self._item_row = {p: r for r, p in enumerate(self.items)}

    def _rows(self, paths: Sequence[str], which: str) -> np.ndarray:
        table = self._user_row if which == "clip" else self._item_row
        rows = np.array([table.get(p, -1) for p in paths], dtype=np.int64)
        if (rows < 0).any() and not self.model.uses_content:
            first = paths[int(np.flatnonzero(rows < 0)[0])]
            raise InvalidValueError(
                f"{which} {first!r} was not in the training data of this {self.model.name!r} model "
                f"({int((rows < 0).sum())} unseen {which}(s) asked for): an ID model has no vector for it; "
                "use the content model (features + VA) or retrain with it")
        return rows

    @torch.no_grad()
    def _inputs(self, paths: Sequence[str], rows: np.ndarray, which: str) -> torch.Tensor:
        model = self.model
        assert isinstance(model, ContentTowers)
        attached = model.user_inputs if which == "clip" else model.item_inputs
        side = self.user_side if which == "clip" else self.item_side
        out = torch.empty(len(paths), attached.shape[1], device=attached.device)
        seen = rows >= 0
        out[torch.as_tensor(seen)] = attached[torch.as_tensor(rows[seen], device=attached.device)]
        if (~seen).any():
            if side is None:
                raise InvalidValueError(f"{which} {paths[int(np.flatnonzero(~seen)[0])]!r} is not in the training "
                                        f"catalogue and no {which} features were given to score it")
            new = [p for p, s in zip(paths, seen) if not s]
            out[torch.as_tensor(~seen)] = torch.as_tensor(side.matrix(new), device=attached.device)
        return out

    @torch.no_grad()
    def score(self, clips: Sequence[str], images: Sequence[str]) -> np.ndarray:
        """``(len(clips), len(images))`` scores by path.

        Raises
        ------
        InvalidValueError
            For an ID model, on a clip or image it was not trained on; for the content
            model, on one without side information.
        """
        clips, images = list(clips), list(images)
        u, i = self._rows(clips, "clip"), self._rows(images, "image")
        self.model.eval()
        if self.model.uses_content and ((u < 0).any() or (i < 0).any()):
            scores = self.model.score_inputs(self._inputs(clips, u, "clip"), self._inputs(images, i, "image"))
        else:
            dev = self.model.device()
            scores = self.model.score(torch.as_tensor(u, device=dev)[:, None], torch.as_tensor(i, device=dev)[None, :])
        return scores.cpu().numpy()

    @torch.no_grad()
    def recommend(self, clip: str, *, k: int = 10, exclude_seen: bool = True) -> list[tuple[str, float]]:
        """The ``k`` best images of the catalogue for ``clip`` (its training images left out by default)."""
        if k < 1:
            raise InvalidValueError(f"k must be >= 1, got {k}")
        u = self._rows([clip], "clip")
        self.model.eval()
        if u[0] >= 0:
            scores = self.model.score_all(torch.as_tensor(u, device=self.model.device()))[0].cpu().numpy()
            if exclude_seen:
                scores[self.train_indices[self.train_indptr[u[0]]:self.train_indptr[u[0] + 1]]] = -np.inf
        else:
            scores = self.score([clip], self.items)[0]
        top = np.argsort(-scores, kind="stable")[:k]
        return [(self.items[j], float(scores[j])) for j in top if np.isfinite(scores[j])]


def fit(name: str, split: Split, *, seed: int = 0, model_options: dict[str, Any] | None = None,
        user_side: SideInfo | None = None, item_side: SideInfo | None = None, **train_options: Any) -> FittedRecommender:
    """Build the registry model ``name`` for ``split.train``, train it, and wrap it with its catalogue.

    ``model_options`` go to the model's constructor, ``train_options`` to
    :func:`~moodbridge.recommend.train.train` (``epochs``, ``lr``, ``monitor`` …);
    ``user_side`` / ``item_side`` are the content model's inputs.
    """
    options = dict(model_options or {})
    if user_side is not None or item_side is not None:
        options.update(user_side=user_side, item_side=item_side)
    train_pairs = split.train
    model = build_model(name, train_pairs, seed=seed, **options)
    history = train(model, train_pairs, seed=seed, **train_options)
    indptr, indices = train_pairs.csr()
    return FittedRecommender(model, train_pairs.users, train_pairs.items, indptr, indices, history,
                             user_side=user_side, item_side=item_side)
