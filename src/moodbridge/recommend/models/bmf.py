"""Biased matrix factorisation (Koren 2008, Eq. 3; EMID's "BMF").

``s(u, i) = μ + b_u + b_i + p_uᵀ q_i``: a global bias, a bias per clip and per
image, and a dot product of factors.  It extends :class:`~.mf.BPRMF`'s factors
with the biases.
"""
from __future__ import annotations

from typing import ClassVar

import torch
from torch import nn

from moodbridge.recommend.models.mf import BPRMF

__all__ = ["BiasedMF"]


class BiasedMF(BPRMF):
    """``s(u, i) = μ + b_u + b_i + p_uᵀ q_i`` (Koren 2008, Eq. 3). Parameters as :class:`~.mf.BPRMF`; biases start at 0."""

    name: ClassVar[str] = "bmf"
    default_loss: ClassVar[str] = "bce"

    def __init__(self, n_users: int, n_items: int, *, dim: int = 64, init_std: float = 0.1, seed: int = 0) -> None:
        super().__init__(n_users, n_items, dim=dim, init_std=init_std, seed=seed)
        self.mu = nn.Parameter(torch.zeros(()))
        self.b_user = nn.Embedding(n_users, 1)
        self.b_item = nn.Embedding(n_items, 1)
        nn.init.zeros_(self.b_user.weight)
        nn.init.zeros_(self.b_item.weight)

    def user_bias(self, users: torch.Tensor) -> torch.Tensor:
        return self.b_user(users).squeeze(-1)

    def item_bias(self, items: torch.Tensor) -> torch.Tensor:
        return self.b_item(items).squeeze(-1)

    def global_bias(self) -> torch.Tensor:
        return self.mu
