"""Leave-one-out evaluation: full-catalogue ranking (headline) and EMID's sampled-99 protocol.

Full ranking (headline): each evaluated clip's held-out image is ranked
against **every** image of the catalogue except the clip's training images
(known positives, removed as in standard leave-one-out practice).  Chance
HR@K is about ``K / n_items``.

Sampled (secondary; EMID Table 1, after He et al. 2017): the held-out image is
ranked against the fixed sample of 99 negatives of
:func:`moodbridge.recommend.sampling.evaluation_negatives`; chance HR@10 is
0.1.  Sampled metrics are not just a rescaling of the full ones: they flatter
every model and can even reorder them (Krichene & Rendle 2020), so they are
reported only beside the full ranking.

Ties follow :mod:`moodbridge.recommend.metrics` (``"expected"`` by default).
Baselines, scored through the same code: :class:`PopularityBaseline` (images
by their number of training pairs) and :class:`RandomBaseline` (a fixed
random ranking per clip).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import torch

from moodbridge.errors import InvalidValueError
from moodbridge.recommend.data import Interactions
from moodbridge.recommend.metrics import hit_rate, ndcg, rank_counts
from moodbridge.recommend.models.base import DotProductModel, Recommender
from moodbridge.recommend.registry import BASELINES
from moodbridge.recommend.sampling import EvalNegatives
from moodbridge.recommend.split import Split

__all__ = ["BASELINES", "EvalResult", "PopularityBaseline", "RandomBaseline", "evaluate", "evaluate_full",
           "evaluate_sampled"]


@dataclass
class EvalResult:
    """Metrics of one protocol.

    Attributes
    ----------
    protocol
        ``"full"`` or ``"sampled-<n>"``.
    k, ties
        Cut-off and tie policy.
    hr, ndcg
        Means over the evaluated clips.
    n_users
        Evaluated clips.
    n_candidates
        Images each held-out image is ranked among, itself included (for ``"full"``
        the catalogue size; the clip's training images are removed from it per clip).
    per_user
        ``{"hr": …, "ndcg": …, "greater": …, "tied": …}`` arrays aligned with the split's test clips.
    """

    protocol: str
    k: int
    ties: str
    hr: float
    ndcg: float
    n_users: int
    n_candidates: int
    per_user: dict[str, np.ndarray] = field(repr=False, default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"protocol": self.protocol, "k": self.k, "ties": self.ties, f"hr@{self.k}": self.hr,
                f"ndcg@{self.k}": self.ndcg, "n_users": self.n_users, "n_candidates": self.n_candidates}


def _result(protocol: str, greater: np.ndarray, tied: np.ndarray, *, k: int, ties: str, n_candidates: int) -> EvalResult:
    hr, nd = hit_rate(greater, tied, k=k, ties=ties), ndcg(greater, tied, k=k, ties=ties)
    return EvalResult(protocol, k, ties, float(hr.mean()), float(nd.mean()), len(greater), n_candidates,
                      {"hr": hr, "ndcg": nd, "greater": greater, "tied": tied})


@torch.no_grad()
def evaluate_full(model: Recommender, split: Split, *, k: int = 10, ties: str = "expected",
                  batch_size: int = 1024) -> EvalResult:
    """Rank each held-out image among all images but the clip's training images (the headline protocol)."""
    _check_model(model, split)
    model.eval()
    device = model.device()
    indptr, indices = split.train.csr()
    users_all, targets_all = split.test_users, split.test_items
    greater, tied = np.empty(len(users_all), np.int64), np.empty(len(users_all), np.int64)
    for start in range(0, len(users_all), batch_size):
        users = users_all[start:start + batch_size]
        u = torch.as_tensor(users, device=device)
        scores = model.score_all(u)
        if torch.isnan(scores).any():
            raise InvalidValueError(f"{model.name}: NaN scores (the model diverged?)")
        lengths = indptr[users + 1] - indptr[users]
        rows = np.repeat(np.arange(len(users)), lengths)
        cols = np.concatenate([indices[indptr[a]:indptr[a + 1]] for a in users]) if len(users) else rows
        valid = torch.ones_like(scores, dtype=torch.bool)
        valid[torch.as_tensor(rows, device=device), torch.as_tensor(cols, device=device)] = False
        own = scores.gather(1, torch.as_tensor(targets_all[start:start + batch_size], device=device)[:, None])
        greater[start:start + len(users)] = ((scores > own) & valid).sum(1).cpu().numpy()
        tied[start:start + len(users)] = ((scores == own) & valid).sum(1).cpu().numpy() - 1
    return _result("full", greater, tied, k=k, ties=ties, n_candidates=split.interactions.n_items)


@torch.no_grad()
def evaluate_sampled(model: Recommender, split: Split, negatives: EvalNegatives, *, k: int = 10,
                     ties: str = "expected", batch_size: int = 4096) -> EvalResult:
    """Rank each held-out image among its fixed sampled negatives (EMID / He et al. 2017; secondary)."""
    _check_model(model, split)
    if negatives.items.shape[0] != split.n_test or negatives.pairs_fingerprint != split.interactions.pairs_fingerprint:
        raise InvalidValueError("the evaluation negatives were drawn for another split")
    model.eval()
    device = model.device()
    candidates = np.concatenate([split.test_items[:, None], negatives.items], axis=1)
    parts = []
    for start in range(0, split.n_test, batch_size):
        u = torch.as_tensor(split.test_users[start:start + batch_size], device=device)
        c = torch.as_tensor(candidates[start:start + batch_size], device=device)
        parts.append(model.score(u[:, None], c).cpu().numpy())
    scores = np.concatenate(parts) if parts else np.zeros((0, candidates.shape[1]))
    greater, tied = rank_counts(scores, np.zeros(len(scores), dtype=np.int64))
    return _result(f"sampled-{negatives.n}", greater, tied, k=k, ties=ties, n_candidates=negatives.n + 1)


def evaluate(model: Recommender, split: Split, *, negatives: EvalNegatives | None = None, k: int = 10,
             ties: str = "expected") -> dict[str, EvalResult]:
    """``{"full": …}`` and, when ``negatives`` are given, ``{"sampled": …}``."""
    out = {"full": evaluate_full(model, split, k=k, ties=ties)}
    if negatives is not None:
        out["sampled"] = evaluate_sampled(model, split, negatives, k=k, ties=ties)
    return out


def _check_model(model: Recommender, split: Split) -> None:
    inter = split.interactions
    if (model.n_users, model.n_items) != (inter.n_users, inter.n_items):
        raise InvalidValueError(f"{model.name or type(model).__name__}: built for {model.n_users} clips × "
                                f"{model.n_items} images, but the split has {inter.n_users} × {inter.n_items}")


class PopularityBaseline(Recommender):
    """Every clip gets the images ranked by their number of training pairs (ties: see metrics)."""

    name: ClassVar[str] = "popularity"

    def __init__(self, n_users: int, n_items: int, *, counts: np.ndarray | None = None, seed: int = 0) -> None:
        super().__init__(n_users, n_items, seed=seed)
        counts = np.zeros(n_items) if counts is None else np.asarray(counts)
        self.register_buffer("counts", torch.as_tensor(counts, dtype=torch.float32))

    @classmethod
    def build(cls, train: Interactions, *, seed: int = 0, **options: Any) -> PopularityBaseline:
        return cls(train.n_users, train.n_items, counts=train.item_counts(), seed=seed)

    def config(self) -> dict[str, Any]:
        return {"n_users": self.n_users, "n_items": self.n_items, "seed": self.seed}

    def score(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        users, items = torch.broadcast_tensors(users, items)
        return self.counts[items]

    def score_all(self, users: torch.Tensor) -> torch.Tensor:
        return self.counts[None, :].expand(len(users), -1)


class RandomBaseline(DotProductModel):
    """Random ranking: ``s(u, i) = ⟨a_u, b_i⟩`` with fixed seeded standard-normal vectors.

    For a given clip the images' scores are then i.i.d. normal (the ``b_i`` are
    i.i.d. Gaussian), i.e. a uniformly random ranking per clip, reproducible and
    independent of batching, at the cost of one matrix product.
    """

    name: ClassVar[str] = "random"

    def __init__(self, n_users: int, n_items: int, *, dim: int = 16, seed: int = 0) -> None:
        super().__init__(n_users, n_items, seed=seed)
        g = self.generator()
        self.register_buffer("a", torch.randn(n_users, dim, generator=g))
        self.register_buffer("b", torch.randn(n_items, dim, generator=g))

    def user_parts(self, users: torch.Tensor) -> tuple[torch.Tensor, None]:
        return self.a[users], None

    def item_parts(self, items: torch.Tensor) -> tuple[torch.Tensor, None]:
        return self.b[items], None


for _cls in (PopularityBaseline, RandomBaseline):
    BASELINES.register(_cls.name, _cls)
