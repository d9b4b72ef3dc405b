"""A trained model with its catalogue: score and recommend by path, seen vs unseen.

:class:`FittedRecommender` ties a model to the clip and image paths of its
rows.  An ID model has a vector only for what it was trained on, so it
**refuses** an unseen clip or image with a message saying so; a content-aware
model (``content=``, :mod:`~moodbridge.recommend.models.base`) scores any clip
or image whose side information is given (features and VA by path), seen or
not: unseen ones are appended as rows beyond the catalogue for the call.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from moodbridge.errors import InvalidValueError
from moodbridge.recommend.content import SideInfo
from moodbridge.recommend.data import Interactions
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
        Clip and image paths in the model's index order (the training catalogue).
    train_indptr, train_indices
        The training images of each clip (CSR), excluded by :meth:`recommend`.
    history
        The training history, if known.
    metrics
        Evaluation results to keep with the model (e.g. ``{"full": {...}}``).
    user_side, item_side
        Side information for content models (features + VA by path), possibly covering
        clips and images beyond the training catalogue.
    info
        Facts saved in the manifest beside the model (the library, the feature encoders …).
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
    info: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._user_row = {p: r for r, p in enumerate(self.users)}
        self._item_row = {p: r for r, p in enumerate(self.items)}

    # -- lookups --------------------------------------------------------------------------
    def is_seen(self, path: str, which: str) -> bool:
        """Whether ``path`` is a clip (``which="clip"``) or image of the training catalogue."""
        return path in (self._user_row if which == "clip" else self._item_row)

    def _rows(self, paths: Sequence[str], which: str) -> np.ndarray:
        table = self._user_row if which == "clip" else self._item_row
        rows = np.array([table.get(p, -1) for p in paths], dtype=np.int64)
        if (rows < 0).any() and not self.model.uses_content:
            first = paths[int(np.flatnonzero(rows < 0)[0])]
            raise InvalidValueError(
                f"{which} {first!r} was not in the training data of this {self.model.name!r} model "
                f"({int((rows < 0).sum())} unseen {which}(s) asked for): an ID model has no vector for it; "
                "train the model with content (--content) to score new clips and images")
        return rows

    def _new_inputs(self, paths: Sequence[str], rows: np.ndarray, which: str) -> tuple[np.ndarray, np.ndarray | None]:
        """Rows with unseen ones renumbered past the catalogue, and the unseen ones' inputs."""
        unseen = rows < 0
        if not unseen.any():
            return rows, None
        side = self.user_side if which == "clip" else self.item_side
        new = [p for p, u in zip(paths, unseen) if u]
        if side is None:
            raise InvalidValueError(f"{which} {new[0]!r} is not in the training catalogue and no {which} "
                                    "features were given to score it")
        order = {p: k for k, p in enumerate(dict.fromkeys(new))}
        base = self.model.n_users if which == "clip" else self.model.n_items
        out = rows.copy()
        out[unseen] = [base + order[p] for p in new]
        return out, side.matrix(list(order))

    # -- scoring --------------------------------------------------------------------------
    @torch.no_grad()
    def score(self, clips: Sequence[str], images: Sequence[str]) -> np.ndarray:
        """``(len(clips), len(images))`` scores by path.

        Raises
        ------
        InvalidValueError
            For an ID model, on a clip or image it was not trained on; for a content
            model, on an unseen one without side information.
        """
        clips, images = list(clips), list(images)
        u, i = self._rows(clips, "clip"), self._rows(images, "image")
        self.model.eval()
        dev = self.model.device()
        u, new_u = self._new_inputs(clips, u, "clip") if self.model.uses_content else (u, None)
        i, new_i = self._new_inputs(images, i, "image") if self.model.uses_content else (i, None)
        if new_u is None and new_i is None:
            return self._score_rows(u, i, dev)
        with self.model.extended(new_u, new_i):
            return self._score_rows(u, i, dev)

    def _score_rows(self, u: np.ndarray, i: np.ndarray, dev: torch.device, block: int = 256) -> np.ndarray:
        items = torch.as_tensor(i, device=dev)[None, :]
        parts = [self.model.score(torch.as_tensor(u[s:s + block], device=dev)[:, None], items).cpu().numpy()
                 for s in range(0, len(u), block)]
        return np.concatenate(parts) if parts else np.zeros((0, len(i)), dtype=np.float32)

    def seen_images(self, clip: str) -> list[str]:
        """The training images of a clip (none for an unseen clip)."""
        u = self._user_row.get(clip)
        if u is None:
            return []
        return [self.items[j] for j in self.train_indices[self.train_indptr[u]:self.train_indptr[u + 1]]]

    def seen_clips(self, image: str) -> list[str]:
        """The clips paired with ``image`` in training."""
        j = self._item_row.get(image)
        if j is None:
            return []
        owners = np.repeat(np.arange(len(self.users)), np.diff(self.train_indptr))
        return [self.users[u] for u in owners[self.train_indices == j]]

    @torch.no_grad()
    def recommend(self, clip: str, *, k: int = 10, exclude_seen: bool = True,
                  candidates: Sequence[str] | None = None) -> list[tuple[str, float]]:
        """The ``k`` best images for ``clip`` (its training images left out by default).

        ``candidates``: the images to rank (default the catalogue; unseen ones need a content model).
        """
        return self._top(clip, "clip", k=k, exclude_seen=exclude_seen, candidates=candidates)

    @torch.no_grad()
    def recommend_clips(self, image: str, *, k: int = 10, exclude_seen: bool = True,
                        candidates: Sequence[str] | None = None) -> list[tuple[str, float]]:
        """The ``k`` best clips for ``image`` (the clips it was paired with in training left out by default)."""
        return self._top(image, "image", k=k, exclude_seen=exclude_seen, candidates=candidates)

    def _top(self, query: str, which: str, *, k: int, exclude_seen: bool,
             candidates: Sequence[str] | None) -> list[tuple[str, float]]:
        if k < 1:
            raise InvalidValueError(f"k must be >= 1, got {k}")
        if which == "clip":
            pool = list(self.items if candidates is None else candidates)
            scores = self.score([query], pool)[0]
            seen = set(self.seen_images(query)) if exclude_seen else set()
        else:
            pool = list(self.users if candidates is None else candidates)
            scores = self.score(pool, [query])[:, 0]
            seen = set(self.seen_clips(query)) if exclude_seen else set()
        scores = np.where([p in seen for p in pool], -np.inf, scores) if seen else scores
        top = np.argsort(-scores, kind="stable")[:k]
        return [(pool[j], float(scores[j])) for j in top if np.isfinite(scores[j])]


def fit(name: str, split: Split | Interactions, *, seed: int = 0, model_options: dict[str, Any] | None = None,
        user_side: SideInfo | None = None, item_side: SideInfo | None = None,
        **train_options: Any) -> FittedRecommender:
    """Build the registry model ``name`` for ``split.train`` (or given training pairs), train it, and wrap it.

    ``model_options`` go to the model's ``build`` (``content``, ``dim`` …),
    ``train_options`` to :func:`~moodbridge.recommend.train.train` (``epochs``,
    ``lr``, ``monitor`` …); ``user_side`` / ``item_side`` are a content model's inputs
    (they may also describe clips and images beyond the catalogue, for scoring them later).
    """
    options = dict(model_options or {})
    user_side = user_side or options.pop("user_side", None)
    item_side = item_side or options.pop("item_side", None)
    if options.get("content"):
        options.update(user_side=user_side, item_side=item_side)
    train_pairs = split.train if isinstance(split, Split) else split
    model = build_model(name, train_pairs, seed=seed, **options)
    history = train(model, train_pairs, seed=seed, **train_options)
    indptr, indices = train_pairs.csr()
    return FittedRecommender(model, train_pairs.users, train_pairs.items, indptr, indices, history,
                             user_side=user_side, item_side=item_side)
