"""Plain matrix factorisation ``s(u, i) = p_uᵀ q_i``, trained with BPR (Rendle et al. 2009).

The tuned dot-product baseline that Rendle et al. 2020 ("Neural Collaborative
Filtering vs. Matrix Factorization Revisited") found hard to beat with NCF.
"""
from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import nn

from moodbridge.recommend.models.base import DotProductModel, init_normal

__all__ = ["BPRMF"]


class BPRMF(DotProductModel):
    """Dot-product MF: ``s(u, i) = p_uᵀ q_i`` (Rendle et al. 2009, BPR-MF).

    Parameters
    ----------
    n_users, n_items
        Clips and images.
    dim
        Factors per vector.
    init_std
        Standard deviation of the normal initialisation.
    seed
        Seeds the initialisation.
    """

    name: ClassVar[str] = "mf-bpr"
    default_loss: ClassVar[str] = "bpr"

    def __init__(self, n_users: int, n_items: int, *, dim: int = 64, init_std: float = 0.1, seed: int = 0) -> None:
        super().__init__(n_users, n_items, seed=seed)
        self.dim, self.init_std = int(dim), float(init_std)
        self.P = nn.Embedding(n_users, dim)
        self.Q = nn.Embedding(n_items, dim)
        g = self.generator()
        init_normal(self.P.weight, init_std, g)
        init_normal(self.Q.weight, init_std, g)

    def config(self) -> dict[str, Any]:
        return {**super().config(), "dim": self.dim, "init_std": self.init_std}

    def user_vectors(self, users: torch.Tensor) -> torch.Tensor:
        return self.P(users)

    def item_vectors(self, items: torch.Tensor) -> torch.Tensor:
        return self.Q(items)
